package webchat

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/live"
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

// Frame sizes beyond the text limit up to this hard cap are read and
// discarded with an error frame, so the connection survives; beyond it the
// websocket is closed with 1009.
const photoHeaderMax = 2048

// bufPool holds the buffers that text frames are read into, so an idle
// connection keeps none.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// hub holds the connections and sessions of one Server.
type hub struct {
	s        *Server
	upgrader websocket.Upgrader
	global   *bucket
	photos   chan struct{} // photo decodes in progress
	nconns   atomic.Int64
	ctx      context.Context
	cancel   context.CancelFunc

	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	sessions map[string]*session
}

func newHub(s *Server) *hub {
	h := &hub{s: s, conns: map[*wsConn]struct{}{}, sessions: map[string]*session{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.global = newBucket(s.Limits.GlobalRate, s.Limits.GlobalBurst, s.Now)
	h.photos = make(chan struct{}, s.Limits.PhotoWorkers)
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// A small read buffer and pooled write buffers: an idle connection
		// holds 512 bytes of buffer instead of two 4 KiB ones.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	return h
}

// checkOrigin accepts only our own origin. The chat page is served from
// our origin even inside a school's site (the widget frames it), so a
// school's origin never has a reason to open the socket itself. A missing
// Origin is a non-browser client, which cannot be tricked into anything.
func (s *Server) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	o = cleanOrigin(o)
	if o == "" {
		return false
	}
	if o == s.origin() {
		return true
	}
	return o == "https://"+strings.ToLower(r.Host) || o == "http://"+strings.ToLower(r.Host)
}

func (h *hub) stats() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns), len(h.sessions)
}

// run pings every connection from one goroutine, rather than a ticker per
// connection, and forgets idle sessions.
func (h *hub) run(ctx context.Context) {
	ping := time.NewTicker(h.s.Limits.PingInterval)
	defer ping.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return
		case <-ping.C:
			h.mu.Lock()
			conns := make([]*wsConn, 0, len(h.conns))
			for c := range h.conns {
				conns = append(conns, c)
			}
			h.mu.Unlock()
			for _, c := range conns {
				c.queuePing()
			}
		case <-sweep.C:
			h.sweep(h.s.Now())
		}
	}
}

func (h *hub) sweep(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for tok, ss := range h.sessions {
		if ss.idleFor(now) > h.s.Limits.SessionIdle {
			delete(h.sessions, tok)
		}
	}
}

func (h *hub) closeAll() {
	h.cancel()
	h.mu.Lock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.ws.Close()
	}
}

// session finds or creates the session of a token. A full table evicts
// the longest idle session that has no connection.
func (h *hub) session(token string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ss := h.sessions[token]; ss != nil {
		return ss
	}
	if len(h.sessions) >= h.s.Limits.MaxSessions {
		var oldest *session
		var oldestTok string
		now := h.s.Now()
		for tok, ss := range h.sessions {
			if d := ss.idleFor(now); d > 0 && (oldest == nil || d > oldest.idleFor(now)) {
				oldest, oldestTok = ss, tok
			}
		}
		if oldest == nil {
			return nil
		}
		delete(h.sessions, oldestTok)
	}
	ss := &session{token: token, ids: map[string]*outcome{}, idleSince: h.s.Now()}
	h.sessions[token] = ss
	return ss
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

// handleWS upgrades to a websocket and starts its reader; the handler's own
// goroutine (with the stack the HTTP handling grew) then ends.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	h := s.hub
	if h.nconns.Add(1) > int64(s.Limits.MaxConns) {
		h.nconns.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.nconns.Add(-1)
		return
	}
	c := &wsConn{h: h, ws: ws, lang: hotline.LangZH}
	c.rate.init(s.Limits.PerConnRate, s.Limits.PerConnBurst, s.Now)
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	go c.readLoop()
}

// session is one chat page's conversation as the transport knows it: the
// ids of messages it applied, the frames the page has not confirmed, and
// the tip whose replies it waits for. It outlives connections, and holds
// no content beyond unconfirmed frames.
type session struct {
	token string

	mu        sync.Mutex
	conn      *wsConn
	seq       int64
	out       []sentFrame
	outBytes  int
	ids       map[string]*outcome
	order     []string // ids oldest first, for eviction
	tip       string
	idleSince time.Time // zero while a connection is attached
}

type sentFrame struct {
	seq int64
	b   []byte
}

// outcome is what became of a client message id. A resend gets the same
// answer without being applied again.
type outcome struct {
	done bool
	err  *outFrame // a refusal, resent as is
}

// Bounds on what a session remembers.
const (
	maxIDs      = 256
	maxOut      = 256
	maxOutBytes = 4 << 20
)

func (ss *session) idleFor(now time.Time) time.Duration {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != nil || ss.idleSince.IsZero() {
		return 0
	}
	return now.Sub(ss.idleSince)
}

// send numbers frames, keeps them until confirmed and passes them to the
// attached connection, all under one lock so their order holds.
func (ss *session) send(frames ...outFrame) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i := range frames {
		ss.seq++
		f := frames[i]
		f.V, f.Seq = protocolVersion, ss.seq
		b, err := json.Marshal(f)
		if err != nil {
			continue
		}
		ss.out = append(ss.out, sentFrame{seq: f.Seq, b: b})
		ss.outBytes += len(b)
		for len(ss.out) > maxOut || ss.outBytes > maxOutBytes && len(ss.out) > 1 {
			ss.outBytes -= len(ss.out[0].b)
			ss.out[0] = sentFrame{}
			ss.out = ss.out[1:]
		}
		if ss.conn != nil {
			ss.conn.enqueue(b)
		}
	}
}

// confirm drops frames the page has shown.
func (ss *session) confirm(seq int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.confirmLocked(seq)
}

func (ss *session) confirmLocked(seq int64) {
	if seq > ss.seq {
		seq = ss.seq // a page cannot confirm what was never sent
	}
	i := 0
	for i < len(ss.out) && ss.out[i].seq <= seq {
		ss.outBytes -= len(ss.out[i].b)
		ss.out[i] = sentFrame{}
		i++
	}
	ss.out = ss.out[i:]
	if len(ss.out) == 0 {
		ss.out = nil
	}
}

// attach makes c the session's connection and replays what the page has
// not confirmed. A previous connection (another tab, a half-dead socket)
// is told and closed.
func (ss *session) attach(c *wsConn, lastSeq int64) (old *wsConn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	old, ss.conn, ss.idleSince = ss.conn, c, time.Time{}
	ss.confirmLocked(lastSeq)
	for _, f := range ss.out {
		c.enqueue(f.b)
	}
	if old == c {
		old = nil
	}
	return old
}

func (ss *session) detach(c *wsConn, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn == c {
		ss.conn, ss.idleSince = nil, now
	}
}

// begin claims a client id. It returns nil for a new id, or a copy of its
// outcome: a resend of a message in flight or done.
func (ss *session) begin(id string) *outcome {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if o := ss.ids[id]; o != nil {
		c := *o
		return &c
	}
	ss.ids[id] = &outcome{}
	ss.order = append(ss.order, id)
	if len(ss.order) > maxIDs {
		delete(ss.ids, ss.order[0])
		ss.order = ss.order[1:]
	}
	return nil
}

// finish records the outcome of an id and sends frames then the ack (or
// the refusal) in one go.
func (ss *session) finish(id string, refusal *outFrame, frames ...outFrame) {
	ss.mu.Lock()
	if o := ss.ids[id]; o != nil {
		o.done, o.err = true, refusal
	}
	ss.mu.Unlock()
	if refusal != nil {
		frames = append(frames, *refusal)
	} else {
		frames = append(frames, outFrame{Type: "ack", ID: id})
	}
	ss.send(frames...)
}

func (ss *session) setTip(uid string) (changed bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	changed = ss.tip != uid
	ss.tip = uid
	return changed
}

func (ss *session) tipUID() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.tip
}

// wsConn is one websocket. Its reader goroutine lives as long as the
// socket; a writer goroutine exists only while there is something to write
// (at most one at a time), so an idle connection costs one small stack.
type wsConn struct {
	h    *hub
	ws   *websocket.Conn
	rate bucket

	mu      sync.Mutex
	queue   [][]byte
	ping    bool
	closing []byte // a close frame to send last
	writing bool
	dead    bool

	// Set by the reader goroutine only.
	sess    *session
	lang    hotline.Lang
	school  string
	strikes int

	subMu sync.Mutex
	sub   *live.Subscription
	subOf string
}

// Bounds on a connection that does not read what it is sent.
const (
	maxQueue   = 512
	maxStrikes = 64
)

func (c *wsConn) enqueue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	if len(c.queue) >= maxQueue {
		// A page that reads nothing: drop the socket; the session keeps
		// the frames for its next connection.
		c.dead = true
		go c.ws.Close()
		return
	}
	c.queue = append(c.queue, b)
	c.startWriter()
}

func (c *wsConn) queuePing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	c.ping = true
	c.startWriter()
}

// closeWith sends a close frame after what is queued, then closes.
func (c *wsConn) closeWith(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.closing != nil {
		return
	}
	c.closing = websocket.FormatCloseMessage(code, reason)
	c.startWriter()
}

func (c *wsConn) startWriter() {
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop is the connection's only writer. It drains the queue and ends.
func (c *wsConn) writeLoop() {
	wait := c.h.s.Limits.WriteWait
	for {
		c.mu.Lock()
		q, ping, closing := c.queue, c.ping, c.closing
		c.queue, c.ping = nil, false
		if len(q) == 0 && !ping && closing == nil || c.dead {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if closing != nil {
			c.dead = true
		}
		c.mu.Unlock()
		deadline := time.Now().Add(wait)
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.fail()
				return
			}
		}
		c.ws.SetWriteDeadline(deadline)
		for _, b := range q {
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.fail()
				return
			}
		}
		if closing != nil {
			c.ws.WriteControl(websocket.CloseMessage, closing, deadline)
			// Give the peer a moment to answer the close, then hang up.
			time.AfterFunc(time.Second, func() { c.ws.Close() })
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			return
		}
	}
}

func (c *wsConn) fail() {
	c.mu.Lock()
	c.dead, c.writing, c.queue = true, false, nil
	c.mu.Unlock()
	c.ws.Close()
}

// direct sends a frame that belongs to no session (protocol errors): it is
// not numbered and not kept.
func (c *wsConn) direct(f outFrame) {
	f.V = protocolVersion
	b, err := json.Marshal(f)
	if err == nil {
		c.enqueue(b)
	}
}

func (c *wsConn) errorFrame(id, code string) outFrame {
	return outFrame{Type: "error", ID: id, Code: code, Text: codeTexts[code].In(c.lang)}
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

func (c *wsConn) readLoop() {
	defer c.cleanup()
	l := c.h.s.Limits
	c.ws.SetReadLimit(l.PhotoBytes + photoHeaderMax)
	c.ws.SetReadDeadline(time.Now().Add(l.PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ws.SetReadDeadline(time.Now().Add(l.PongWait))
		return nil
	})
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(l.PongWait))
		switch mt {
		case websocket.TextMessage:
			buf := bufPool.Get().(*bytes.Buffer)
			buf.Reset()
			n, err := buf.ReadFrom(io.LimitReader(r, l.TextFrame+1))
			if err != nil {
				bufPool.Put(buf)
				return
			}
			if n > l.TextFrame {
				// Read the rest away so the connection stays usable.
				if _, err := io.Copy(io.Discard, r); err != nil {
					bufPool.Put(buf)
					return
				}
				c.refuse("", codeTooLarge)
			} else {
				c.handleText(buf.Bytes())
			}
			if buf.Cap() > 64<<10 {
				buf = new(bytes.Buffer) // do not pool a rare big one
			}
			bufPool.Put(buf)
		case websocket.BinaryMessage:
			if err := c.handlePhoto(r); err != nil {
				return
			}
		}
	}
}

func (c *wsConn) cleanup() {
	c.h.nconns.Add(-1)
	c.h.mu.Lock()
	delete(c.h.conns, c)
	c.h.mu.Unlock()
	c.unsubscribe()
	if c.sess != nil {
		c.sess.detach(c, c.h.s.Now())
	}
	c.mu.Lock()
	c.dead, c.queue = true, nil
	c.mu.Unlock()
	c.ws.Close()
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

func (c *wsConn) hello(f *inFrame) {
	if c.sess != nil || !validToken(f.Session) {
		c.refuse("", codeBadSession)
		return
	}
	if f.Lang != "" {
		c.lang = hotline.ParseLang(f.Lang)
	}
	if len(f.School) <= 64 {
		c.school = f.School
	}
	ss := c.h.session(f.Session)
	if ss == nil {
		c.direct(outFrame{Type: "error", Code: codeBusy, Text: codeTexts[codeBusy].In(c.lang), Fatal: true})
		c.closeWith(websocket.CloseTryAgainLater, codeBusy)
		return
	}
	c.sess = ss
	c.direct(outFrame{Type: "welcome", Limits: &limitsOut{TextChars: 4000, PhotoBytes: c.h.s.Limits.PhotoBytes}})
	if old := ss.attach(c, f.LastSeq); old != nil {
		old.direct(old.errorFrame("", codeReplaced))
		old.closeWith(4000, codeReplaced)
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
	if !c.rate.allow() || !c.h.global.allow() {
		// Not accepted: the page keeps it and sends it again later.
		c.refuse(f.ID, codeRateLimited)
		return
	}
	ss := c.sess
	if o := ss.begin(f.ID); o != nil {
		if o.done && o.err != nil {
			ss.send(*o.err)
		} else if o.done {
			ss.send(outFrame{Type: "ack", ID: f.ID, Dup: true})
		}
		// In flight: its ack is on the way.
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
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
	in := Input{Lang: c.lang, School: c.school}
	switch f.Type {
	case "text":
		if receipt != "" && vault.ReceiptContains(f.Text, receipt) {
			e := c.errorFrame(f.ID, codeReceiptInText)
			ss.finish(f.ID, &e)
			return
		}
		in.Kind, in.Text = "text", f.Text
	case "choice":
		in.Kind, in.Choice = "choice", f.Data
		if strings.HasPrefix(f.Data, "lang:") {
			c.lang = hotline.ParseLang(strings.TrimPrefix(f.Data, "lang:"))
			in.Lang = c.lang
		}
	case "command":
		in.Kind, in.Command = "command", f.Command
	case "photo":
		p, err := s.CleanPhoto(photo)
		if err != nil {
			e := outFrame{Type: "error", ID: f.ID, Code: codeBadPhoto, Text: hotline.ErrorMessage(err, c.lang)}
			if hotline.ErrorCode(err) == hotline.ETOOLARGE {
				e.Code = codeTooLarge
			}
			ss.finish(f.ID, &e)
			return
		}
		in.Kind, in.Photo = "photo", p
	case "resume":
		c.resume(ctx, ss, f.ID, receipt)
		return
	case "sync":
		c.sync(ctx, ss, f.ID, receipt, f.After)
		return
	}
	replies, err := s.Conversation.Handle(ctx, ss.token, receipt, in)
	if err != nil {
		s.Logger.Error("webchat conversation", "err", err)
	}
	frames := make([]outFrame, 0, len(replies))
	for i := range replies {
		r := replies[i]
		if r.Kind == "submitted" && r.TipUID != "" && ss.setTip(r.TipUID) {
			c.subscribe(r.TipUID)
		}
		if r.Kind == "thread" && r.Photo != nil {
			r.Text = strings.TrimSpace(r.Text + " " + txtPhoto.In(c.lang))
		}
		frames = append(frames, outFrame{Type: "reply", Reply: &r})
	}
	ss.finish(f.ID, nil, frames...)
}

var txtPhoto = hotline.Label{ZH: "[照片]", EN: "[photo]"}

// resume opens a returning reporter's thread with the receipt: the engine
// makes it the active tip; the thread itself is sent as msg frames with
// their uids, so later syncs fetch only what is new.
func (c *wsConn) resume(ctx context.Context, ss *session, id, receipt string) {
	s := c.h.s
	if _, err := vault.ParseReceipt(receipt); err != nil {
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrReceiptTypo.Message.In(c.lang)}
		ss.finish(id, &e)
		return
	}
	replies, err := s.Conversation.Resume(ctx, ss.token, receipt, c.lang)
	if err != nil {
		code := hotline.ErrorCode(err)
		if code == hotline.EINTERNAL {
			s.Logger.Error("webchat resume", "err", err)
		}
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrorMessage(err, c.lang)}
		if code == hotline.EINTERNAL {
			e.Code = codeBusy
		}
		ss.finish(id, &e)
		return
	}
	tip, msgs, err := s.Reporters.ThreadByReceipt(ctx, receipt)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("webchat thread", "err", err)
		}
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrorMessage(err, c.lang)}
		ss.finish(id, &e)
		return
	}
	var frames []outFrame
	threaded := false
	for i := range replies {
		r := replies[i]
		if r.Kind == "thread" {
			if !threaded {
				frames = append(frames, msgFrames(msgs, "")...)
				threaded = true
			}
			continue
		}
		frames = append(frames, outFrame{Type: "reply", Reply: &r})
	}
	if !threaded {
		frames = append(frames, msgFrames(msgs, "")...)
	}
	frames = append(frames, outFrame{Type: "resumed", Tip: tip.UID})
	if ss.setTip(tip.UID) || c.subscribedTo() != tip.UID {
		c.subscribe(tip.UID)
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
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("webchat sync", "err", err)
		}
		e := outFrame{Type: "error", ID: id, Code: codeBadReceipt, Text: hotline.ErrorMessage(err, c.lang)}
		ss.finish(id, &e)
		return
	}
	if ss.setTip(tip.UID) || c.subscribedTo() != tip.UID {
		c.subscribe(tip.UID)
	}
	ss.finish(id, nil, msgFrames(msgs, after)...)
}

func msgFrames(msgs []*hotline.Message, after string) []outFrame {
	start := 0
	if after != "" {
		for i, m := range msgs {
			if m.UID == after {
				start = i + 1
				break
			}
		}
	}
	out := make([]outFrame, 0, len(msgs)-start)
	for _, m := range msgs[start:] {
		tm := &threadMsg{UID: m.UID, Text: m.Body, At: m.CreatedAt.UTC().Format(time.RFC3339)}
		switch m.Author {
		case hotline.AuthorReporter:
			tm.Author = "you"
		case hotline.AuthorCounselor:
			tm.Author = "counselor"
		default:
			tm.Author = "hotline"
		}
		if m.Photo != nil && (m.Photo.Type == "image/jpeg" || m.Photo.Type == "image/png") {
			tm.Photo = "data:" + m.Photo.Type + ";base64," + base64.StdEncoding.EncodeToString(m.Photo.Data)
		}
		out = append(out, outFrame{Type: "msg", Msg: tm})
	}
	return out
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

// handlePhoto reads a binary frame: a JSON header line, then the image.
// Only a few photos are read and decoded at once; the others are refused
// with "busy" and the page sends them again.
func (c *wsConn) handlePhoto(r io.Reader) error {
	var hdr [photoHeaderMax]byte
	n := 0
	for n < len(hdr) {
		if _, err := io.ReadFull(r, hdr[n:n+1]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				c.refuse("", codeBadJSON)
				return nil
			}
			return err
		}
		if hdr[n] == '\n' {
			break
		}
		n++
	}
	var f inFrame
	if n == len(hdr) || !utf8.Valid(hdr[:n]) || json.Unmarshal(hdr[:n], &f) != nil || f.Type != "photo" {
		_, err := io.Copy(io.Discard, r)
		c.refuse("", codeBadJSON)
		return err
	}
	if c.sess == nil || !validID(f.ID) || f.V != protocolVersion {
		_, err := io.Copy(io.Discard, r)
		code := codeHelloFirst
		if c.sess != nil {
			code = codeBadID
		}
		c.refuse(f.ID, code)
		return err
	}
	select {
	case c.h.photos <- struct{}{}:
	default:
		_, err := io.Copy(io.Discard, r)
		c.direct(c.errorFrame(f.ID, codeBusy))
		return err
	}
	defer func() { <-c.h.photos }()
	data, err := io.ReadAll(io.LimitReader(r, c.h.s.Limits.PhotoBytes+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > c.h.s.Limits.PhotoBytes {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		c.refuse(f.ID, codeTooLarge)
		return nil
	}
	c.message(&f, data)
	return nil
}
