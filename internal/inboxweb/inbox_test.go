package inboxweb_test

import (
	"bytes"
	"context"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/hotline"
)

const newPW = "correct horse battery"

func mustContain(t *testing.T, what string, r resp, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(r.Body, s) {
			t.Fatalf("%s: status %d at %s: body lacks %q:\n%s", what, r.Status, r.URL, s, excerpt(r.Body))
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	u := e.browser()
	res, err := u.c.Get(e.hs.URL + "/inbox/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var pre *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "hl_pre" {
			pre = c
		}
	}
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode {
		t.Fatalf("pre-session cookie = %+v", pre)
	}
	for _, path := range []string{"/inbox/static/inbox.js", "/inbox/static/inbox.css"} {
		r := u.get(path)
		if r.Status != 200 || len(r.Body) < 100 {
			t.Fatalf("%s: %d", path, r.Status)
		}
	}
	if r := u.get("/inbox/static/nope.js"); r.Status != 404 {
		t.Fatalf("missing static: %d", r.Status)
	}
	if r := u.get("/inbox/no/such/page"); r.Status != 404 {
		t.Fatalf("unknown page: %d", r.Status)
	}
}

func TestSessionCookie(t *testing.T) {
	e := newEnv(t)
	sf := e.school("no1")
	u := e.browser()
	u.get("/inbox/login")
	form := url.Values{"username": {sf.AdminUser}, "password": {sf.AdminPassword}, "csrf": {u.csrf}}
	c := &http.Client{Jar: u.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.PostForm(e.hs.URL+"/inbox/login", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/inbox/password" {
		t.Fatalf("login: %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "hl_session" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Secure || len(sc.Value) < 40 {
		t.Fatalf("session cookie = %+v", sc)
	}
}

// TestWalkEveryRoute goes through every page and action the way a
// counselor and a school admin do, and checks the ledger at the end.
func TestWalkEveryRoute(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sf := e.school("no1")

	// Wrong password: the safe message, no session.
	u := e.browser()
	u.get("/inbox/login")
	r := u.post("/inbox/login", url.Values{"username": {sf.AdminUser}, "password": {"wrong-password"}})
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.Status)
	}
	mustContain(t, "wrong password", r, "用户名或密码错误")
	// Before the password change nothing else opens.
	r = u.post("/inbox/login", url.Values{"username": {sf.AdminUser}, "password": {sf.AdminPassword}})
	if r.URL != "/inbox/password" {
		t.Fatalf("one-time password log-in landed on %s", r.URL)
	}
	mustContain(t, "forced change", r, "一次性密码")
	for _, p := range []string{"/inbox/", "/inbox/intake", "/inbox/admin/settings"} {
		if r := u.get(p); r.URL != "/inbox/password" {
			t.Fatalf("%s before the password change: at %s", p, r.URL)
		}
	}
	if r := u.post("/inbox/password", url.Values{"new": {"short"}, "again": {"short"}}); r.Status != 400 {
		t.Fatalf("short password: %d", r.Status)
	}
	if r := u.post("/inbox/password", url.Values{"new": {newPW}, "again": {newPW}}); r.URL != "/inbox/" || r.Status != 200 {
		t.Fatalf("after change: %d at %s", r.Status, r.URL)
	}

	// The queue shows a new tip, unread, with counts.
	sub := e.tip("no1", "有人在厕所里骂我 <b>不是粗体</b>")
	r = u.get("/inbox/")
	mustContain(t, "queue", r, sub.Alias.ZH, `class="row unread"`, "/inbox/tips/"+sub.TipUID, "(1) 收件箱")
	if strings.Contains(r.Body, "<b>不是粗体</b>") {
		t.Fatal("queue shows content")
	}
	r = u.get("/inbox/queue")
	mustContain(t, "fragment", r, `data-unread="1"`, sub.Alias.ZH)
	for _, q := range []string{"?status=all", "?status=new", "?severity=unassessed", "?category=verbal", "?channel=webchat", "?overdue=1", "?mine=1"} {
		if r := u.get("/inbox/" + q); r.Status != 200 {
			t.Fatalf("filter %s: %d", q, r.Status)
		}
	}
	if r := u.get("/inbox/?status=bogus"); r.Status != 400 {
		t.Fatalf("bad filter: %d", r.Status)
	}
	if r := u.get("/inbox/?mine=1"); strings.Contains(r.Body, sub.Alias.ZH) {
		t.Fatal("mine shows an unassigned tip")
	}

	// The case page: escaped text, marks the case read.
	r = u.get("/inbox/tips/" + sub.TipUID)
	mustContain(t, "case", r, html.EscapeString("有人在厕所里骂我 <b>不是粗体</b>"), "对话记录", "收到报告")
	if r := u.get("/inbox/queue"); !strings.Contains(r.Body, `data-unread="0"`) {
		t.Fatalf("still unread after opening: %s", excerpt(r.Body))
	}
	base := "/inbox/tips/" + sub.TipUID
	steps := []struct {
		action string
		form   url.Values
	}{
		{"reply", url.Values{"text": {"我们收到了，老师会尽快找你。"}}},
		{"note", url.Values{"text": {"班主任已电话联系家长"}}},
		{"status", url.Values{"status": {"investigating"}}},
		{"severity", url.Values{"severity": {"severe"}}},
		{"category", url.Values{"category": {"physical"}}},
		{"urgent", url.Values{"urgent": {"1"}}},
		{"steps", url.Values{"shown": {"police_referral", "counseling"}, "step": {"police_referral", "counseling"}}},
	}
	for _, s := range steps {
		if r := u.post(base+"/"+s.action, s.form); r.Status != 200 || r.URL != base {
			t.Fatalf("%s: %d at %s: %s", s.action, r.Status, r.URL, excerpt(r.Body))
		}
	}
	tip, err := e.db.TipByUID(ctx, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if tip.Status != hotline.StatusInvestigating || tip.Severity != hotline.SeveritySevere || tip.Category != hotline.CategoryPhysical ||
		!tip.Urgent || !tip.Steps[hotline.StepPoliceReferral] || !tip.Steps[hotline.StepCounseling] {
		t.Fatalf("tip after actions = %+v", tip)
	}
	admin, err := e.db.CounselorByUsername(ctx, sf.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	if r := u.post(base+"/assign", url.Values{"assignee": {itoa(admin.ID)}}); r.Status != 200 {
		t.Fatalf("assign: %d", r.Status)
	}
	if r := u.get("/inbox/?mine=1"); !strings.Contains(r.Body, sub.Alias.ZH) {
		t.Fatal("mine lacks the assigned tip")
	}
	r = u.get(base)
	mustContain(t, "case after actions", r, "内部备注·不会发送", "班主任已电话联系家长", "已送达", "报告公安机关", "情节等级变更", "指派负责人",
		"回复报告人", "对受欺凌学生进行心理辅导", "已报告公安机关")
	// Mistakes re-render the case with a message.
	if r := u.post(base+"/reply", url.Values{"text": {"   "}}); r.Status != 400 || !strings.Contains(r.Body, "这条消息是空的") {
		t.Fatalf("empty reply: %d", r.Status)
	}
	if r := u.post(base+"/status", url.Values{"status": {"new"}}); r.Status != 400 {
		t.Fatalf("status back to new: %d", r.Status)
	}
	if r := u.post(base+"/frobnicate", nil); r.Status != 404 {
		t.Fatalf("unknown action: %d", r.Status)
	}
	// A reporter writes again after the counselor's view: unread again.
	e.clock.Add(time.Second)
	if _, err := e.in.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: sub.Receipt}, "谢谢老师", nil); err != nil {
		t.Fatal(err)
	}
	if r := u.get("/inbox/queue"); !strings.Contains(r.Body, `data-unread="1"`) {
		t.Fatal("reporter message not unread")
	}

	// Photos: served opened, with their type, only by uid.
	ptip, photoUID := e.photoTip("no1")
	res, err := u.c.Get(e.hs.URL + "/inbox/photos/" + photoUID)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("photo: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	mustContain(t, "photo case", u.get("/inbox/tips/"+ptip.TipUID), "/inbox/photos/"+photoUID)
	if r := u.get("/inbox/photos/nope"); r.Status != 404 {
		t.Fatalf("unknown photo: %d", r.Status)
	}

	// Staff intake, with a photo, multipart.
	mustContain(t, "intake form", u.get("/inbox/intake"), `name="source"`)
	var mb bytes.Buffer
	mw := multipart.NewWriter(&mb)
	for k, v := range map[string]string{"csrf": u.csrf, "source": "phone", "role": "parent", "category": "cyber", "text": "家长来电：孩子在群里被辱骂", "danger": "1"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photo", "x.png")
	fw.Write(pngBytes(t))
	mw.Close()
	req, _ := http.NewRequest("POST", e.hs.URL+"/inbox/intake", &mb)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r = u.do(req)
	if r.Status != 200 || !strings.HasPrefix(r.URL, "/inbox/tips/") {
		t.Fatalf("intake: %d at %s: %s", r.Status, r.URL, excerpt(r.Body))
	}
	mustContain(t, "staff tip", r, "家长来电：孩子在群里被辱骂", "代录来源：电话", "教师代录", `id="unreachable"`, "/inbox/photos/")
	staffTip, _ := e.db.TipByUID(ctx, strings.TrimPrefix(r.URL, "/inbox/tips/"))
	if staffTip.Channel != hotline.ChannelStaff || !staffTip.Urgent || staffTip.Category != hotline.CategoryCyber {
		t.Fatalf("staff tip = %+v", staffTip)
	}
	if r := u.post("/inbox/intake", url.Values{"text": {""}}); r.Status != 400 {
		t.Fatalf("empty intake: %d", r.Status)
	}

	// Admin: add a counselor (one-time password once), deactivate.
	mustContain(t, "counselors", u.get("/inbox/admin/counselors"), sf.AdminUser)
	r = u.post("/inbox/admin/counselors", url.Values{"username": {"wang.li"}, "display_name": {"王老师"}, "role": {"counselor"}})
	m := regexp.MustCompile(`<code id="otp">([^<]+)</code>`).FindStringSubmatch(r.Body)
	if r.Status != 200 || m == nil {
		t.Fatalf("add counselor: %d %s", r.Status, excerpt(r.Body))
	}
	if strings.Contains(u.get("/inbox/admin/counselors").Body, m[1]) {
		t.Fatal("one-time password shown twice")
	}
	if r := u.post("/inbox/admin/counselors", url.Values{"username": {"wang.li"}, "role": {"counselor"}}); r.Status != 409 {
		t.Fatalf("duplicate username: %d", r.Status)
	}
	wang := e.login("wang.li", html.UnescapeString(m[1]), newPW)
	if r := wang.get("/inbox/admin/settings"); r.Status != 403 {
		t.Fatalf("counselor on admin page: %d", r.Status)
	}
	wangRec, _ := e.db.CounselorByUsername(ctx, "wang.li")
	if r := u.post("/inbox/admin/counselors/"+itoa(wangRec.ID)+"/deactivate", nil); r.Status != 200 || r.URL != "/inbox/admin/counselors" {
		t.Fatalf("deactivate: %d at %s", r.Status, r.URL)
	}
	if r := wang.get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("deactivated counselor at %s", r.URL)
	}

	// Settings.
	r = u.post("/inbox/admin/settings", url.Values{"name": {"第一中学"}, "code": {"no1"}, "emergency": {"保卫处 010-1234567"},
		"origins": {"https://www.no1.cn\r\nhttp://localhost:8080"}, "hours_urgent": {"2"}, "retention": {"0"}})
	mustContain(t, "settings", r, "已保存", "https://www.no1.cn")
	if r := u.post("/inbox/admin/settings", url.Values{"name": {"x"}, "code": {"no1"}, "origins": {"evil"}}); r.Status != 400 {
		t.Fatalf("bad origin: %d", r.Status)
	}
	if r := u.post("/inbox/admin/settings", url.Values{"name": {"x"}, "code": {"no1"}, "hours_ack": {"abc"}}); r.Status != 400 {
		t.Fatalf("bad hours: %d", r.Status)
	}
	school, _ := e.db.SchoolByID(ctx, sf.School.ID)
	if school.Name != "第一中学" || school.Settings.Deadlines.AckUrgent.D() != 2*time.Hour || len(school.Settings.AllowedOrigins) != 2 {
		t.Fatalf("school = %+v", school)
	}

	// Voluntary password change needs the current password.
	if r := u.post("/inbox/password", url.Values{"current": {"nope-nope-nope"}, "new": {newPW + "2"}, "again": {newPW + "2"}}); r.Status != 401 {
		t.Fatalf("change with a wrong current password: %d", r.Status)
	}

	// TOTP enrollment, then a log-in needs the code.
	r = u.get("/inbox/account")
	sm := regexp.MustCompile(`<code class="secret-text">([A-Z2-7]+)</code>`).FindStringSubmatch(r.Body)
	if sm == nil || !strings.Contains(r.Body, `src="data:image/png;base64,`) {
		t.Fatalf("account page: %s", excerpt(r.Body))
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(sm[1], at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if r := u.post("/inbox/account/totp", url.Values{"code": {"123"}}); r.Status != 401 {
		t.Fatalf("bad enrollment code: %d", r.Status)
	}
	mustContain(t, "enabled", u.post("/inbox/account/totp", url.Values{"code": {code(e.clock.Now())}}), "两步验证已开启")
	mustContain(t, "logout", u.post("/inbox/logout", nil), `action="/inbox/login"`)
	if r := u.get("/inbox/"); r.URL != "/inbox/login" {
		t.Fatalf("after log-out at %s", r.URL)
	}
	u.post("/inbox/login", url.Values{"username": {sf.AdminUser}, "password": {newPW}})
	if r := u.get("/inbox/"); r.URL != "/inbox/totp" {
		t.Fatalf("before the second factor at %s", r.URL)
	}
	if r := u.post("/inbox/totp", url.Values{"code": {"000000"}}); r.Status != 401 {
		t.Fatalf("wrong code: %d", r.Status)
	}
	e.clock.Add(time.Minute)
	if r := u.post("/inbox/totp", url.Values{"code": {code(e.clock.Now())}}); r.URL != "/inbox/" || r.Status != 200 {
		t.Fatalf("right code: %d at %s", r.Status, r.URL)
	}
	e.clock.Add(time.Minute)
	mustContain(t, "disabled", u.post("/inbox/account/totp/disable", url.Values{"code": {code(e.clock.Now())}}), "两步验证已关闭")

	// English.
	mustContain(t, "english", u.get("/inbox/?lang=en"), "Inbox", `lang="en"`)
	mustContain(t, "english cookie", u.get("/inbox/admin/settings"), "School settings")

	// Recovery creates a new admin with a one-time password.
	cs, err := e.st.CreateSchool(ctx, struct2school("no9"))
	if err != nil {
		t.Fatal(err)
	}
	anon := e.browser()
	mustContain(t, "recover form", anon.get("/inbox/recover"), `name="key"`)
	if r := anon.post("/inbox/recover", url.Values{"school": {"no9"}, "key": {"wrong"}, "admin": {"no9-new"}}); r.Status != 401 {
		t.Fatalf("wrong recovery key: %d", r.Status)
	}
	r = anon.post("/inbox/recover", url.Values{"school": {"no9"}, "key": {cs.RecoveryKey}, "admin": {"no9-new"}})
	rm := regexp.MustCompile(`<code id="otp">([^<]+)</code>`).FindStringSubmatch(r.Body)
	if r.Status != 200 || rm == nil {
		t.Fatalf("recover: %d %s", r.Status, excerpt(r.Body))
	}
	e.login("no9-new", html.UnescapeString(rm[1]), newPW)

	// Every action is in the ledger, and the ledger verifies.
	res2, err := e.db.VerifyLedger(ctx)
	if err != nil || !res2.OK() {
		t.Fatalf("ledger: %+v, %v", res2, err)
	}
	events, _ := e.db.TipEvents(ctx, tip.ID)
	kinds := map[hotline.EventKind]bool{}
	for _, ev := range events {
		kinds[ev.Kind] = true
	}
	for _, k := range []hotline.EventKind{hotline.EventReceived, hotline.EventReplied, hotline.EventNoted, hotline.EventStatusChanged, hotline.EventSeverityChanged,
		hotline.EventCategoryChanged, hotline.EventUrgencyChanged, hotline.EventReferredPolice, hotline.EventStepRecorded, hotline.EventAssigned, hotline.EventReporterMessage} {
		if !kinds[k] {
			t.Errorf("timeline lacks %s", k)
		}
	}
}

func itoa(n int64) string { return strconvI(n) }
