package webchat

// Dispatch: what each client frame does — hello, seen, and the messages
// that are applied exactly once through the conversation engine and the
// reporter's thread.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

var codeTexts = map[string]hotline.Label{
	codeBadJSON:       {ZH: "收到的数据格式不对，这条没有处理。", EN: "That frame was not valid JSON; it was not processed."},
	codeBadVersion:    {ZH: "页面版本太旧了，请刷新页面。", EN: "This page is out of date; please reload it."},
	codeBadType:       {ZH: "不认识这种消息。", EN: "Unknown message type."},
	codeBadID:         {ZH: "消息缺少编号，没有处理。", EN: "The message has no valid id; it was not processed."},
	codeInvalidUTF8:   hotline.ErrInvalidUTF8.Message,
	codeTooLarge:      {ZH: "这条消息太大了，没有发送。文字最多 4000 字，照片最多 10 MB。", EN: "That message is too large and was not sent. Text is at most 4000 characters, photos at most 10 MB."},
	codeRateLimited:   hotline.ErrRateLimited.Message,
	codeHelloFirst:    {ZH: "连接还没准备好，请稍等。", EN: "The connection is not ready yet; please wait."},
	codeBadSession:    {ZH: "这个对话打不开了，请刷新页面。", EN: "This conversation can't be opened; please reload the page."},
	codeReceiptInText: hotline.ErrReceiptInText.Message,
	codeBadReceipt:    hotline.ErrReceiptTypo.Message,
	codeBadPhoto:      hotline.ErrPhotoInvalid.Message,
	codeBusy:          {ZH: "现在人有点多，请稍等片刻再试。你写的内容不会丢。", EN: "We are busy right now; please try again in a moment. Nothing you wrote is lost."},
	codeUnavailable:   {ZH: "网页聊天暂时不可用。", EN: "The web chat is unavailable right now."},
	codeReplaced:      {ZH: "这个对话在另一个窗口打开了。", EN: "This conversation was opened in another window."},
}

func (c *wsConn) errorFrame(id, code string) outFrame {
	return outFrame{Type: "error", ID: id, Code: code, Text: codeTexts[code].In(c.language())}
}

// refuse answers a frame it could not accept. Clients that keep sending
// such frames are cut off.
func (c *wsConn) refuse(id, code string) {
	c.direct(c.errorFrame(id, code))
	c.strikes++
	if c.strikes > maxStrikes {
		c.closeWith(websocket.ClosePolicyViolation, code)
	}
}

func (c *wsConn) handleText(b []byte) {
	if !utf8.Valid(b) {
		// encoding/json would quietly turn invalid bytes into U+FFFD.
		c.refuse("", codeInvalidUTF8)
		return
	}
	var f inFrame
	if err := json.Unmarshal(b, &f); err != nil {
		c.refuse("", codeBadJSON)
		return
	}
	if f.V != protocolVersion {
		c.refuse(f.ID, codeBadVersion)
		return
	}
	switch f.Type {
	case "hello":
		c.hello(&f)
		return
	case "seen":
		if c.sess != nil {
			c.sess.confirm(f.Seq)
		}
		return
	case "text", "choice", "command", "resume", "sync":
	default:
		c.refuse(f.ID, codeBadType)
		return
	}
	if c.sess == nil {
		c.refuse(f.ID, codeHelloFirst)
		return
	}
	if !validID(f.ID) {
		c.refuse("", codeBadID)
		return
	}
	c.message(&f, nil)
}

// validToken accepts the client's random session token: 22–64 base64url
// characters (at least 128 bits).
func validToken(t string) bool {
	if len(t) < 22 || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validID(id string) bool { return id != "" && len(id) <= 64 && validTokenChars(id) }

func validTokenChars(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (c *wsConn) hello(f *inFrame) {
	if c.sess != nil || !validToken(f.Session) {
		c.refuse("", codeBadSession)
		return
	}
	if f.Lang != "" {
		c.setLanguage(hotline.ParseLang(f.Lang))
	}
	if len(f.School) <= 64 {
		c.school = f.School
	}
	if validToken(f.Page) && f.Page != f.Session {
		c.page = f.Page
	}
	ss := c.h.session(f.Session)
	if ss == nil {
		c.direct(outFrame{Type: "error", Code: codeBusy, Text: codeTexts[codeBusy].In(c.language()), Fatal: true})
		c.closeWith(websocket.CloseTryAgainLater, codeBusy)
		return
	}
	c.sess = ss
	// last_seq counts in the epoch the page last saw; in another one (the
	// server restarted, or forgot the session) the page has confirmed
	// nothing of this numbering. A page without an epoch is an old page.
	lastSeq := f.LastSeq
	if f.Epoch != "" && f.Epoch != ss.epoch {
		lastSeq = 0
	}
	c.direct(outFrame{Type: "welcome", Epoch: ss.epoch, Limits: &limitsOut{TextChars: 4000, PhotoBytes: c.h.s.Limits.PhotoBytes}})
	if old := ss.attach(c, lastSeq); old != nil {
		old.replaced()
	}
	if uid := ss.tipUID(); uid != "" {
		c.subscribe(uid)
	}
}

// message applies one client message exactly once. It runs the work in a
// short-lived goroutine and waits for it: messages of a connection stay in
// order, and the deep stacks of sealing and SQL never stay with the
// long-lived reader.
func (c *wsConn) message(f *inFrame, photo []byte) {
	if !c.rate.allow() {
		// Not accepted: the page keeps it and sends it again later.
		c.refuse(f.ID, codeRateLimited)
		return
	}
	if ok, _ := c.h.s.limits.Allow(c.client, actMessage); !ok {
		c.refuse(f.ID, codeRateLimited)
		return
	}
	ss := c.sess
	if !c.admitReceipt(ss, f) {
		return
	}
	if o := ss.begin(f.ID); o != nil {
		if o.done && o.err != nil {
			ss.send(*o.err)
		} else if o.done {
			ss.send(outFrame{Type: "ack", ID: f.ID, Dup: true})
		}
		// In flight: its ack is on the way.
		return
	}
	if !c.h.beginApply() {
		// Shutting down: not applied; the page sends it again later.
		ss.finish(f.ID, &outFrame{Type: "error", ID: f.ID, Code: codeBusy, Text: codeTexts[codeBusy].In(c.language())})
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.h.applying.Done()
		c.apply(ss, f, photo)
	}()
	<-done
}

// apply does the work of one message. It uses the hub's context, not the
// connection's: a reporter whose connection drops mid-submit still gets
// their receipt, on the next connection.
func (c *wsConn) apply(ss *session, f *inFrame, photo []byte) {
	s := c.h.s
	ctx, cancel := context.WithTimeout(c.h.ctx, 30*time.Second)
	defer cancel()
	if s.Conversation == nil {
		e := c.errorFrame(f.ID, codeUnavailable)
		ss.finish(f.ID, &e)
		return
	}
	receipt := strings.TrimSpace(f.Receipt)
	if len(receipt) > 64 {
		e := c.errorFrame(f.ID, codeBadReceipt)
		ss.finish(f.ID, &e)
		return
	}
	switch f.Type {
	case "resume":
		c.resume(ctx, ss, f.ID, receipt)
		return
	case "sync":
		c.sync(ctx, ss, f.ID, receipt, f.After)
		return
	}
	// A message applied before (the page resent it because the ack never
	// reached it, perhaps across a restart) is acknowledged as a
	// duplicate, not applied again: the page keeps what it was answered,
	// so nothing is asked again. Choices are always applied (deliveryKey).
	var refused *outFrame
	out, err := dialog.Apply(ctx, dialog.WithReceipt(s.Conversation, receipt), s.Deliveries, key(ss.token), deliveryKey(ss, f), dialog.Delivery{
		Lang: c.language(),
		Event: func(ctx context.Context) (*dialog.Event, []dialog.Reply, error) {
			ev, e := c.event(ctx, f, receipt, photo)
			if e != nil {
				refused = e
				return nil, nil, nil
			}
			return ev, nil, nil
		},
	})
	if refused != nil {
		ss.finish(f.ID, refused)
		return
	}
	if out.Again || out.Duplicate {
		ss.finishDup(f.ID)
		return
	}
	if err != nil {
		s.Logger.Error("webchat conversation", "err", err)
	}
	replies := pageReplies(out.Replies)
	c.follow(replies)
	frames := make([]outFrame, 0, len(replies))
	for i := range replies {
		r := replies[i]
		if r.Kind == "receipt" && r.Receipt != "" {
			ss.setReceipt(c.receiptKey(r.Receipt))
		}
		if r.Kind == "submitted" && r.TipUID != "" && ss.setTip(r.TipUID) {
			c.subscribe(r.TipUID)
		}
		frames = append(frames, outFrame{Type: "reply", Reply: &r})
	}
	ss.finish(f.ID, nil, frames...)
}

// event makes frame f the conversation's event, or returns the error
// frame that refuses it (nothing is applied).
func (c *wsConn) event(ctx context.Context, f *inFrame, receipt string, photo []byte) (*dialog.Event, *outFrame) {
	in := dialog.Event{Lang: c.language(), School: c.school, PageSecret: c.page}
	switch f.Type {
	case "text":
		if receipt != "" && vault.ReceiptContains(f.Text, receipt) {
			e := c.errorFrame(f.ID, codeReceiptInText)
			return nil, &e
		}
		in.Kind, in.Text = dialog.EventText, f.Text
	case "choice":
		in.Kind, in.Choice = dialog.EventChoice, f.Data
	case "command":
		in.Kind, in.Command = dialog.EventCommand, f.Command
		if f.Command == "language" && len(f.Text) <= 8 {
			// The page switched language: the conversation follows.
			in.Text = f.Text
		}
	case "photo":
		p, err := c.h.s.CleanPhoto(ctx, photo)
		if err != nil {
			e := outFrame{Type: "error", ID: f.ID, Code: codeBadPhoto, Text: hotline.ErrorMessage(err, c.language())}
			switch hotline.ErrorCode(err) {
			case hotline.ETOOLARGE:
				e.Code = codeTooLarge
			case hotline.ERATELIMIT:
				// The decode budget stayed full: the page sends it again.
				e.Code = codeBusy
			}
			return nil, &e
		}
		in.Kind, in.Photo = dialog.EventPhoto, p
	}
	return &in, nil
}

// follow takes the conversation's language from its replies, so that the
// connection's own texts (errors) speak it too: the engine says which
// language it speaks after a reporter chose one.
func (c *wsConn) follow(replies []Reply) {
	for _, r := range replies {
		if r.Lang != "" {
			c.setLanguage(r.Lang)
		}
	}
}

// resume opens a returning reporter's thread with the receipt: the engine
// makes it the active tip and replays it; its messages are sent as msg
// frames with their uids, so later syncs fetch only what is new. The thread
// is opened once, by the engine.
func (c *wsConn) resume(ctx context.Context, ss *session, id, receipt string) {
	s := c.h.s
	if _, err := vault.ParseReceipt(receipt); err != nil {
		s.limits.Charge(c.client, actGuess)
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrReceiptTypo.Message.In(c.language())}
		ss.finish(id, &e)
		return
	}
	rs, err := s.Conversation.Resume(ctx, key(ss.token), receipt, c.language())
	replies := pageReplies(rs)
	if err != nil {
		if missedReceipt(err) {
			s.limits.Charge(c.client, actGuess)
		}
		code := hotline.ErrorCode(err)
		if code == hotline.EINTERNAL {
			s.Logger.Error("webchat resume", "err", err)
		}
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrorMessage(err, c.language())}
		if code == hotline.EINTERNAL {
			e.Code = codeBusy
		}
		ss.finish(id, &e)
		return
	}
	c.follow(replies)
	var frames []outFrame
	var tipUID string
	for i := range replies {
		r := replies[i]
		if tipUID == "" {
			tipUID = r.TipUID
		}
		if r.Kind == "thread" {
			if r.Entry != nil {
				frames = append(frames, msgFrame(*r.Entry))
			}
			continue
		}
		frames = append(frames, outFrame{Type: "reply", Reply: &r})
	}
	if tipUID != "" {
		ss.setReceipt(c.receiptKey(receipt))
		frames = append(frames, outFrame{Type: "resumed", Tip: tipUID})
		if ss.setTip(tipUID) || c.subscribedTo() != tipUID {
			c.subscribe(tipUID)
		}
	}
	ss.finish(id, nil, frames...)
}

// threadSincer opens only the messages after one the page already has.
type threadSincer interface {
	ThreadSince(ctx context.Context, receipt, afterUID string) (*hotline.Tip, []*hotline.Message, error)
}

// sync sends the thread's messages after the uid the page has.
func (c *wsConn) sync(ctx context.Context, ss *session, id, receipt, after string) {
	s := c.h.s
	var tip *hotline.Tip
	var msgs []*hotline.Message
	var err error
	if since, ok := s.Reporters.(threadSincer); ok && after != "" {
		// Open only what is new: a live reply then costs the same whatever
		// the thread's length.
		tip, msgs, err = since.ThreadSince(ctx, receipt, after)
		after = ""
	} else {
		tip, msgs, err = s.Reporters.ThreadByReceipt(ctx, receipt)
	}
	if err != nil {
		if missedReceipt(err) {
			s.limits.Charge(c.client, actGuess)
		}
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("webchat sync", "err", err)
		}
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrorMessage(err, c.language())}
		ss.finish(id, &e)
		return
	}
	ss.setReceipt(c.receiptKey(receipt))
	if ss.setTip(tip.UID) || c.subscribedTo() != tip.UID {
		c.subscribe(tip.UID)
	}
	ss.finish(id, nil, msgFrames(msgs, after)...)
}

// msgFrames renders a reporter's thread as msg frames, from the message
// after the uid after (all when empty or unknown).
func msgFrames(msgs []*hotline.Message, after string) []outFrame {
	entries := thread.Entries(msgs)
	start := 0
	if after != "" {
		for i, e := range entries {
			if e.UID == after {
				start = i + 1
				break
			}
		}
	}
	out := make([]outFrame, 0, len(entries)-start)
	for _, e := range entries[start:] {
		out = append(out, msgFrame(e))
	}
	return out
}

// msgFrame is one message of a reporter's thread for the chat page, which
// labels its author itself; a photo travels as a data: URL.
func msgFrame(e thread.Entry) outFrame {
	tm := &threadMsg{UID: e.UID, Author: string(e.Speaker), Text: e.Text, At: e.At.UTC().Format(time.RFC3339)}
	if e.Photo != nil && (e.Photo.Type == "image/jpeg" || e.Photo.Type == "image/png") {
		tm.Photo = "data:" + e.Photo.Type + ";base64," + base64.StdEncoding.EncodeToString(e.Photo.Data)
	}
	return outFrame{Type: "msg", Msg: tm}
}

// subscribe follows the tip's changes while this connection lives. Only a
// page with a tip pays for a subscription and its goroutine.
func (c *wsConn) subscribe(uid string) {
	if c.h.s.Broker == nil || uid == "" {
		return
	}
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if c.subOf == uid {
		return
	}
	if c.sub != nil {
		c.sub.Cancel()
	}
	sub := c.h.s.Broker.SubscribeTip(uid)
	c.sub, c.subOf = sub, uid
	ss := c.sess
	go func() {
		for ch := range sub.C {
			if ch.Kind == hotline.ChangeReply {
				ss.send(outFrame{Type: "notice", Text: "reply"})
			}
		}
	}()
}

func (c *wsConn) subscribedTo() string {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	return c.subOf
}

func (c *wsConn) unsubscribe() {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if c.sub != nil {
		c.sub.Cancel()
		c.sub, c.subOf = nil, ""
	}
}
