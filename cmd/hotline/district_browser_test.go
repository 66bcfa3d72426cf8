package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/testsupport"
)

// districtFixture boots Main with a district, two schools and cases: some
// escalated, some overdue, most in small numbers.
type districtFixture struct {
	m         *Main
	clock     *ovCLIClock
	escalated string // text of an escalated case: the district reads it
	hidden    string // text of a case not escalated: the district never does
	escUID    string
	hiddenUID string
}

const districtPassword = "district-test-2026"

func newDistrictFixture(t *testing.T) *districtFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	f := &districtFixture{clock: testsupport.NewClock(now.Add(-20 * 24 * time.Hour)),
		escalated: "初二三个男生在操场后面打人并抢走书包", hidden: "有人在班级群里给我起外号"}
	m := MustOpenMain(t, withClock(f.clock))
	f.m = m
	d, err := m.Staff.CreateDistrict(ctx, "海淀区", "officer")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(ctx, "officer", d.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Staff.ChangePassword(ctx, sess, districtPassword); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	admins := map[string]*staff.Session{}
	for _, s := range []struct{ code, name, en string }{{"no3", "第三中学", "No. 3 Middle School"}, {"no7", "第七中学", "No. 7 Middle School"}} {
		cs, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: s.code, Name: s.name, NameEN: s.en, District: "海淀区", AdminUsername: "admin-" + s.code})
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Wipe)
		admins[s.code] = a
	}
	submit := func(code, text string, cat hotline.Category, ch hotline.Channel, urgent bool) string {
		t.Helper()
		sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: code, Channel: ch, Role: hotline.ReporterWitness, Category: cat, Lang: hotline.LangZH, Texts: []string{text}, DangerNow: urgent})
		if err != nil {
			t.Fatal(err)
		}
		return sub.TipUID
	}
	// Eight weeks of reports at no3, a few at no7.
	cats := []hotline.Category{hotline.CategoryVerbal, hotline.CategoryPhysical, hotline.CategoryCyber, hotline.CategoryExclusion}
	for i := 0; i < 14; i++ {
		f.clock.Set(now.Add(-time.Duration(56-4*i) * 24 * time.Hour))
		uid := submit("no3", "报告内容", cats[i%len(cats)], hotline.ChannelWebchat, false)
		f.clock.Set(f.clock.Now().Add(time.Duration(i+1) * time.Hour))
		if err := m.Triage.SetStatus(ctx, admins["no3"].Actor(), uid, hotline.StatusAcknowledged); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Triage.Reply(ctx, admins["no3"].Actor(), uid, "收到", nil); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Set(now.Add(-3 * 24 * time.Hour))
	f.escUID = submit("no3", f.escalated, hotline.CategoryPhysical, hotline.ChannelMailbox, true)
	if err := m.Triage.SetSeverity(ctx, admins["no3"].Actor(), f.escUID, hotline.SeveritySevere); err != nil {
		t.Fatal(err)
	}
	if err := m.Triage.Escalate(ctx, admins["no3"], f.escUID); err != nil {
		t.Fatal(err)
	}
	f.hiddenUID = submit("no7", f.hidden, hotline.CategoryVerbal, hotline.ChannelWebchat, false)
	submit("no7", "第二份报告", hotline.CategoryOther, hotline.ChannelMailbox, false)
	f.clock.Set(now)
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// One pass records the misses and today's head.
	if err := m.Scheduler.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// login logs the officer in over HTTP and returns a client with the session.
func (f *districtFixture) login(t *testing.T, user, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(f.m.URL() + "/inbox/login")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	csrf := between(body, `name="csrf" value="`, `"`)
	resp, err = c.PostForm(f.m.URL()+"/inbox/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	return c
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}

func TestDistrictPagesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newDistrictFixture(t)
	c := f.login(t, "officer", districtPassword)
	get := func(path string) (int, string) {
		resp, err := c.Get(f.m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("%s CSP %q", path, csp)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	code, body := get("/district/")
	if code != 200 || !strings.Contains(body, "台账完整") || !strings.Contains(body, "&lt;5") || !strings.Contains(body, "<svg") {
		t.Fatalf("overview %d:\n%s", code, body)
	}
	if strings.Contains(body, f.escalated) || strings.Contains(body, f.hidden) || strings.Contains(body, "报告内容") {
		t.Fatal("the overview shows content")
	}
	if !strings.Contains(body, "/district/tips/"+f.escUID) || strings.Contains(body, "/district/tips/"+f.hiddenUID) {
		t.Fatal("case links: want the escalated case only")
	}
	code, body = get("/district/tips/" + f.escUID)
	if code != 200 || !strings.Contains(body, f.escalated) {
		t.Fatalf("escalated case %d", code)
	}
	if code, body = get("/district/tips/" + f.hiddenUID); code != 404 || strings.Contains(body, f.hidden) {
		t.Fatalf("case not escalated: %d", code)
	}
	code, body = get("/district/report.csv")
	if code != 200 || !strings.Contains(body, "received") || strings.Contains(body, "蓝") && strings.Contains(body, "alias") {
		t.Fatalf("report %d", code)
	}
	if code, _ = get("/district/schools/no7"); code != 200 {
		t.Fatalf("school page %d", code)
	}
	// School staff are refused; nobody logged out gets in.
	admin := f.login(t, "nobody", "wrong")
	resp, err := admin.Get(f.m.URL() + "/district/")
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, resp); strings.Contains(b, "台账完整") {
		t.Fatal("the district page without a log-in")
	}
}

func TestDistrictViewInBrowser(t *testing.T) {
	// Not parallel: a browser on two shared cores needs them, and the
	// parallel tests wait until the serial ones are done.
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no %s (set CI=true to make this a failure)", chromium)
		}
		t.Fatalf("CI needs %s: %v", chromium, err)
	}
	f := newDistrictFixture(t)
	outer, cancelOuter := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer,
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")), chromedp.WindowSize(1280, 1600))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Start the browser on ctx itself: a browser started under a step's
	// shorter context would die with it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1600)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, c := context.WithTimeout(ctx, 60*time.Second)
		defer c()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("log in",
		chromedp.Navigate(f.m.URL()+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, "officer"),
		chromedp.SendKeys(`input[name=password]`, districtPassword),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`#ledger-verdict`),
	)
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"台账完整", "<5", "第三中学", "第七中学", "需要关注的案件"} {
		if !strings.Contains(text, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(text, f.escalated) || strings.Contains(text, f.hidden) {
		t.Error("overview shows content")
	}
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg rect.bar').length`))
	if err != nil || bars < 12 {
		t.Errorf("%d chart bars, %v", bars, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "district.png")
	if os.Getenv("HOTLINE_SCREENSHOTS") != "" { // refresh the committed docs/district.png
		out = filepath.Join("..", "..", "docs", "district.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	do("open the escalated case",
		chromedp.Click(`a[href="/district/tips/`+f.escUID+`"]`),
		chromedp.WaitVisible(`ol.thread`),
	)
	text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || !strings.Contains(text, f.escalated) {
		t.Fatalf("escalated case page lacks its content: %v", err)
	}
}
