package inboxweb_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
)

// twoSchools sets up schools A and B, each with a logged-in admin, and a
// tip with a photo in B.
type twoSchools struct {
	e              *env
	a, b           *schoolFix
	ua, ub         *user
	tipB           *hotline.Submitted
	photoB         string
	adminB, adminA int64
}

func setupTwo(t *testing.T) *twoSchools {
	e := newEnv(t)
	ts := &twoSchools{e: e, a: e.school("aa"), b: e.school("bb")}
	ts.ua = e.login(ts.a.AdminUser, ts.a.AdminPassword, newPW)
	ts.ub = e.login(ts.b.AdminUser, ts.b.AdminPassword, newPW)
	ts.tipB, ts.photoB = e.photoTip("bb")
	ra, _ := e.db.CounselorByUsername(context.Background(), ts.a.AdminUser)
	rb, _ := e.db.CounselorByUsername(context.Background(), ts.b.AdminUser)
	ts.adminA, ts.adminB = ra.ID, rb.ID
	return ts
}

// snapshot is everything about B that an action could change.
func (ts *twoSchools) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	tip, err := ts.e.db.TipByUID(ctx, ts.tipB.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := ts.e.db.Messages(ctx, tip.ID)
	events, _ := ts.e.db.TipEvents(ctx, tip.ID)
	staff, _ := ts.e.db.Counselors(ctx, ts.b.School.ID, "")
	school, _ := ts.e.db.SchoolByID(ctx, ts.b.School.ID)
	var b strings.Builder
	for _, c := range staff {
		b.WriteString(c.Username)
		if c.Active {
			b.WriteString("+")
		}
	}
	return strings.Join([]string{string(tip.Status), string(tip.Severity), string(tip.Category), itoa(tip.AssigneeID),
		itoa(int64(len(msgs))), itoa(int64(len(events))), b.String(), school.Name, school.Code, strings.Join(school.Settings.AllowedOrigins, ",")}, "|")
}

var tipActions = map[string]url.Values{
	"reply":    {"text": {"来自别校的回复"}},
	"note":     {"text": {"来自别校的备注"}},
	"status":   {"status": {"acknowledged"}},
	"severity": {"severity": {"criminal"}},
	"category": {"category": {"other"}},
	"urgent":   {"urgent": {"1"}},
	"assign":   {"assignee": {"0"}},
	"steps":    {"shown": {"counseling"}, "step": {"counseling"}},
	"escalate": {"confirm": {"1"}},
	"district": {},
}

func TestAuthorizationMatrix(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	var before string
	// The same tip and photo are visible to B: the 404s below are about
	// who asks, not about a broken fixture.
	if r := ts.ub.get("/inbox/tips/" + ts.tipB.TipUID); r.Status != 200 || !strings.Contains(r.Body, "看这张照片") {
		t.Fatalf("B's own tip: %d", r.Status)
	}
	if r := ts.ub.get("/inbox/photos/" + ts.photoB); r.Status != 200 {
		t.Fatalf("B's own photo: %d", r.Status)
	}
	before = ts.snapshot(t) // B's view marks it read; not an action

	cases := []struct {
		name string
		do   func() resp
	}{
		{"tip page", func() resp { return ts.ua.get("/inbox/tips/" + ts.tipB.TipUID) }},
		{"photo", func() resp { return ts.ua.get("/inbox/photos/" + ts.photoB) }},
		{"assignee filter", func() resp { return ts.ua.get("/inbox/?assignee=" + itoa(ts.adminB)) }},
		{"assignee filter fragment", func() resp { return ts.ua.get("/inbox/queue?assignee=" + itoa(ts.adminB)) }},
		{"deactivate B's admin", func() resp { return ts.ua.post("/inbox/admin/counselors/"+itoa(ts.adminB)+"/deactivate", nil) }},
		{"evidence form", func() resp { return ts.ua.get("/inbox/tips/" + ts.tipB.TipUID + "/evidence") }},
		{"evidence export", func() resp {
			return ts.ua.post("/inbox/tips/"+ts.tipB.TipUID+"/evidence", url.Values{"reason": {"police"}, "confirm": {"1"}})
		}},
	}
	for action, form := range tipActions {
		cases = append(cases, struct {
			name string
			do   func() resp
		}{"POST " + action, func() resp {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			return ts.ua.post("/inbox/tips/"+ts.tipB.TipUID+"/"+action, f)
		}})
	}
	for _, c := range cases {
		r := c.do()
		if r.Status != http.StatusNotFound {
			t.Errorf("%s: A got %d, want 404", c.name, r.Status)
		}
		if strings.Contains(r.Body, "看这张照片") || strings.Contains(r.Body, ts.tipB.Alias.ZH) {
			t.Errorf("%s: A's response shows B's tip", c.name)
		}
	}
	// Assigning B's tip's counterpart: A may not assign a counselor of B to A's tip.
	tipA := e.tip("aa", "A 校的报告")
	if r := ts.ua.post("/inbox/tips/"+tipA.TipUID+"/assign", url.Values{"assignee": {itoa(ts.adminB)}}); r.Status != 400 {
		t.Errorf("assign B's counselor to A's tip: %d", r.Status)
	}
	// A's queue never lists B's tips.
	if r := ts.ua.get("/inbox/?status=all"); strings.Contains(r.Body, ts.tipB.TipUID) || !strings.Contains(r.Body, tipA.TipUID) {
		t.Error("A's queue is wrong")
	}
	if after := ts.snapshot(t); after != before {
		t.Fatalf("B changed:\n got %s\nwant %s", after, before)
	}
}

// stream opens the live channel as u and returns a channel of its "data:"
// lines.
func (u *user) stream(t *testing.T) (<-chan string, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest("GET", u.e.hs.URL+"/inbox/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	c := &http.Client{Jar: u.c.Jar}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	lines := make(chan string, 100)
	if res.StatusCode != 200 {
		close(lines)
		return lines, res
	}
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if s := sc.Text(); strings.HasPrefix(s, "data:") || strings.HasPrefix(s, "event:") {
				lines <- s
			}
		}
	}()
	return lines, res
}

func TestLiveChannelIsPerSchool(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	lines, res := ts.ua.stream(t)
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// Activity in B: a new tip, a reporter message, a counselor action.
	tb := e.tip("bb", "B 校的新报告")
	actorB := hotline.Actor{CounselorID: ts.adminB, SchoolID: ts.b.School.ID, Role: hotline.RoleAdmin}
	if err := e.tr.SetSeverity(context.Background(), actorB, tb.TipUID, hotline.SeverityMinor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.in.AddReporterMessage(context.Background(), hotline.ReporterRef{Receipt: tb.Receipt}, "补充", nil); err != nil {
		t.Fatal(err)
	}
	// Then a sentinel in A: the first thing A hears must be about it.
	ta := e.tip("aa", "A 校的新报告")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.Contains(l, tb.TipUID) || strings.Contains(l, ts.tipB.TipUID) {
				t.Fatalf("A heard about B: %s", l)
			}
			if strings.Contains(l, "补充") || strings.Contains(l, "新报告") {
				t.Fatalf("notice carries content: %s", l)
			}
			if strings.Contains(l, ta.TipUID) {
				if !strings.Contains(l, `"kind":"new_tip"`) || !strings.Contains(l, `"unread":1`) {
					t.Fatalf("sentinel = %s", l)
				}
				return
			}
		case <-deadline:
			t.Fatal("no live notice for A's own tip")
		}
	}
}

func TestExpiredAndDeactivatedGetNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sf := e.school("cc")
	tip := e.tip("cc", "秘密内容 42")
	pw := e.counselor(sf, "li.na", hotline.RoleCounselor)
	admin := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	li := e.login("li.na", pw, newPW)
	if r := li.get("/inbox/tips/" + tip.TipUID); !strings.Contains(r.Body, "秘密内容 42") {
		t.Fatal("fixture: counselor cannot see the tip")
	}
	noContent := func(who string, u *user) {
		t.Helper()
		for _, p := range []string{"/inbox/", "/inbox/tips/" + tip.TipUID, "/inbox/intake", "/inbox/account"} {
			r := u.get(p)
			if r.URL != "/inbox/login" || strings.Contains(r.Body, "秘密内容") || strings.Contains(r.Body, tip.Alias.ZH) {
				t.Errorf("%s GET %s: %d at %s", who, p, r.Status, r.URL)
			}
		}
		req, _ := http.NewRequest("GET", e.hs.URL+"/inbox/queue", nil)
		req.Header.Set("X-Requested-With", "fetch")
		if r := u.do(req); r.Status != 401 || strings.Contains(r.Body, tip.Alias.ZH) {
			t.Errorf("%s fragment: %d", who, r.Status)
		}
		if _, res := u.stream(t); res.StatusCode != 401 {
			t.Errorf("%s events: %d", who, res.StatusCode)
		}
		if r := u.post("/inbox/tips/"+tip.TipUID+"/note", url.Values{"text": {"x"}}); r.Status != 401 {
			t.Errorf("%s POST: %d", who, r.Status)
		}
	}

	// Deactivated behind the inbox's back (another admin session, the CLI):
	// the database says so and the session ends on its next request.
	rec, _ := e.db.CounselorByUsername(ctx, "li.na")
	lines, _ := li.stream(t)
	adminSess, err := e.st.Authenticate(ctx, sf.AdminUser, newPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Deactivate(ctx, adminSess, rec.ID); err != nil {
		t.Fatal(err)
	}
	adminSess.Wipe()
	e.tip("cc", "触发一次通知")
	for l := range lines {
		if strings.Contains(l, "change") && strings.Contains(l, "data:") {
			t.Fatalf("deactivated counselor's stream got %s", l)
		}
		if l == "event: expired" {
			break
		}
	}
	noContent("deactivated", li)

	// Idle expiry by the fake clock; the janitor or the next request wipes it.
	if r := admin.get("/inbox/"); r.URL != "/inbox/" {
		t.Fatal("admin not logged in")
	}
	e.clock.Add(31 * time.Minute)
	noContent("expired", admin)
}

// TestCSRF sends every state-changing request without a token and with
// another session's token: each is refused with 403 and changes nothing.
func TestCSRF(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	ctx := context.Background()
	tipA := e.tip("aa", "A 校报告")
	pw := e.counselor(ts.a, "zhao", hotline.RoleCounselor)
	zhao, _ := e.db.CounselorByUsername(ctx, "zhao")
	state := func() string {
		tip, _ := e.db.TipByUID(ctx, tipA.TipUID)
		msgs, _ := e.db.Messages(ctx, tip.ID)
		events, _ := e.db.Events(ctx, 0, 100000)
		staff, _ := e.db.Counselors(ctx, ts.a.School.ID, "")
		school, _ := e.db.SchoolByID(ctx, ts.a.School.ID)
		me, _ := e.db.CounselorByID(ctx, ts.adminA)
		act := 0
		for _, c := range staff {
			if c.Active {
				act++
			}
		}
		tips, _ := e.db.Tips(ctx, "WHERE school_id = ?", ts.a.School.ID)
		onCall := ""
		for _, c := range staff {
			if c.OnCall {
				onCall += c.Username
			}
		}
		return strings.Join([]string{string(tip.Status), string(tip.Severity), string(tip.Category), itoa(tip.AssigneeID), itoa(int64(len(msgs))),
			itoa(int64(len(events))), itoa(int64(len(staff))), itoa(int64(act)), school.Name, string(me.TOTPSecretSealed), itoa(int64(len(tips))),
			strconv.FormatBool(tip.Escalated), onCall, string(me.TelegramSealed), string(me.EmailSealed)}, "|")
	}
	posts := map[string]url.Values{
		"/inbox/logout":               nil,
		"/inbox/password":             {"current": {newPW}, "new": {"another password"}, "again": {"another password"}},
		"/inbox/totp":                 {"code": {"123456"}},
		"/inbox/account/totp":         {"code": {"123456"}},
		"/inbox/account/totp/disable": {"code": {"123456"}},
		"/inbox/intake":               {"text": {"伪造的报告"}, "source": {"phone"}},
		"/inbox/admin/counselors":     {"username": {"evil"}, "role": {"admin"}},
		"/inbox/admin/counselors/" + itoa(zhao.ID) + "/deactivate": nil,
		"/inbox/admin/settings":                                {"name": {"被篡改"}, "code": {"aa"}},
		"/inbox/admin/counselors/" + itoa(zhao.ID) + "/oncall": {"on": {"1"}},
		"/inbox/alerts/link":                                   nil,
		"/inbox/alerts/unlink":                                 nil,
		"/inbox/alerts/email":                                  {"email": {"evil@example.com"}},
	}
	for action, form := range tipActions {
		posts["/inbox/tips/"+tipA.TipUID+"/"+action] = form
	}
	before := state()
	for path, form := range posts {
		for _, tok := range []string{"", ts.ub.csrf, "x"} {
			f := url.Values{"csrf": {tok}}
			for k, v := range form {
				f[k] = v
			}
			if r := ts.ua.post(path, f); r.Status != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", path, tok[:min(len(tok), 4)], r.Status)
			}
		}
	}
	if after := state(); after != before {
		t.Fatalf("state changed:\n got %s\nwant %s", after, before)
	}
	// Still logged in (logout without a token did nothing)…
	if r := ts.ua.get("/inbox/"); r.URL != "/inbox/" {
		t.Fatalf("A logged out by a forged request: at %s", r.URL)
	}
	// …and the log-in and recovery forms need their pre-session token.
	anon := e.browser()
	anon.get("/inbox/login")
	for _, p := range []string{"/inbox/login", "/inbox/recover"} {
		if r := anon.post(p, url.Values{"csrf": {""}, "username": {"zhao"}, "password": {pw}, "school": {"aa"}, "key": {"x"}, "admin": {"y"}}); r.Status != 403 {
			t.Errorf("%s without a token: %d", p, r.Status)
		}
	}
	if r := anon.get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("forged log-in created a session: %s", r.URL)
	}
	// With the token the same request works: the refusals were about CSRF.
	if r := ts.ua.post("/inbox/tips/"+tipA.TipUID+"/note", url.Values{"text": {"真的备注"}}); r.Status != 200 {
		t.Fatalf("valid note: %d", r.Status)
	}
}

// TestCloseEndsStreamsNotSessions: a node shutting down ends its live
// streams, but the browser's session lives in the database and another node
// serves it without a new log-in.
func TestCloseEndsStreamsNotSessions(t *testing.T) {
	e := newEnv(t)
	sf := e.school("dd")
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	lines, _ := u.stream(t)
	e.srv.Close()
	for range lines {
		// The stream ends when the server closes.
	}
	other := e.node()
	if r := (&user{e: other, c: u.c}).get("/inbox/"); r.URL != "/inbox/" || r.Status != 200 {
		t.Fatalf("on another node after Close: %d at %s", r.Status, r.URL)
	}
}
