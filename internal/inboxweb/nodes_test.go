package inboxweb_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"hotline/internal/inboxweb"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/staff"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// node returns a second inbox node on the same database: its own vault (the
// same server key), services, broker and HTTP server, sharing nothing in
// memory with e.
func (e *env) node() *env {
	e.t.Helper()
	v, err := vault.New(bytes.Repeat([]byte{7}, 32), cheapArgon)
	if err != nil {
		e.t.Fatal(err)
	}
	broker := live.NewBroker()
	n := &env{t: e.t, db: e.db, broker: broker, clock: e.clock}
	n.st = staff.New(e.db, v, nil)
	n.tr = triage.New(e.db, v, broker, nil)
	n.in = intake.New(e.db, v, broker, nil)
	n.srv, err = inboxweb.New(inboxweb.Config{Staff: n.st, Triage: n.tr, Intake: n.in, Broker: broker, Clock: e.clock, IdleTimeout: 30 * time.Minute})
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inbox/", n.srv)
	n.hs = httptest.NewServer(mux)
	e.t.Cleanup(func() {
		n.hs.CloseClientConnections()
		n.srv.Close()
		n.hs.Close()
	})
	return n
}

// on is the same browser (cookie jar) talking to another node.
func (u *user) on(n *env) *user { return &user{e: n, c: u.c, csrf: u.csrf} }

func sessionCookieValue(t *testing.T, u *user) string {
	t.Helper()
	base, _ := url.Parse(u.e.hs.URL)
	for _, c := range u.c.Jar.Cookies(base) {
		if c.Name == "hl_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// TestSessionOnAnyNode: a log-in on one node works on another (reading a
// sealed thread needs the school key, so the key travelled), and log-out on
// the second ends it on the first.
func TestSessionOnAnyNode(t *testing.T) {
	e := newEnv(t)
	sf := e.school("aa")
	tip := e.tip("aa", "操场后面有人抢我的钱，好几次了")
	a := e.node()
	b := e.node()
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	for _, n := range []*env{a, b} {
		r := u.on(n).get("/inbox/tips/" + tip.TipUID)
		if r.Status != 200 || !strings.Contains(r.Body, "抢我的钱") {
			t.Fatalf("thread on another node: %d at %s: %s", r.Status, r.URL, excerpt(r.Body))
		}
	}
	// A reply posted on node a with the CSRF token node e rendered.
	if r := u.on(a).post("/inbox/tips/"+tip.TipUID+"/reply", url.Values{"text": {"我们收到了，会跟进。"}}); r.Status != 200 {
		t.Fatalf("reply on another node: %d %s", r.Status, excerpt(r.Body))
	}
	if r := u.on(b).get("/inbox/tips/" + tip.TipUID); !strings.Contains(r.Body, "我们收到了") {
		t.Fatalf("reply not seen on node b: %s", excerpt(r.Body))
	}
	if r := u.on(b).post("/inbox/logout", nil); r.URL != "/inbox/login" {
		t.Fatalf("logout on b: at %s", r.URL)
	}
	// The browser dropped its cookie; a copy of it is dead everywhere too.
	for _, n := range []*env{e, a, b} {
		if r := u.on(n).get("/inbox/"); r.URL != "/inbox/login" {
			t.Fatalf("after logout, node serves %s", r.URL)
		}
	}
}

// TestStolenDatabaseOpensNoSession: what the database holds of a session
// (a MAC of the cookie's id and the key wrapped under its secret) neither
// contains the cookie nor opens the key without it; a cookie with the right
// id and a wrong secret is refused.
func TestStolenDatabaseOpensNoSession(t *testing.T) {
	e := newEnv(t)
	sf := e.school("aa")
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	cookie := sessionCookieValue(t, u)
	id, secret, _ := strings.Cut(cookie, ".")
	var rows []struct {
		IDMAC   []byte `db:"id_mac"`
		Wrapped []byte `db:"wrapped_key"`
	}
	if err := e.db.Reader().Select(&rows, `SELECT id_mac, wrapped_key FROM staff_sessions`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d session rows, want 1", len(rows))
	}
	for _, part := range []string{id, secret} {
		if bytes.Contains(rows[0].IDMAC, []byte(part)) || bytes.Contains(rows[0].Wrapped, []byte(part)) {
			t.Fatal("the cookie is in the database")
		}
	}
	// Without the secret, the wrapped key does not open: not with the id
	// (which a thief does not have either), not with zeros.
	for _, guess := range [][]byte{make([]byte, 32), []byte(id)[:32]} {
		if _, err := vault.UnwrapWithSessionSecret(rows[0].Wrapped, guess, rows[0].IDMAC); err == nil {
			t.Fatal("wrapped key opened without the cookie's secret")
		}
	}
	// A forged cookie: right id, wrong secret.
	forged := id + "." + strings.Repeat("A", len(secret))
	req, _ := http.NewRequest("GET", e.hs.URL+"/inbox/", nil)
	req.AddCookie(&http.Cookie{Name: "hl_session", Value: forged})
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
		t.Fatalf("forged cookie: %d, want a redirect to log-in", res.StatusCode)
	}
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "/inbox/login") {
		t.Fatalf("forged cookie sent to %q", loc)
	}
}

// TestSessionsEndEverywhere: a password change ends the counselor's other
// sessions and a deactivation ends all of theirs, on every node, and idle
// sessions are deleted from the database.
func TestSessionsEndEverywhere(t *testing.T) {
	e := newEnv(t)
	sf := e.school("aa")
	pw := e.counselor(sf, "wang", "counselor")
	admin := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	n := e.node()
	w1 := e.login("wang", pw, newPW)
	w2 := n.login("wang", newPW, "")
	// w1 changes the password: w2 (on the other node) is out, w1 stays.
	if r := w1.post("/inbox/password", url.Values{"current": {newPW}, "new": {"another-pass-123"}, "again": {"another-pass-123"}}); r.Status != 200 {
		t.Fatalf("change password: %d %s", r.Status, excerpt(r.Body))
	}
	if r := w2.get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("other session after a password change: at %s", r.URL)
	}
	if r := w1.on(n).get("/inbox/"); r.URL != "/inbox/" {
		t.Fatalf("changing session on the other node: at %s", r.URL)
	}
	// The admin deactivates wang on node e; w1 is out on node n as well.
	var id int64
	if err := e.db.Reader().Get(&id, `SELECT id FROM counselors WHERE username = 'wang'`); err != nil {
		t.Fatal(err)
	}
	admin.get("/inbox/admin/counselors")
	if r := admin.post("/inbox/admin/counselors/"+strconvI(id)+"/deactivate", nil); r.Status != 200 {
		t.Fatalf("deactivate: %d", r.Status)
	}
	if r := w1.on(n).get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("deactivated session on the other node: at %s", r.URL)
	}
	var left int
	e.db.Reader().Get(&left, `SELECT count(*) FROM staff_sessions WHERE counselor_id = ?`, id)
	if left != 0 {
		t.Fatalf("%d sessions of a deactivated counselor remain", left)
	}
	// Idle: the admin's session expires after 30 idle minutes, and the
	// sweep deletes its row.
	e.clock.Add(31 * time.Minute)
	if err := e.st.SweepSessions(context.Background(), 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	var all int
	e.db.Reader().Get(&all, `SELECT count(*) FROM staff_sessions`)
	if all != 0 {
		t.Fatalf("%d idle sessions remain after the sweep", all)
	}
	if r := admin.on(n).get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("idle session: at %s", r.URL)
	}
}
