package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// healthz returns /healthz's status and body.
func healthz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// setWritable makes the database of m refuse every write (or take them
// again) while reads go on, as a full disk does: on SQLite the writer
// connection turns query-only; on PostgreSQL the database's sessions
// become read-only (its connections are cut, and come back so).
func setWritable(t *testing.T, m *Main, ok bool) {
	t.Helper()
	if !pgtest.OnPostgres() {
		v := "1"
		if ok {
			v = "0"
		}
		if _, err := m.DB.Writer().Exec("PRAGMA query_only = " + v); err != nil {
			t.Fatal(err)
		}
		return
	}
	ctx := context.Background()
	dsn := m.Config.DatabaseDSN()
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	stmt := `ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` SET default_transaction_read_only = on`
	if ok {
		stmt = `ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` RESET default_transaction_read_only`
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name); err != nil {
		t.Fatal(err)
	}
}

// demoCase returns the uid of a demo case the counselor can answer.
func demoCase(t *testing.T, m *Main) string {
	t.Helper()
	ctx := context.Background()
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	tips, _, err := m.Triage.Queue(ctx, sess.Actor(), hotline.TipFilter{Channel: hotline.ChannelMailbox})
	if err != nil || len(tips) == 0 {
		t.Fatalf("no demo case: %v", err)
	}
	return tips[0].UID
}

// threadHas reports whether the case's thread holds text.
func threadHas(t *testing.T, m *Main, uid, text string) bool {
	t.Helper()
	ctx := context.Background()
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	_, msgs, err := m.Triage.Thread(ctx, sess, uid)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range msgs {
		if msg.Body == text {
			return true
		}
	}
	return false
}

// TestWritesFailingAreSaidNotHidden: when the database takes no writes
// (disk full) /healthz fails on either engine, and a counselor's reply is
// answered "not saved" on the case page with the typed text kept, not
// with a log-in page; when writes come back /healthz recovers and the
// same reply, sent again, is stored once.
func TestWritesFailingAreSaidNotHidden(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, func(m *Main) { m.HealthProbeEvery = time.Millisecond })
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	uid := demoCase(t, m)
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	casePath := "/inbox/tips/" + uid
	if p := u.get(casePath); p.status != 200 {
		t.Fatalf("case page: %d", p.status)
	}
	if code, body := healthz(t, m.URL()); code != 200 || body != "ok" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	setWritable(t, m, false)
	time.Sleep(10 * time.Millisecond) // past the probe's reuse of its last answer
	// Never 200 while writes fail; "cannot write" once the reads are back
	// (on PostgreSQL the cut connections fail a read or two first).
	for guard := time.Now().Add(time.Minute); ; {
		code, body := healthz(t, m.URL())
		if code != 503 {
			t.Fatalf("healthz while writes fail: %d %q, want 503", code, body)
		}
		if body == "database cannot write" {
			break
		}
		if time.Now().After(guard) {
			t.Fatalf("healthz while writes fail: %d %q, want \"database cannot write\"", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	reply := "我们今天放学前会联系你，先照顾好自己。"
	p := u.postMultipart(casePath+"/reply", map[string]string{"text": reply})
	text := keptText.FindStringSubmatch(p.body)
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "没有保存") || text == nil || html.UnescapeString(text[1]) != reply {
		t.Errorf("reply while writes fail: %d at %s, want 503 \"not saved\" with the reply kept:\n%s", p.status, p.path, p.body)
	}
	if strings.Contains(p.body, "请先登录") || p.path == "/inbox/login" {
		t.Error("a reply not saved was answered as if logged out")
	}
	setWritable(t, m, true)
	deadline := time.Now().Add(time.Minute) // a hang guard: connections come back
	for {
		if code, _ := healthz(t, m.URL()); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("healthz did not recover once writes came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := u.postMultipart(casePath+"/reply", map[string]string{"text": reply}); p.status != 200 || p.path != casePath {
		t.Fatalf("the reply sent again: %d at %s", p.status, p.path)
	}
	if !threadHas(t, m, uid, reply) {
		t.Error("the reply sent again is not in the thread")
	}
}

var (
	unsavedAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	// keptText is the typed text a page gives back: in the case page's
	// reply box, or in the form of a page that could not show the case.
	keptText = regexp.MustCompile(`(?s)<textarea name="text" id="(?:reply|unsaved)-text"[^>]*>(.*?)</textarea>`)
)

// TestReplyWhileDatabaseDown: PostgreSQL (a cluster of the test's own) is
// stopped while a counselor answers a case. The inbox answers 503 "not
// saved" with the typed reply in a form that sends it again — not 401 as
// if logged out — and /healthz fails; once the database is back the same
// form, sent again, stores the reply.
func TestReplyWhileDatabaseDown(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("the PostgreSQL pass: an outage of the database server")
	}
	t.Parallel()
	cluster := pgtest.NewCluster(t)
	dsn := cluster.CreateDatabase("hotline")
	m := MustRunMain(t, func(m *Main) {
		m.Config.Database = dsn
		m.HealthProbeEvery = time.Millisecond
	})
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	uid := demoCase(t, m)
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	casePath := "/inbox/tips/" + uid
	if p := u.get(casePath); p.status != 200 {
		t.Fatalf("case page: %d", p.status)
	}
	cluster.Stop()
	if code, _ := healthz(t, m.URL()); code != 503 {
		t.Errorf("healthz with the database down: %d, want 503", code)
	}
	reply := "我们会尽快和你联系。<不要害怕>"
	p := u.postMultipart(casePath+"/reply", map[string]string{"text": reply})
	if p.status != http.StatusServiceUnavailable || strings.Contains(p.body, "请先登录") || p.path == "/inbox/login" {
		t.Fatalf("reply with the database down: %d at %s, want 503 not saved", p.status, p.path)
	}
	action, text := unsavedAction.FindStringSubmatch(p.body), keptText.FindStringSubmatch(p.body)
	if !strings.Contains(p.body, "没有保存") || action == nil || text == nil || html.UnescapeString(text[1]) != reply || action[1] != casePath+"/reply" {
		t.Fatalf("the answer does not keep the reply to send again:\n%s", p.body)
	}
	if p := u.get(casePath); p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "不需要重新登录") {
		t.Errorf("the case page with the database down: %d, want 503 saying they are still logged in", p.status)
	}
	cluster.Start()
	deadline := time.Now().Add(time.Minute) // a hang guard: the pools reconnect
	for {
		p = u.postMultipart(action[1], map[string]string{"text": html.UnescapeString(text[1])})
		if p.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply sent again after the outage: %d at %s", p.status, p.path)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if p.path != casePath || !threadHas(t, m, uid, reply) {
		t.Errorf("the reply sent again: at %s, stored %v", p.path, threadHas(t, m, uid, reply))
	}
}
