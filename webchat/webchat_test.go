package webchat

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/photo"
	"hotline/internal/poster"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/thread"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// fakeConv is a conversation engine that echoes and counts what it was
// given, so the transport's exactly-once delivery can be checked. Like the
// real engine it saves with every event, in a transaction of ctx, which
// records the delivery's key or is refused for a delivery applied before;
// only what it saved is counted. It resumes a thread as the real engine
// does: opened once, replayed as "thread" replies that carry their entries.
type fakeConv struct {
	mu        sync.Mutex
	inputs    []dialog.Event
	delay     time.Duration
	reporters hotline.ReporterService
	db        *store.DB
}

func (f *fakeConv) HandleWithReceipt(ctx context.Context, k dialog.Key, receipt string, in dialog.Event) ([]dialog.Reply, error) {
	if err := f.db.Update(ctx, func(*store.Tx) error { return nil }); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.inputs = append(f.inputs, in)
	f.mu.Unlock()
	time.Sleep(f.delay)
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "echo:" + in.Text + in.Choice + in.Command}}, nil
}

func (f *fakeConv) Resume(ctx context.Context, k dialog.Key, receipt string, lang hotline.Lang) ([]dialog.Reply, error) {
	tip, msgs, err := f.reporters.ThreadByReceipt(ctx, receipt)
	if err != nil {
		return []dialog.Reply{{Kind: dialog.ReplyError, Text: hotline.ErrorMessage(err, lang), Lang: lang}}, err
	}
	out := []dialog.Reply{{Kind: dialog.ReplyText, Text: "welcome back", TipUID: tip.UID, Lang: lang}}
	for _, e := range thread.Entries(msgs) {
		out = append(out, dialog.Reply{Kind: dialog.ReplyThread, Text: e.Line(lang), TipUID: tip.UID, Entry: &e, Lang: lang})
	}
	return out, nil
}

// countingReporters counts how often a thread is opened.
type countingReporters struct {
	hotline.ReporterService
	mu     sync.Mutex
	opened int
}

func (c *countingReporters) ThreadByReceipt(ctx context.Context, receipt string) (*hotline.Tip, []*hotline.Message, error) {
	c.mu.Lock()
	c.opened++
	c.mu.Unlock()
	return c.ReporterService.ThreadByReceipt(ctx, receipt)
}

func (c *countingReporters) ThreadSince(ctx context.Context, receipt, afterUID string) (*hotline.Tip, []*hotline.Message, error) {
	return c.ReporterService.(threadSincer).ThreadSince(ctx, receipt, afterUID)
}

func (c *countingReporters) opens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened
}

func (f *fakeConv) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, in := range f.inputs {
		out = append(out, in.Text)
	}
	return out
}

// env is a web chat server over a real database, vault and intake.
type env struct {
	srv       *Server
	ts        *httptest.Server
	conv      *fakeConv
	reporters *countingReporters
	intake    *intake.Service
	staff     *staff.Service
	triage    *triage.Service
	broker    *live.Broker
	school    *hotline.School
	dir       string
	db        *store.DB
}

func newEnv(t testing.TB, tune func(*Server)) *env {
	t.Helper()
	dir := t.TempDir()
	db := testsupport.OpenStoreAt(t, filepath.Join(dir, "hotline.db"))
	key := make([]byte, vault.ServerKeySize)
	rand.Read(key)
	v, err := vault.New(key, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	b := live.NewBroker()
	in := intake.New(db, v, b, logger)
	st := staff.New(db, v, logger)
	created, err := st.CreateSchool(context.Background(), staff.NewSchool{Code: "no3", Name: "第三中学", NameEN: "No. 3 Middle School",
		Settings: &hotline.SchoolSettings{AllowedOrigins: []string{"https://www.no3.example.cn"}, NameEN: "No. 3 Middle School"}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{reporters: &countingReporters{ReporterService: in}, intake: in, staff: st, triage: triage.New(db, v, b, logger), broker: b, school: created.School, dir: dir, db: db}
	e.conv = &fakeConv{reporters: e.reporters, db: db}
	e.srv = &Server{Intake: in, Reporters: e.reporters, Schools: in, Conversation: e.conv, Broker: b, MAC: v.MAC,
		CleanPhoto: photo.CleanContext, Deliveries: db, Logger: logger, BotName: "HotlineBot"}
	if tune != nil {
		tune(e.srv)
	}
	h := e.srv.Handler()
	e.ts = httptest.NewServer(h)
	e.srv.PublicURL = e.ts.URL
	t.Cleanup(func() { e.srv.Close(); e.ts.Close() })
	return e
}

// wsClient is the test's browser side of the protocol.
type wsClient struct {
	t       testing.TB
	ws      *websocket.Conn
	session string
	lastSeq int64
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (e *env) dial(t testing.TB, session string, lastSeq int64) *wsClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
	ws, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {e.ts.URL}})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := &wsClient{t: t, ws: ws, session: session, lastSeq: lastSeq}
	t.Cleanup(func() { ws.Close() })
	c.send(map[string]any{"v": 1, "type": "hello", "session": session, "school": "no3", "lang": "zh", "last_seq": lastSeq})
	if f := c.read(); f.Type != "welcome" {
		t.Fatalf("first frame %+v, want welcome", f)
	}
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *wsClient) read() outFrame {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f outFrame
	if err := c.ws.ReadJSON(&f); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if f.Seq > 0 {
		c.lastSeq = f.Seq
	}
	return f
}

// until reads frames until pred holds, returning all read.
func (c *wsClient) until(pred func(outFrame) bool) []outFrame {
	c.t.Helper()
	var got []outFrame
	for {
		f := c.read()
		got = append(got, f)
		if pred(f) {
			return got
		}
	}
}

func TestWholeExchangeAcksEveryMessageOnce(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(t, newToken(), 0)
	c.send(map[string]any{"v": 1, "type": "command", "id": "m1", "command": "new"})
	got := c.until(func(f outFrame) bool { return f.Type == "ack" })
	if len(got) != 2 || got[0].Type != "reply" || got[0].Reply.Text != "echo:new" || got[1].ID != "m1" {
		t.Fatalf("got %+v, want reply then ack m1", got)
	}
	c.send(map[string]any{"v": 1, "type": "text", "id": "m2", "text": "他们每天在厕所堵我"})
	got = c.until(func(f outFrame) bool { return f.Type == "ack" })
	if got[0].Reply.Text != "echo:他们每天在厕所堵我" || got[0].Seq >= got[1].Seq {
		t.Fatalf("got %+v", got)
	}
}

// A connection that drops after sending, before the acks, loses nothing and
// duplicates nothing: the page resends the unacknowledged messages and the
// server answers the ones it already applied from memory.
func TestResumeAfterForcedDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	e.conv.delay = 20 * time.Millisecond
	session := newToken()
	c := e.dial(t, session, 0)
	var sent []string
	for i := range 5 {
		id := "m" + string(rune('a'+i))
		sent = append(sent, id)
		c.send(map[string]any{"v": 1, "type": "text", "id": id, "text": "msg " + id})
	}
	// Read the first ack only, then cut the wire while the rest are in flight.
	first := c.until(func(f outFrame) bool { return f.Type == "ack" })
	seen := map[int64]bool{}
	acked := map[string]int{}
	replies := map[string]int{}
	record := func(fs []outFrame) {
		for _, f := range fs {
			if f.Seq != 0 {
				if seen[f.Seq] {
					continue // the page drops frames it has already shown
				}
				seen[f.Seq] = true
			}
			switch f.Type {
			case "ack":
				if !f.Dup { // a resend that crossed its ack gets a duplicate ack
					acked[f.ID]++
				} else if acked[f.ID] == 0 {
					acked[f.ID] = -100
				}
			case "reply":
				replies[f.Reply.Text]++
			}
		}
	}
	record(first)
	c.ws.UnderlyingConn().Close()

	c2 := e.dial(t, session, c.lastSeq)
	// The page resends everything not acknowledged, in order.
	for _, id := range sent {
		if acked[id] == 0 {
			c2.send(map[string]any{"v": 1, "type": "text", "id": id, "text": "msg " + id})
		}
	}
	for n := 0; n < len(sent); {
		record([]outFrame{c2.read()})
		n = 0
		for _, id := range sent {
			if acked[id] > 0 {
				n++
			}
		}
	}
	if got := e.conv.texts(); len(got) != 5 {
		t.Fatalf("engine applied %d messages %q, want 5 exactly once", len(got), got)
	}
	for _, id := range sent {
		if acked[id] != 1 || replies["echo:msg "+id] != 1 {
			t.Errorf("message %s: %d acks, %d replies shown; want 1 and 1", id, acked[id], replies["echo:msg "+id])
		}
	}
	// A resend of an applied message is acknowledged as a duplicate.
	c2.send(map[string]any{"v": 1, "type": "text", "id": "ma", "text": "msg ma"})
	if f := c2.read(); f.Type != "ack" || !f.Dup {
		t.Fatalf("resend answered %+v, want a duplicate ack", f)
	}
	if n := len(e.conv.texts()); n != 5 {
		t.Fatalf("engine applied %d messages after resend, want 5", n)
	}
}

func TestLimitsAnsweredWithClearErrors(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.PerConnRate, s.Limits.PerConnBurst = 1, 5 })
	c := e.dial(t, newToken(), 0)
	c.send(map[string]any{"v": 1, "type": "text", "id": "ok1", "text": "first"})
	c.until(func(f outFrame) bool { return f.Type == "ack" && f.ID == "ok1" })

	expectError := func(name, code string) {
		t.Helper()
		f := c.read()
		if f.Type != "error" || f.Code != code || f.Text == "" {
			t.Fatalf("%s: got %+v, want error %s with a text", name, f, code)
		}
	}
	// Oversized frame: read away, refused, connection stays.
	big := `{"v":1,"type":"text","id":"big","text":"` + strings.Repeat("欺", 20000) + `"}`
	c.ws.WriteMessage(websocket.TextMessage, []byte(big))
	expectError("oversized", codeTooLarge)
	c.ws.WriteMessage(websocket.TextMessage, []byte("{\"v\":1,\"type\":\"text\",\"id\":\"u\",\"text\":\"\xff\xfe\"}"))
	expectError("invalid utf-8", codeInvalidUTF8)
	c.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":1,"type":`))
	expectError("bad json", codeBadJSON)
	c.ws.WriteMessage(websocket.TextMessage, []byte(`{"v":7,"type":"text","id":"x"}`))
	expectError("bad version", codeBadVersion)

	// Flood: the burst is accepted, the rest refused with rate_limited.
	for i := range 30 {
		c.send(map[string]any{"v": 1, "type": "text", "id": fmt.Sprintf("f%d", i), "text": "flood"})
	}
	acks, limited := 0, 0
	for acks+limited < 30 {
		f := c.read()
		switch {
		case f.Type == "ack":
			acks++
		case f.Type == "error" && f.Code == codeRateLimited:
			limited++
		}
	}
	if acks == 0 || limited == 0 {
		t.Fatalf("flood: %d accepted, %d refused; want both", acks, limited)
	}
	// What was accepted stays applied; what was refused was not applied.
	if got := len(e.conv.texts()); got != 1+acks {
		t.Fatalf("engine has %d messages, want %d (first + accepted flood)", got, 1+acks)
	}
	// The connection still works.
	time.Sleep(1100 * time.Millisecond)
	c.send(map[string]any{"v": 1, "type": "text", "id": "after", "text": "still here"})
	c.until(func(f outFrame) bool { return f.Type == "ack" && f.ID == "after" })
}

func TestHardFrameLimitCloses(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.PhotoBytes = 64 << 10 })
	c := e.dial(t, newToken(), 0)
	c.ws.WriteMessage(websocket.BinaryMessage, make([]byte, 200<<10))
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("got %v, want close 1009", err)
	}
}

func TestWebsocketRejectsForeignOrigin(t *testing.T) {
	e := newEnv(t, nil)
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
	for _, o := range []string{"https://evil.example", "https://www.no3.example.cn"} {
		_, resp, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {o}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %s: err %v resp %v, want 403", o, err, resp)
		}
	}
}

func TestReceiptInTextRefused(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"测试"}})
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(t, newToken(), 0)
	lower := strings.ToLower(strings.ReplaceAll(res.Receipt, "-", " "))
	c.send(map[string]any{"v": 1, "type": "text", "id": "r1", "text": "我的码是 " + lower, "receipt": res.Receipt})
	f := c.read()
	if f.Type != "error" || f.ID != "r1" || f.Code != codeReceiptInText {
		t.Fatalf("got %+v, want receipt_in_text refusal", f)
	}
	if n := len(e.conv.texts()); n != 0 {
		t.Fatalf("engine got %d messages, want 0", n)
	}
}

func TestResumeAndLiveReply(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"他们抢我的饭卡"}})
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial(t, newToken(), 0)
	c.send(map[string]any{"v": 1, "type": "resume", "id": "r1", "receipt": "  " + strings.ToLower(res.Receipt)})
	got := c.until(func(f outFrame) bool { return f.Type == "ack" })
	var msgs []string
	resumed := false
	for _, f := range got {
		if f.Type == "msg" {
			msgs = append(msgs, f.Msg.Author+":"+f.Msg.Text)
		}
		resumed = resumed || f.Type == "resumed" && f.Tip == res.TipUID
	}
	if !resumed || len(msgs) != 1 || msgs[0] != "you:他们抢我的饭卡" {
		t.Fatalf("resume frames %+v", got)
	}
	if n := e.reporters.opens(); n != 1 {
		t.Errorf("thread opened %d times on resume, want once", n)
	}
	// A counselor replies: a notice arrives, the page syncs the new message.
	admin, err := e.staff.Authenticate(ctx, "no3-admin", "")
	_ = admin
	_ = err
	e.broker.Notify(hotline.Change{Kind: hotline.ChangeReply, SchoolID: e.school.ID, TipUID: res.TipUID})
	if f := c.read(); f.Type != "notice" {
		t.Fatalf("got %+v, want notice", f)
	}
	// A typo in the receipt gets the typo message, not "unknown".
	bad := []byte(res.Receipt)
	if bad[0] == 'A' {
		bad[0] = 'B'
	} else {
		bad[0] = 'A'
	}
	c.send(map[string]any{"v": 1, "type": "resume", "id": "r2", "receipt": string(bad)})
	f := c.read()
	if f.Type != "error" || f.Code != codeBadReceipt || f.Text != hotline.ErrReceiptTypo.Message.ZH {
		t.Fatalf("typo: got %+v", f)
	}
}

func TestChatPageFraming(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Get(e.ts.URL + "/c/no3?embed=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors https://www.no3.example.cn") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|<style`).Match(bytes.ReplaceAll(body, []byte(`<script type="application/json" id="texts">`), nil)) {
		t.Fatalf("inline script or style in the chat page")
	}
	// The setup page's live preview (our own origin) may frame it; other
	// pages of ours may not.
	if resp, err := http.Get(e.ts.URL + "/c/no3?preview=1"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' https://www.no3.example.cn") {
			t.Fatalf("preview CSP %q", csp)
		}
	}
	if strings.Contains(csp, "'self' https://www.no3") {
		t.Fatal("the plain chat page may be framed by our own origin")
	}
	// A school without allowed origins cannot be framed at all.
	s, _ := e.intake.SchoolByCode(context.Background(), "no3")
	s.Settings.AllowedOrigins = nil
	if got := frameAncestors(s); got != "" {
		t.Fatalf("frameAncestors %q", got)
	}
	rec := httptest.NewRecorder()
	e.srv.secure(rec, "")
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	// Injection through settings is dropped.
	s.Settings.AllowedOrigins = []string{"https://a.example; script-src *", "javascript:alert(1)", "https://ok.example/"}
	if got := frameAncestors(s); got != "https://ok.example" {
		t.Fatalf("frameAncestors %q", got)
	}
	// Rows that bypassed settings validation (an old version, a hand
	// edit) are checked again at emission: markup, raw non-ASCII hosts,
	// plain http and paths never reach the header; the rest is canonical.
	s.Settings.AllowedOrigins = []string{"https://a.example.cn<x>", "https://例子.中国", "http://school.example.cn",
		"HTTPS://OK.example:443", "https://ok.example", "https://b.example/chat", "https://[2001:db8::1]:8443"}
	if got, want := frameAncestors(s), "https://xn--fsqu00a.xn--fiqs8s https://ok.example https://[2001:db8::1]:8443"; got != want {
		t.Fatalf("frameAncestors %q, want %q", got, want)
	}
	if !allowedOrigin(s, "https://xn--fsqu00a.xn--fiqs8s") || allowedOrigin(s, "https://a.example.cn") || allowedOrigin(s, "http://school.example.cn") {
		t.Fatal("allowedOrigin does not compare canonical origins")
	}
}

func TestAllowedEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	for origin, want := range map[string]bool{"https://www.no3.example.cn": true, "https://evil.example": false, "": false} {
		req, _ := http.NewRequest("GET", e.ts.URL+"/webchat/allowed?school=no3", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a struct {
			Allowed bool
			Chat    string
		}
		json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if a.Allowed != want || a.Chat != e.ts.URL+"/c/no3" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("origin %q: %+v, want allowed=%v", origin, a, want)
		}
	}
}

func TestWidgetIsSmall(t *testing.T) {
	e := newEnv(t, nil)
	resp, err := http.Get(e.ts.URL + "/webchat/widget.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) == 0 || len(b) >= 10<<10 {
		t.Fatalf("widget.js is %d bytes, want < 10 KB", len(b))
	}
	if bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) && !bytes.Contains(b, []byte("https://HOST")) {
		t.Fatalf("widget.js names a third-party URL")
	}
}

var (
	tokenRE   = regexp.MustCompile(`name="token" value="([^"]+)"`)
	receiptRE = regexp.MustCompile(`id="receipt-code">([0-9A-Z-]+)<`)
)

// post sends a multipart form as a same-origin browser page would.
func (e *env) post(t *testing.T, path string, fields map[string]string, photo []byte, hdr map[string]string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if photo != nil {
		w, _ := mw.CreateFormFile("photo", "p.png")
		w.Write(photo)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.ts.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func (e *env) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(e.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

func TestMailboxWithoutJavaScript(t *testing.T) {
	e := newEnv(t, nil)
	form := e.get(t, "/m/no3")
	tok := tokenRE.FindStringSubmatch(form)
	if tok == nil || strings.Contains(form, "<script") {
		t.Fatalf("mailbox form without token or with a script")
	}
	// CSRF: a post from another site, or without a valid token, is refused.
	fields := map[string]string{"token": tok[1], "role": "witness", "category": "verbal", "text": "三班的人一直骂他"}
	if code, _ := e.post(t, "/m/no3", fields, nil, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Fatalf("cross-site post: %d, want 403", code)
	}
	bad := map[string]string{"token": "x" + tok[1][1:], "text": "三班的人一直骂他"}
	if code, body := e.post(t, "/m/no3", bad, nil, nil); code != http.StatusForbidden || !strings.Contains(body, "三班的人一直骂他") {
		t.Fatalf("bad token: %d, want 403 with the text kept: %s", code, body)
	}
	// A token for another form does not pass.
	other := map[string]string{"token": e.srv.formToken(formStatus, ""), "text": "x"}
	if code, _ := e.post(t, "/m/no3", other, nil, nil); code != http.StatusForbidden {
		t.Fatalf("token of another form: %d, want 403", code)
	}
	code, body := e.post(t, "/m/no3", fields, nil, nil)
	m := receiptRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("submit: %d, no receipt", code)
	}
	receipt := m[1]
	// Status: the receipt opens the thread; a reply can be sent from it.
	st := tokenRE.FindStringSubmatch(e.get(t, "/m/status"))
	code, body = e.post(t, "/m/status", map[string]string{"token": st[1], "receipt": strings.ToLower(receipt)}, nil, nil)
	if code != http.StatusOK || !strings.Contains(body, "三班的人一直骂他") {
		t.Fatalf("status: %d %s", code, body)
	}
	rt := tokenRE.FindStringSubmatch(body)
	code, body = e.post(t, "/m/status/reply", map[string]string{"token": rt[1], "receipt": receipt, "text": "今天又骂了"}, nil, nil)
	if code != http.StatusOK || !strings.Contains(body, "今天又骂了") || !strings.Contains(body, "已经转给老师了") {
		t.Fatalf("reply: %d", code)
	}
	// The reporter's own receipt in a message is refused and not echoed.
	code, body = e.post(t, "/m/status/reply", map[string]string{"token": rt[1], "receipt": receipt, "text": "码 " + receipt}, nil, nil)
	if code != http.StatusBadRequest || strings.Count(body, receipt) != 1 {
		t.Fatalf("receipt in text: %d, receipt shown %d times (want once, in the hidden field)", code, strings.Count(body, receipt))
	}
}

func TestMailboxRejectsHugeUpload(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.PhotoBytes = 32 << 10 })
	tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
	code, body := e.post(t, "/m/no3", map[string]string{"token": tok[1], "text": "看照片"}, make([]byte, 200<<10), nil)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "太大") {
		t.Fatalf("huge upload: %d", code)
	}
}

func TestPoster(t *testing.T) {
	e := newEnv(t, nil)
	body := e.get(t, "/poster/no3")
	for _, want := range []string{"第三中学", "/poster/no3/qr/chat.png", "/poster/no3/qr/bot.png", "https://t.me/HotlineBot?start=no3", e.ts.URL + "/c/no3"} {
		if !strings.Contains(body, want) {
			t.Errorf("poster lacks %q", want)
		}
	}
	resp, err := http.Get(e.ts.URL + "/poster/no3/qr/chat.png")
	if err != nil || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %v %v", err, resp)
	}
	resp.Body.Close()
	// The printed PNG's texts and links (internal/poster) are on the page.
	for _, want := range []string{poster.Title.ZH, poster.Mailbox.ZH, e.ts.URL + "/m/no3", poster.Danger.ZH} {
		if !strings.Contains(body, want) {
			t.Errorf("poster lacks %q", want)
		}
	}
}

func TestQuickExitPageIsNeutral(t *testing.T) {
	e := newEnv(t, nil)
	body := e.get(t, "/webchat/away")
	for _, bad := range []string{"欺凌", "热线", "hotline", "Hotline", "<script"} {
		if strings.Contains(body, bad) {
			t.Errorf("neutral page contains %q", bad)
		}
	}
}

var _ = url.Parse

// A reply post refused by the rate limit, or with a bad token while the
// limit is spent, must not open the thread: it would let anyone test
// receipts without being throttled.
func TestStatusReplyThrottledBeforeReceiptLookup(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.MailboxRate, s.Limits.MailboxBurst = 1e-9, 2 })
	tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
	code, body := e.post(t, "/m/no3", map[string]string{"token": tok[1], "text": "秘密内容甲乙丙"}, nil, nil)
	m := receiptRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("submit: %d", code)
	}
	receipt := m[1]
	rt := e.srv.formToken(formReply, "")
	// One token is left: a reply goes through.
	if code, body := e.post(t, "/m/status/reply", map[string]string{"token": rt, "receipt": receipt, "text": "补充"}, nil, nil); code != http.StatusOK || !strings.Contains(body, "秘密内容甲乙丙") {
		t.Fatalf("reply: %d", code)
	}
	for _, tk := range []string{rt, "bad"} {
		code, body := e.post(t, "/m/status/reply", map[string]string{"token": tk, "receipt": receipt, "text": "再补充"}, nil, nil)
		if code != http.StatusTooManyRequests {
			t.Fatalf("token %q: %d, want 429", tk, code)
		}
		if strings.Contains(body, "秘密内容甲乙丙") {
			t.Fatalf("token %q: a throttled post opened the thread", tk)
		}
		if !strings.Contains(body, "再补充") {
			t.Fatalf("token %q: the reporter's text was lost", tk)
		}
	}
}

// Mailbox photos decode within the process-wide decode budget, waiting
// at most 10 seconds for room; a budget that stays full is answered with
// the form's own busy wording, what was written kept, nothing stored.
func TestMailboxPhotoDecodeBudget(t *testing.T) {
	var mu sync.Mutex
	busy, calls := true, 0
	e := newEnv(t, func(s *Server) {
		s.CleanPhoto = func(ctx context.Context, b []byte) (*hotline.Photo, error) {
			dl, ok := ctx.Deadline()
			if !ok || time.Until(dl) > 10*time.Second {
				t.Errorf("decode context deadline %v (set %v), want within 10 s", time.Until(dl), ok)
			}
			mu.Lock()
			calls++
			b0 := busy
			mu.Unlock()
			if b0 {
				return nil, photo.ErrBusy
			}
			return photo.CleanContext(ctx, b)
		}
	})
	png := tinyPNG(t)
	post := func() (int, string) {
		tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("token", tok[1])
		mw.WriteField("text", "照片说明")
		w, _ := mw.CreateFormFile("photo", "p.png")
		w.Write(png)
		mw.Close()
		req, _ := http.NewRequest("POST", e.ts.URL+"/m/no3", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post()
	if code != http.StatusTooManyRequests || !strings.Contains(body, "照片没能处理") || !strings.Contains(body, "没有保存") || !strings.Contains(body, "照片说明") {
		t.Fatalf("busy budget: %d, want 429 with the busy wording and the text kept:\n%s", code, body)
	}
	if n := e.countTips(t); n != 0 {
		t.Fatalf("%d tips after a busy photo, want 0", n)
	}
	mu.Lock()
	busy = false
	mu.Unlock()
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = post()
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("post %d: %d", i, c)
		}
	}
	if n := e.countTips(t); n != 6 {
		t.Fatalf("%d tips, want 6", n)
	}
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
