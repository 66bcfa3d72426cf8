package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// restartPage is a websocket client that behaves as chat.js does across a
// server restart: it keeps its session token, the epoch and last number
// it saw and the messages not yet acknowledged; after each welcome it
// resets its number if the epoch changed, sends the unacknowledged
// messages again and, holding a receipt, syncs its thread.
type restartPage struct {
	t       *testing.T
	ws      *websocket.Conn
	session string
	epoch   string
	lastSeq int64
	receipt string
	pending []map[string]any
}

type restartFrame struct {
	wsFrame
	Epoch string `json:"epoch"`
}

func (p *restartPage) connect(base string) {
	p.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/webchat/ws", http.Header{"Origin": {base}})
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { ws.Close() })
	p.ws = ws
	p.write(map[string]any{"v": 1, "type": "hello", "session": p.session, "school": "no3", "lang": "zh", "last_seq": p.lastSeq, "epoch": p.epoch})
	f := p.next()
	if f == nil || f.Type != "welcome" || f.Epoch == "" {
		p.t.Fatalf("got %+v, want a welcome with an epoch", f)
	}
	if f.Epoch != p.epoch {
		p.epoch, p.lastSeq = f.Epoch, 0
	}
	for _, m := range p.pending {
		p.write(m)
	}
}

func (p *restartPage) write(m map[string]any) {
	p.t.Helper()
	if err := p.ws.WriteJSON(m); err != nil {
		p.t.Fatal(err)
	}
}

// next reads a frame; nil if the page discards it as already shown.
func (p *restartPage) next() *restartFrame {
	p.t.Helper()
	p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f restartFrame
	if err := p.ws.ReadJSON(&f); err != nil {
		p.t.Fatalf("read: %v", err)
	}
	if f.Seq != 0 {
		if f.Seq <= p.lastSeq {
			return nil
		}
		p.lastSeq = f.Seq
	}
	if f.Reply != nil && f.Reply.Kind == "receipt" {
		p.receipt = f.Reply.Receipt
	}
	return &f
}

// do posts a message and returns the frames shown up to its ack, which
// settles it.
func (p *restartPage) do(id string, m map[string]any) []*restartFrame {
	p.t.Helper()
	m["v"], m["id"] = 1, id
	if p.receipt != "" {
		m["receipt"] = p.receipt
	}
	p.pending = append(p.pending, m)
	p.write(m)
	return p.until(id)
}

func (p *restartPage) until(id string) []*restartFrame {
	p.t.Helper()
	var out []*restartFrame
	for {
		f := p.next()
		if f == nil {
			continue
		}
		out = append(out, f)
		if (f.Type == "ack" || f.Type == "error") && f.ID == id {
			for i, m := range p.pending {
				if m["id"] == id {
					p.pending = append(p.pending[:i], p.pending[i+1:]...)
					break
				}
			}
			return out
		}
	}
}

func buttonOf(t *testing.T, fs []*restartFrame, prefix string) string {
	t.Helper()
	var w []wsFrame
	for _, f := range fs {
		w = append(w, f.wsFrame)
	}
	return button(t, w, prefix)
}

// The server restarts under an open chat page: the page's frames are not
// discarded (the ack of its resent follow-up arrives, numbered from 1 in
// the new epoch), and a follow-up whose ack was lost before the restart
// and is resent after it is stored exactly once, by its marker in the
// decrypted thread.
func TestWebchatPageSurvivesRestart(t *testing.T) {
	e := newWebchatEnv(t)
	ctx := context.Background()
	dir := e.dir
	p := &restartPage{t: t, session: randToken()}
	p.connect(e.m.URL())
	fs := p.do("c1", map[string]any{"type": "command", "command": "new"})
	fs = p.do("c2", map[string]any{"type": "choice", "data": buttonOf(t, fs, "role:victim")})
	p.do("c3", map[string]any{"type": "choice", "data": buttonOf(t, fs, "cat:verbal")})
	report := canaryText("他们在班群里骂我-")
	fs = p.do("t1", map[string]any{"type": "text", "text": report})
	fs = p.do("c4", map[string]any{"type": "choice", "data": buttonOf(t, fs, "done")})
	fs = p.do("c5", map[string]any{"type": "choice", "data": buttonOf(t, fs, "danger:no")})
	p.do("c6", map[string]any{"type": "choice", "data": buttonOf(t, fs, "send")})
	if p.receipt == "" {
		t.Fatal("no receipt")
	}
	receipt := p.receipt

	// A follow-up is applied, and its ack is lost with the connection: the
	// page still holds it as unacknowledged.
	follow := canaryText("今天又发生了-")
	m := map[string]any{"v": 1, "type": "text", "id": "f1", "text": follow, "receipt": receipt}
	p.pending = append(p.pending, m)
	p.write(m)
	for {
		p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f restartFrame
		if err := p.ws.ReadJSON(&f); err != nil {
			t.Fatal(err)
		}
		if f.Type == "ack" && f.ID == "f1" {
			break // never reaches the page
		}
	}
	p.ws.Close()
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}

	m2 := MustRunMain(t, withDataDir(dir))
	before := p.epoch
	p.connect(m2.URL())
	if p.epoch == before {
		t.Fatal("the epoch did not change across the restart")
	}
	fs = p.until("f1")
	if last := fs[len(fs)-1]; last.Type != "ack" || !last.Dup || last.Seq != 1 {
		t.Fatalf("resent follow-up after the restart: %+v, want its dup ack numbered 1", last)
	}
	// The conversation goes on in the new epoch: a new follow-up is
	// acknowledged and the synced thread shows it.
	more := canaryText("还有一件事-")
	if fs := p.do("f2", map[string]any{"type": "text", "text": more}); fs[len(fs)-1].Type != "ack" {
		t.Fatalf("follow-up after the restart: %+v", fs[len(fs)-1])
	}
	var shown []string
	for _, f := range p.do("s1", map[string]any{"type": "sync"}) {
		if f.Msg != nil {
			shown = append(shown, f.Msg.Text)
		}
	}
	_, msgs, err := m2.Intake.ThreadByReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{report, follow, more} {
		n := 0
		for _, msg := range msgs {
			n += strings.Count(msg.Body, marker)
		}
		if n != 1 {
			t.Errorf("the thread holds %q %d times, want once", marker, n)
		}
		if !strings.Contains(strings.Join(shown, "\n"), marker) {
			t.Errorf("the synced page does not show %q", marker)
		}
	}
}

// A mailbox form posted, then posted again after a restart, files one
// report; the second post is told it was already received.
func TestWebchatMailboxDoublePostAcrossRestart(t *testing.T) {
	e := newWebchatEnv(t)
	dir := e.dir
	form := getBody(t, e.m.URL()+"/m/no3")
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindStringSubmatch(form)
	if tok == nil {
		t.Fatal("no token")
	}
	marker := canaryText("信箱双击-")
	vals := url.Values{"token": {tok[1]}, "role": {"witness"}, "category": {"verbal"}, "text": {marker}}
	code, body := postForm(t, e.m.URL()+"/m/no3", vals)
	if code != http.StatusOK || !strings.Contains(body, `id="receipt-code"`) {
		t.Fatalf("first post: %d", code)
	}
	receipt := regexp.MustCompile(`id="receipt-code">([0-9A-Z-]+)<`).FindStringSubmatch(body)[1]
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := MustRunMain(t, withDataDir(dir))
	code, body = postForm(t, m2.URL()+"/m/no3", vals)
	if code != http.StatusOK || !strings.Contains(body, "已经收到了") || strings.Contains(body, `id="receipt-code"`) {
		t.Fatalf("second post: %d\n%s", code, body)
	}
	var n int
	if err := m2.DB.Reader().Get(&n, `SELECT COUNT(*) FROM tips`); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d tips, want 1", n)
	}
	if _, msgs, err := m2.Intake.ThreadByReceipt(context.Background(), receipt); err != nil || len(msgs) == 0 || !strings.Contains(msgs[0].Body, marker) {
		t.Fatalf("the first post's report: %v", err)
	}
}

func getBody(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func postForm(t *testing.T, u string, vals url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(u, vals)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
