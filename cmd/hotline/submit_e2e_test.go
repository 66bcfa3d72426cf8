package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// dialPage opens the chat websocket as chat.js does, with its session
// token and its page secret in hello.
func dialPage(t *testing.T, m *Main, session, pageSecret string) *wsPage {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(m.URL(), "http")+"/webchat/ws", http.Header{"Origin": {m.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	p := &wsPage{t: t, ws: ws, seen: map[int64]bool{}}
	p.send(map[string]any{"type": "hello", "session": session, "school": "no3", "lang": "zh", "page": pageSecret})
	if f := p.next(); f.Type != "welcome" {
		t.Fatalf("got %+v, want welcome", f)
	}
	return p
}

// A web page sends its report and loses the connection before the answer;
// the server restarts; the page reconnects with its session and page
// secret and sends "send" again, as chat.js does with an unacknowledged
// frame. It gets its receipt (not "this button has expired"), and the
// report is filed exactly once, counted in the decrypted threads.
func TestWebchatSendResentAcrossRestartGetsReceipt(t *testing.T) {
	m := MustRunMain(t)
	dir := m.Config.DataDir
	ctx := context.Background()
	created, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	session, secret := randToken(), randToken()
	marker := canaryText("MARKER-RESEND-")
	p := dialPage(t, m, session, secret)
	fs := p.do("c1", map[string]any{"type": "command", "command": "new"})
	fs = p.do("c2", map[string]any{"type": "choice", "data": button(t, fs, "role:victim")})
	p.do("c3", map[string]any{"type": "choice", "data": button(t, fs, "cat:verbal")})
	fs = p.do("t1", map[string]any{"type": "text", "text": "他们在班级群里骂我 " + marker})
	fs = p.do("c4", map[string]any{"type": "choice", "data": button(t, fs, "done")})
	fs = p.do("c5", map[string]any{"type": "choice", "data": button(t, fs, "danger:no")})
	send := button(t, fs, "send")
	// "send", and the connection drops before its answer.
	p.send(map[string]any{"type": "choice", "id": "c6", "data": send})
	p.ws.UnderlyingConn().Close()

	admin := hotline.Actor{CounselorID: created.Admin.ID, SchoolID: created.School.ID, Role: hotline.RoleAdmin}
	deadline := time.Now().Add(time.Minute)
	for {
		tips, _, err := m.Triage.Queue(ctx, admin, hotline.TipFilter{SchoolID: created.School.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(tips) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the report was never filed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = MustRunMain(t, withDataDir(dir))

	p = dialPage(t, m, session, secret)
	fs = p.do("c6", map[string]any{"type": "choice", "data": send})
	var receipt string
	for _, f := range fs {
		if f.Reply == nil {
			continue
		}
		if f.Reply.Kind == "receipt" {
			receipt = f.Reply.Receipt
		}
		if strings.Contains(f.Reply.Text, "过期") {
			t.Errorf("resent send answered %q", f.Reply.Text)
		}
	}
	if receipt == "" {
		t.Fatalf("no receipt after the resend: %+v", fs)
	}
	if _, _, err := m.Intake.ThreadByReceipt(ctx, receipt); err != nil {
		t.Fatalf("the receipt handed back does not open the thread: %v", err)
	}

	sess, err := m.Staff.Authenticate(ctx, created.Admin.Username, created.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	tips, _, err := m.Triage.Queue(ctx, sess.Actor(), hotline.TipFilter{SchoolID: created.School.ID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tip := range tips {
		_, msgs, err := m.Triage.Thread(ctx, sess, tip.UID)
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range msgs {
			n += strings.Count(msg.Body, marker)
		}
	}
	if n != 1 {
		t.Fatalf("report filed %d times, want exactly once", n)
	}
}
