package wechat

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/photo"
	"hotline/internal/store"
)

// envelope is the outer body of a safe-mode POST. A body that carries a
// message in clear (plain mode, or compatible mode's clear copy) has
// MsgType set and is refused.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	Encrypt    string `xml:"Encrypt"`
	MsgType    string `xml:"MsgType"`
	Content    string `xml:"Content"`
}

// inbound is a decrypted message or event.
type inbound struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"` // the openid: never logged, stored only sealed
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	MsgID        int64  `xml:"MsgId"`
	MediaID      string `xml:"MediaId"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
	MenuID       string `xml:"bizmsgmenuid"`
}

type cdata struct {
	Text string `xml:",cdata"`
}

type passiveText struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata    `xml:"ToUserName"`
	FromUserName cdata    `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      cdata    `xml:"MsgType"`
	Content      cdata    `xml:"Content"`
}

type encryptedReply struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

// maxBody bounds a callback body: WeChat's messages are a few KiB.
const maxBody = 64 << 10

// maxSkew is how far a callback's timestamp may be from our clock: a
// captured request replayed later is refused even with its signature.
const maxSkew = 10 * time.Minute

// Handler serves every account's server URL, /wechat/{account}: the GET
// echo check of 公众平台 and the POSTed messages.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /wechat/{account}", s.handleEcho)
	mux.HandleFunc("POST /wechat/{account}", s.handleMessage)
	return mux
}

// handleEcho answers 公众平台's check of the server URL: echostr back,
// only under a valid signature.
func (s *Service) handleEcho(w http.ResponseWriter, r *http.Request) {
	a := s.account(r.PathValue("account"))
	q := r.URL.Query()
	if !a.crypt.verifyURL(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		s.refused.Add(1)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, q.Get("echostr"))
}

func (s *Service) refuse(w http.ResponseWriter, why string) {
	s.refused.Add(1)
	s.log.Warn("wechat: callback refused", "why", why)
	http.Error(w, "forbidden", http.StatusForbidden)
}

// handleMessage takes a POSTed message. A name no account has goes
// through the same checks against the decoy, so it is refused as a forged
// message to a real account is.
func (s *Service) handleMessage(w http.ResponseWriter, r *http.Request) {
	a := s.account(r.PathValue("account"))
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if !a.crypt.verifyURL(q.Get("signature"), ts, nonce) {
		s.refuse(w, "signature")
		return
	}
	if q.Get("encrypt_type") != "aes" {
		// Plain mode would put every message in clear on the wire and in
		// any proxy's log: set 消息加解密方式 to 安全模式.
		s.refuse(w, "plain_mode")
		return
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || s.now().Sub(time.Unix(sec, 0)).Abs() > maxSkew {
		s.refuse(w, "stale_timestamp")
		return
	}
	var env envelope
	if err := xml.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&env); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if env.MsgType != "" || env.Content != "" {
		// Compatible mode (兼容模式) sends the message in clear beside
		// the ciphertext: refused like plain mode.
		s.refuse(w, "clear_copy")
		return
	}
	if env.Encrypt == "" || !a.crypt.verifyMsg(q.Get("msg_signature"), ts, nonce, env.Encrypt) {
		s.refuse(w, "msg_signature")
		return
	}
	plain, err := a.crypt.decrypt(env.Encrypt)
	if err != nil {
		s.refuse(w, "decrypt")
		return
	}
	var in inbound
	err = xml.Unmarshal(plain, &in)
	clear(plain)
	if err != nil || in.FromUserName == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.flightsMu.Lock()
	ready := s.conv != nil
	s.flightsMu.Unlock()
	if !ready {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	reply, err := s.receive(r.Context(), a, &in)
	if err != nil {
		// Not stored: WeChat sends it again (up to three times).
		http.Error(w, "not handled", http.StatusServiceUnavailable)
		return
	}
	if reply == "" {
		io.WriteString(w, "success")
		return
	}
	out, err := s.seal(a, &in, reply)
	if err != nil {
		io.WriteString(w, "success")
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Write(out)
}

// seal wraps a passive text reply as safe mode wants it.
func (s *Service) seal(a *account, in *inbound, text string) ([]byte, error) {
	now := s.now()
	plain, err := xml.Marshal(passiveText{ToUserName: cdata{in.FromUserName}, FromUserName: cdata{in.ToUserName},
		CreateTime: now.Unix(), MsgType: cdata{"text"}, Content: cdata{text}})
	if err != nil {
		return nil, err
	}
	enc, err := a.crypt.encrypt(plain)
	clear(plain)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := strconv.FormatInt(now.UnixNano()%1e9, 10)
	return xml.Marshal(encryptedReply{Encrypt: cdata{enc}, MsgSignature: cdata{signature(a.Token, ts, nonce, enc)}, TimeStamp: ts, Nonce: cdata{nonce}})
}

// dedupeKey names a message in the store's record of handled updates:
// WeChat's MsgId for messages; for events, which have none, the peer and
// the event's time and kind, as WeChat's documents advise.
func dedupeKey(a *account, peer int64, in *inbound) string {
	if in.MsgID != 0 {
		return "wx:" + a.Name + ":" + strconv.FormatInt(in.MsgID, 10)
	}
	return "wx:" + a.Name + ":ev:" + strconv.FormatInt(peer, 36) + ":" + strconv.FormatInt(in.CreateTime, 10) + ":" + in.Event + ":" + in.EventKey
}

// receive handles one message through dialog.Apply: a message handled
// before (WeChat's retry after a lost answer, perhaps across a restart) is
// answered with the conversation's current question and applied nothing;
// a retry arriving while the first is still handled waits for it (the
// passive reply is WeChat's own: it shows the answer to one of the tries).
// Otherwise the reporter's window is reopened, the message becomes a
// dialog event, and the dialog's replies come back as the passive reply
// when ready within the budget; later ones go through the
// customer-service API. A non-nil error means nothing was stored: WeChat
// should send the message again.
func (s *Service) receive(ctx context.Context, a *account, in *inbound) (string, error) {
	s.handled.Add(1)
	peer := s.peerID(a, in.FromUserName)
	key := dedupeKey(a, peer, in)
	f, fresh := s.startFlight(key)
	if !fresh {
		s.redelivered.Add(1)
		select {
		case <-f.done:
			return f.reply, nil
		case <-time.After(s.cfg.PassiveBudget):
			return "", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	done := func(reply string) {
		f.reply = reply
		s.endFlight(key, f)
	}
	openID := in.FromUserName
	touched := make(chan error, 1)
	result := make(chan []dialog.Reply, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		result <- s.apply(a, peer, key, in, touched)
	}()
	// Until the reporter is recorded (or the message turns out to need no
	// recording), WeChat waits as long as it takes: a failure there is
	// answered 503, so that WeChat tries again.
	select {
	case err := <-touched:
		if err != nil {
			s.log.Error("wechat: reporter not recorded", "kind", errKind(err))
			done("")
			return "", err
		}
	case replies := <-result:
		// Applied before (the current question, if any), or an
		// unsubscription.
		text := render(replies)
		if len(text) > maxPassive {
			s.sendLater(a, peer, openID, replies)
			text = ""
		}
		done(text)
		return text, nil
	case <-ctx.Done():
		done("")
		return "", ctx.Err()
	}
	timer := time.NewTimer(s.cfg.PassiveBudget)
	defer timer.Stop()
	select {
	case replies := <-result:
		text := render(replies)
		if len(text) <= maxPassive {
			done(text)
			return text, nil
		}
		done("")
		s.sendLater(a, peer, openID, replies)
		return "", nil
	case <-timer.C:
		// WeChat would give up and retry: answer empty now, and send the
		// replies through the customer-service API when they are ready.
		s.deferred.Add(1)
		done("")
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.sendLater(a, peer, openID, <-result)
		}()
		return "", nil
	}
}

// touch records that the reporter wrote: the sealed openid (to reply),
// the customer-service window reopened, held replies released.
func (s *Service) touch(ctx context.Context, a *account, peer int64, openID string) error {
	sealed, err := s.vault.SealServer(openIDPurpose(peer), []byte(openID))
	if err != nil {
		return err
	}
	mac := s.vault.ChatMAC(peer)
	return s.db.Update(ctx, func(tx *store.Tx) error {
		return tx.TouchWechatPeer(peer, a.Name, sealed, mac)
	})
}

// apply runs the message through dialog.Apply and returns the replies to
// send. It runs apart from the request, so that a slow photo or a slow
// database finishes even after WeChat was answered. touched hears the
// outcome of recording the reporter, when the message gets that far.
func (s *Service) apply(a *account, peer int64, key string, in *inbound, touched chan<- error) []dialog.Reply {
	lang := hotline.LangZH // WeChat tells us no language
	var touchErr error
	out, err := dialog.Apply(s.procCtx, s.conv, s.db, dialog.Key{Channel: hotline.ChannelWechat, ChatID: peer}, key, dialog.Delivery{
		Lang: lang,
		// Only messages, the first follow and menu clicks were part of
		// the conversation.
		AskAgain: func() bool {
			return in.MsgType != "event" || in.Event == "subscribe" || in.Event == "CLICK"
		},
		Event: func(ctx context.Context) (*dialog.Event, []dialog.Reply, error) {
			if in.MsgType == "event" && in.Event == "unsubscribe" {
				return nil, nil, nil
			}
			// Recorded even if the event is not applied (outside the
			// delivery's guard): the reporter did write.
			touchErr = s.touch(s.procCtx, a, peer, in.FromUserName)
			touched <- touchErr
			if touchErr != nil {
				return nil, nil, touchErr
			}
			ev, immediate, ok := s.event(ctx, a, in, lang)
			if !ok {
				return nil, immediate, nil
			}
			return &ev, nil, nil
		},
	})
	switch {
	case out.Again || out.Duplicate:
		s.redelivered.Add(1)
	case err != nil && touchErr == nil: // a failed touch is logged by receive
		s.log.Error("wechat: conversation could not be saved", "kind", in.MsgType, "code", hotline.ErrorCode(err))
	}
	return out.Replies
}

// event maps a message to a dialog event; when there is none, it returns
// the replies to send instead (a photo that could not be fetched, a kind
// of message the hotline does not take).
func (s *Service) event(ctx context.Context, a *account, in *inbound, lang hotline.Lang) (dialog.Event, []dialog.Reply, bool) {
	ev := dialog.Event{Lang: lang, School: a.School}
	switch in.MsgType {
	case "text":
		if in.MenuID != "" {
			ev.Kind, ev.Choice = dialog.EventChoice, in.MenuID
		} else {
			ev.Kind, ev.Text = dialog.EventText, in.Content
		}
	case "image":
		cctx, cancel := context.WithTimeout(ctx, 2*s.cfg.CallTimeout)
		data, err := a.client.media(cctx, in.MediaID)
		cancel()
		var cleaned *hotline.Photo
		if err == nil {
			cleaned, err = photo.CleanContext(ctx, data)
			clear(data)
		}
		if err != nil {
			msg := txtPhotoFailed.In(lang)
			if code := hotline.ErrorCode(err); code == hotline.ETOOLARGE || code == hotline.EINVALID {
				msg = hotline.ErrorMessage(err, lang)
			} else {
				s.log.Warn("wechat: photo not fetched", "kind", errKind(err))
			}
			return ev, []dialog.Reply{{Kind: dialog.ReplyError, Text: msg}}, false
		}
		ev.Kind, ev.Photo = dialog.EventPhoto, cleaned
	case "event":
		switch in.Event {
		case "subscribe":
			ev.Kind, ev.Command = dialog.EventCommand, "start"
		case "CLICK":
			switch in.EventKey {
			case MenuReport:
				ev.Kind, ev.Command = dialog.EventCommand, "new"
			case MenuStatus:
				ev.Kind, ev.Command = dialog.EventCommand, "status"
			case MenuSOS:
				ev.Kind, ev.Command = dialog.EventCommand, "sos"
			default:
				return ev, nil, false
			}
		default:
			return ev, nil, false
		}
	default:
		return ev, []dialog.Reply{{Kind: dialog.ReplyText, Text: txtUnsupported.In(lang)}}, false
	}
	return ev, nil, true
}

// sendLater sends replies through the customer-service API, in order
// behind the peer's earlier ones. These are the dialog's answers, not
// counselors' replies (those go through the relay's durable outbox).
func (s *Service) sendLater(a *account, peer int64, openID string, replies []dialog.Reply) {
	if len(replies) == 0 {
		return
	}
	unlock := s.lockPeer(peer)
	defer unlock()
	for _, part := range renderParts(replies) {
		err := s.retry(s.procCtx, func(ctx context.Context) error {
			if part.photo != nil {
				return a.client.sendImage(ctx, openID, part.photo.Data, part.photo.Type)
			}
			return a.client.sendText(ctx, openID, part.text)
		})
		if err != nil {
			s.log.Warn("wechat: answer not sent", "kind", errKind(err))
			return
		}
	}
}

// retry calls fn with a per-call deadline, a few times for transient
// failures (network, 5xx, -1 busy).
func (s *Service) retry(ctx context.Context, fn func(context.Context) error) error {
	var err error
	for attempt := range 4 {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		err = fn(cctx)
		cancel()
		if err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(250<<attempt) * time.Millisecond):
		}
	}
	return err
}

func transient(err error) bool {
	var se *statusError
	switch {
	case apiCode(err) == codeBusy:
		return true
	case apiCode(err) != 0:
		return false
	case errors.As(err, &se):
		return se.code >= 500 || se.code == http.StatusTooManyRequests
	}
	return errors.Is(err, errNetwork) || errors.Is(err, ErrGarbled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *Service) startFlight(key string) (*flight, bool) {
	s.flightsMu.Lock()
	defer s.flightsMu.Unlock()
	if f, ok := s.flights[key]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	s.flights[key] = f
	return f, true
}

func (s *Service) endFlight(key string, f *flight) {
	s.flightsMu.Lock()
	defer s.flightsMu.Unlock()
	if s.flights[key] == f {
		delete(s.flights, key)
		close(f.done)
	}
}
