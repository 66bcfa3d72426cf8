package webchat

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
)

// pageClient behaves as chat.js does: it keeps its session token, the
// epoch and last sequence number it saw, and the messages not yet
// acknowledged, which it sends again after every welcome; it discards a
// numbered frame at or below its last number, and resets that number when
// the welcome names another epoch.
type pageClient struct {
	t       testing.TB
	e       *env
	ws      *websocket.Conn
	session string
	epoch   string
	lastSeq int64
	pending []map[string]any // oldest first
	shown   []outFrame       // frames the page showed (not discarded)
}

func (e *env) page(t testing.TB) *pageClient {
	return &pageClient{t: t, e: e, session: newToken()}
}

// connect opens a connection, says hello and handles the welcome.
func (p *pageClient) connect() {
	p.t.Helper()
	u := "ws" + strings.TrimPrefix(p.e.ts.URL, "http") + "/webchat/ws"
	ws, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {p.e.ts.URL}})
	if err != nil {
		p.t.Fatalf("dial: %v", err)
	}
	p.ws = ws
	p.t.Cleanup(func() { ws.Close() })
	hello := map[string]any{"v": 1, "type": "hello", "session": p.session, "school": "no3", "lang": "zh", "last_seq": p.lastSeq}
	if p.epoch != "" {
		hello["epoch"] = p.epoch
	}
	if err := ws.WriteJSON(hello); err != nil {
		p.t.Fatal(err)
	}
	f := p.next()
	if f == nil || f.Type != "welcome" {
		p.t.Fatalf("first frame %+v, want welcome", f)
	}
	if f.Epoch == "" {
		p.t.Fatal("welcome without an epoch")
	}
	if f.Epoch != p.epoch {
		p.epoch, p.lastSeq = f.Epoch, 0
	}
	for _, m := range p.pending {
		if err := ws.WriteJSON(m); err != nil {
			p.t.Fatal(err)
		}
	}
}

// next reads one frame the page would show; nil when a numbered frame
// was discarded as already shown.
func (p *pageClient) next() *outFrame {
	p.t.Helper()
	p.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f outFrame
	if err := p.ws.ReadJSON(&f); err != nil {
		p.t.Fatalf("read: %v", err)
	}
	if f.Seq > 0 {
		if f.Seq <= p.lastSeq {
			return nil
		}
		p.lastSeq = f.Seq
	}
	p.shown = append(p.shown, f)
	if f.Type == "ack" {
		for i, m := range p.pending {
			if m["id"] == f.ID {
				p.pending = append(p.pending[:i], p.pending[i+1:]...)
				break
			}
		}
	}
	return &f
}

// post sends a message and keeps it until acknowledged.
func (p *pageClient) post(m map[string]any) {
	p.t.Helper()
	m["v"] = 1
	p.pending = append(p.pending, m)
	if err := p.ws.WriteJSON(m); err != nil {
		p.t.Fatal(err)
	}
}

// waitAck reads until the ack of id is shown.
func (p *pageClient) waitAck(id string) *outFrame {
	p.t.Helper()
	for {
		if f := p.next(); f != nil && f.Type == "ack" && f.ID == id {
			return f
		}
	}
}

// waitRecorded waits until the message id is recorded as applied in the
// store's record of handled deliveries.
func (p *pageClient) waitRecorded(id string) {
	p.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		done, err := p.e.db.Handled(context.Background(), webKey(p.e.srv.sessionMAC(p.session), id))
		if err != nil {
			p.t.Fatal(err)
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("message %s was not recorded as applied", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// restart stops the web chat server and starts a new one over the same
// database and key, as a restarted process would: its sessions, their
// numbering and their memory of ids are gone.
func (e *env) restart(t testing.TB) {
	t.Helper()
	e.srv.Close()
	e.ts.Close()
	e.srv, e.ts = e.serveAgain(t)
}

// node returns the env as another node serves it: a second web chat
// server over the same database and key, with a memory of its own.
func (e *env) node(t testing.TB) *env {
	n := *e
	n.srv, n.ts = e.serveAgain(t)
	return &n
}

// serveAgain starts a new web chat server like e's.
func (e *env) serveAgain(t testing.TB) (*Server, *httptest.Server) {
	old := e.srv
	srv := &Server{Intake: old.Intake, Reporters: old.Reporters, Schools: old.Schools, Conversation: old.Conversation,
		Broker: old.Broker, MAC: old.MAC, CleanPhoto: old.CleanPhoto, Deliveries: old.Deliveries, Logger: old.Logger,
		BotName: old.BotName, Limits: old.Limits}
	ts := httptest.NewServer(srv.Handler())
	srv.PublicURL = ts.URL
	t.Cleanup(func() { srv.Close(); ts.Close() })
	return srv, ts
}

func (f *fakeConv) count(marker string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, in := range f.inputs {
		if strings.Contains(in.Text, marker) {
			n++
		}
	}
	return n
}

// After a restart a page's frames are numbered from 1 again: the new
// epoch in the welcome makes the page take them instead of discarding
// them, and a message applied before the restart whose ack was lost is
// recognised when the page sends it again, and applied once.
func TestPageSurvivesRestart(t *testing.T) {
	e := newEnv(t, nil)
	p := e.page(t)
	p.connect()
	for i, text := range []string{"一", "二", "三"} {
		id := "m" + string(rune('a'+i))
		p.post(map[string]any{"type": "text", "id": id, "text": text})
		p.waitAck(id)
	}
	if p.lastSeq < 6 {
		t.Fatalf("last seq %d before the restart, want ≥ 6", p.lastSeq)
	}
	before := p.epoch

	// The follow-up is applied, but the connection is gone before its ack.
	p.post(map[string]any{"type": "text", "id": "late", "text": "标记-RESENT-7f3a"})
	p.waitRecorded("late")
	p.ws.Close()
	e.restart(t)

	p.connect()
	if p.epoch == before {
		t.Fatal("the restarted server kept the epoch")
	}
	ack := p.waitAck("late")
	if !ack.Dup || ack.Seq != 1 {
		t.Fatalf("ack after the restart %+v, want dup with seq 1 (shown, not discarded)", ack)
	}
	if n := e.conv.count("标记-RESENT-7f3a"); n != 1 {
		t.Fatalf("follow-up applied %d times, want 1", n)
	}
	// The conversation goes on, answered and shown.
	p.post(map[string]any{"type": "text", "id": "after", "text": "四"})
	p.waitAck("after")
	var replies int
	for _, f := range p.shown {
		if f.Type == "reply" && f.Reply.Text == "echo:四" {
			replies++
		}
	}
	if replies != 1 || len(p.pending) != 0 {
		t.Fatalf("reply shown %d times, %d pending; want 1, 0", replies, len(p.pending))
	}
}

// A message whose ack was lost, resent after a restart to a server whose
// look-up misses it, is still applied once: the key recorded with its
// effect refuses the second delivery, and the page gets a duplicate ack.
func TestResendAfterRestartRefusedByRecord(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Deliveries = forgetfulDeliveries{} })
	p := e.page(t)
	p.connect()
	p.post(map[string]any{"type": "text", "id": "late", "text": "标记-REFUSED-51c2"})
	p.waitRecorded("late")
	p.ws.Close()
	e.restart(t)
	p.connect()
	if ack := p.waitAck("late"); !ack.Dup {
		t.Fatalf("ack of the resend: got %+v, want a duplicate", ack)
	}
	if n := e.conv.count("标记-REFUSED-51c2"); n != 1 {
		t.Fatalf("applied %d times, want 1", n)
	}
}

// A hello with the epoch of another incarnation confirms nothing: frames
// sent before that connection are replayed from 1.
func TestHelloOfOldEpochConfirmsNothing(t *testing.T) {
	e := newEnv(t, nil)
	p := e.page(t)
	p.connect()
	p.post(map[string]any{"type": "text", "id": "x1", "text": "一"})
	p.waitAck("x1")
	p.ws.Close()
	// The page comes back claiming a last number of another epoch.
	p.epoch, p.lastSeq = "stale-epoch", 99
	p.connect()
	if p.lastSeq != 0 {
		t.Fatalf("last seq %d after a new epoch", p.lastSeq)
	}
	f := p.next()
	if f == nil || f.Seq != 1 || f.Type != "reply" {
		t.Fatalf("replay %+v, want the reply numbered 1", f)
	}
}

// Two clients trickling photo uploads do not hold up a third client's
// photo: uploads are read before the decode budget is asked for.
func TestSlowUploadsDoNotBlockPhotos(t *testing.T) {
	e := newEnv(t, nil)
	img := tinyPNG(t)
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
	small := websocket.Dialer{WriteBufferSize: 256}
	for i := range 2 {
		ws, _, err := small.Dial(u, http.Header{"Origin": {e.ts.URL}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		if err := ws.WriteJSON(map[string]any{"v": 1, "type": "hello", "session": newToken(), "school": "no3"}); err != nil {
			t.Fatal(err)
		}
		w, err := ws.NextWriter(websocket.BinaryMessage)
		if err != nil {
			t.Fatal(err)
		}
		// More than the write buffer: the first fragments go out, the
		// frame stays open.
		hdr := `{"v":1,"type":"photo","id":"slow` + string(rune('0'+i)) + `"}` + "\n"
		if _, err := w.Write(append([]byte(hdr), bytes.Repeat([]byte{0}, 600)...)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the server is reading both

	c := e.dial(t, newToken(), 0)
	var b bytes.Buffer
	b.WriteString(`{"v":1,"type":"photo","id":"quick"}` + "\n")
	b.Write(img)
	start := time.Now()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b.Bytes()); err != nil {
		t.Fatal(err)
	}
	got := c.until(func(f outFrame) bool { return f.ID == "quick" })
	if last := got[len(got)-1]; last.Type != "ack" {
		t.Fatalf("the quick photo got %+v, want its ack", last)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the quick photo took %v", d)
	}
}

// A photo frame that does not finish within BodyReadWait ends the
// connection; the page reconnects and sends it again.
func TestPhotoFrameReadDeadline(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Limits.BodyReadWait = 300 * time.Millisecond })
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/webchat/ws"
	small := websocket.Dialer{WriteBufferSize: 256}
	ws, _, err := small.Dial(u, http.Header{"Origin": {e.ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"v": 1, "type": "hello", "session": newToken(), "school": "no3"})
	w, _ := ws.NextWriter(websocket.BinaryMessage)
	w.Write(append([]byte(`{"v":1,"type":"photo","id":"p"}`+"\n"), bytes.Repeat([]byte{0}, 600)...))
	start := time.Now()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("the server kept the unfinished photo frame open")
			}
			break
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func (e *env) countTips(t testing.TB) int {
	t.Helper()
	var n int
	if err := e.db.Reader().Get(&n, `SELECT COUNT(*) FROM tips`); err != nil {
		t.Fatal(err)
	}
	return n
}

// A mailbox form posted twice, one after the other or both at once, files
// one report; the second post is told it was already received.
func TestMailboxDoublePost(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		lang, want string
		together   bool
	}{{"zh", "已经收到了", false}, {"en", "Already received", true}} {
		before := e.countTips(t)
		tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3?lang="+c.lang))
		fields := map[string]string{"token": tok[1], "role": "witness", "category": "verbal", "text": "双击-" + c.lang, "lang": c.lang}
		codes, bodies := make([]int, 2), make([]string, 2)
		if c.together {
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Add(1)
				go func() { defer wg.Done(); codes[i], bodies[i] = e.post(t, "/m/no3", fields, nil, nil) }()
			}
			wg.Wait()
		} else {
			for i := range 2 {
				codes[i], bodies[i] = e.post(t, "/m/no3", fields, nil, nil)
			}
		}
		receipts, received := 0, 0
		for i := range 2 {
			if codes[i] != http.StatusOK {
				t.Fatalf("%s post %d: %d", c.lang, i, codes[i])
			}
			if receiptRE.MatchString(bodies[i]) {
				receipts++
			}
			if strings.Contains(bodies[i], c.want) {
				received++
			}
		}
		if receipts != 1 || received != 1 {
			t.Fatalf("%s: %d receipt pages and %d already-received pages, want 1 and 1", c.lang, receipts, received)
		}
		if n := e.countTips(t) - before; n != 1 {
			t.Fatalf("%s: %d tips filed, want 1", c.lang, n)
		}
	}
}

// The same mailbox form posted at once to two nodes files one report:
// each node serialises only its own posts, and the second node does not
// even look the form up first, so the record written with the report
// decides. Every other post is told it was already received.
func TestMailboxPostsOnTwoNodesFileOnce(t *testing.T) {
	e := newEnv(t, nil)
	other := e.node(t)
	other.srv.Deliveries = forgetfulDeliveries{}
	for round := range 3 {
		before := e.countTips(t)
		tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
		fields := map[string]string{"token": tok[1], "role": "witness", "category": "verbal", "text": fmt.Sprintf("两台-%d", round)}
		const posts = 4
		codes, bodies := make([]int, posts), make([]string, posts)
		var wg sync.WaitGroup
		for i := range posts {
			node := e
			if i%2 == 1 {
				node = other
			}
			wg.Add(1)
			go func() { defer wg.Done(); codes[i], bodies[i] = node.post(t, "/m/no3", fields, nil, nil) }()
		}
		wg.Wait()
		receipts, received := 0, 0
		for i := range posts {
			if codes[i] != http.StatusOK {
				t.Fatalf("round %d post %d: %d\n%s", round, i, codes[i], bodies[i])
			}
			if receiptRE.MatchString(bodies[i]) {
				receipts++
			}
			if strings.Contains(bodies[i], "已经收到了") {
				received++
			}
		}
		if receipts != 1 || received != posts-1 {
			t.Fatalf("round %d: %d receipt pages and %d already-received pages, want 1 and %d", round, receipts, received, posts-1)
		}
		if n := e.countTips(t) - before; n != 1 {
			t.Fatalf("round %d: %d tips filed, want 1", round, n)
		}
	}
}

// failingIntake fails every write as a full disk would.
type failingIntake struct{ hotline.IntakeService }

var errDiskFull = hotline.Errorf(hotline.EINTERNAL, "database or disk is full", "database or disk is full")

func (failingIntake) Submit(context.Context, hotline.Submission) (*hotline.Submitted, error) {
	return nil, errDiskFull
}

func (failingIntake) AddReporterMessage(context.Context, hotline.ReporterRef, string, *hotline.Photo) (*hotline.ReporterMessageResult, error) {
	return nil, errDiskFull
}

// When the write fails the mailbox says that nothing was saved, not that
// nothing is lost; the text is kept for the next try.
func TestMailboxFailedWriteSaysNotSaved(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Intake = failingIntake{s.Intake} })
	tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
	code, body := e.post(t, "/m/no3", map[string]string{"token": tok[1], "text": "写满了"}, nil, nil)
	if code != http.StatusInternalServerError || !strings.Contains(body, "没有保存") || strings.Contains(body, "不会丢") || !strings.Contains(body, "写满了") {
		t.Fatalf("failed submit: %d\n%s", code, body)
	}
	// The token was not used up: the reporter can submit again.
	if used, _ := e.db.Handled(context.Background(), reportKey(e.srv.formUseMAC(tok[1]))); used {
		t.Fatal("a failed submit used up the token")
	}

	res, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	code, body = e.post(t, "/m/status/reply", map[string]string{"token": e.srv.formToken(formReply, ""), "receipt": res.Receipt, "text": "补充"}, nil, nil)
	if code != http.StatusInternalServerError || !strings.Contains(body, "这条消息没有保存") || strings.Contains(body, "不会丢") {
		t.Fatalf("failed reply: %d\n%s", code, body)
	}

	// A database that is gone: nothing stored, and the page says so.
	e2 := newEnv(t, nil)
	tok = tokenRE.FindStringSubmatch(e2.get(t, "/m/no3?lang=en"))
	e2.db.Close()
	code, body = e2.post(t, "/m/no3?lang=en", map[string]string{"token": tok[1], "text": "closed", "lang": "en"}, nil, nil)
	if code < 500 || !strings.Contains(body, "not saved") || strings.Contains(body, "is lost") {
		t.Fatalf("closed database: %d\n%s", code, body)
	}
}

// forgetfulDeliveries never finds a delivery applied: as if the look-up
// had missed it (a node that raced the one that applied it), so that only
// the key recorded with the effect stands between a retry and a second
// effect.
type forgetfulDeliveries struct{}

func (forgetfulDeliveries) Handled(context.Context, string) (bool, error) { return false, nil }

// The token is used in the transaction that files the report, so a post
// that finds no mark before it (the fast path) still files nothing twice.
func TestMailboxTokenUsedWithReport(t *testing.T) {
	e := newEnv(t, func(s *Server) { s.Deliveries = forgetfulDeliveries{} })
	before := e.countTips(t)
	tok := tokenRE.FindStringSubmatch(e.get(t, "/m/no3"))
	fields := map[string]string{"token": tok[1], "role": "witness", "category": "verbal", "text": "重发"}
	if code, body := e.post(t, "/m/no3", fields, nil, nil); code != http.StatusOK || !receiptRE.MatchString(body) {
		t.Fatalf("first post: %d\n%s", code, body)
	}
	if code, body := e.post(t, "/m/no3", fields, nil, nil); code != http.StatusOK || !strings.Contains(body, "已经收到了") {
		t.Fatalf("second post: %d\n%s", code, body)
	}
	if n := e.countTips(t) - before; n != 1 {
		t.Fatalf("%d tips filed, want 1", n)
	}
}

// A reply form posted twice stores its message once; the second post is
// told it was received.
func TestMailboxReplyOnce(t *testing.T) {
	e := newEnv(t, nil)
	res, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"开头"}})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{"token": e.srv.formToken(formReply, ""), "receipt": res.Receipt, "text": "补充一次"}
	if code, body := e.post(t, "/m/status/reply", fields, nil, nil); code != http.StatusOK || !strings.Contains(body, "已经转给老师了") {
		t.Fatalf("first reply: %d\n%s", code, body)
	}
	if code, body := e.post(t, "/m/status/reply", fields, nil, nil); code != http.StatusOK || !strings.Contains(body, "之前已经收到了") {
		t.Fatalf("second reply: %d\n%s", code, body)
	}
	_, msgs, err := e.srv.Reporters.ThreadByReceipt(context.Background(), res.Receipt)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2 (the report and one reply)", len(msgs))
	}
}
