package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/hotline"
	"hotline/internal/sim/alertsim"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// rolloutRow is the tracker's row of a school, read over HTTP by the
// officer: each step's cell class (ok or todo) by its data-step.
func rolloutRow(t *testing.T, c *http.Client, base, code string) (map[string]string, string) {
	t.Helper()
	resp, err := c.Get(base + "/district/rollout")
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("tracker %d:\n%s", resp.StatusCode, body)
	}
	row := between(body, `<tr id="row-`+code+`"`, `</tr>`)
	if row == "" {
		t.Fatalf("no row for %s in:\n%s", code, body)
	}
	cells := map[string]string{}
	for _, m := range regexp.MustCompile(`class="step (ok|todo)" data-step="(\w+)"`).FindAllStringSubmatch(row, -1) {
		cells[m[2]] = m[1]
	}
	return cells, body
}

// TestDistrictFirstDayInBrowser is the district's first day, in Chromium:
// the officer logs in, adds a school from the rollout page and copies its
// hand-over link once; the school takes no reports yet. The admin opens
// the link, chooses a password, gets the school's recovery key (which the
// district never sees), sets up the second factor, and does the school's
// steps: a counselor, alerts that reach someone, the school's site allowed
// and the widget loaded there, the poster downloaded, a test report
// answered. After each, the tracker's row turns one more cell from red to
// green, until the summary says the school is fully live.
func TestDistrictFirstDayInBrowser(t *testing.T) {
	needChromium(t)
	ctx0 := context.Background()
	sim, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	vendors, err := sim.Provision()
	if err != nil {
		t.Fatal(err)
	}
	// The server's public URL is an https name, not a loopback address, so
	// that it makes posters: a TLS reverse proxy in front, as in
	// production, which Chromium reaches under that name.
	var backend atomic.Pointer[url.URL]
	front := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backend.Load())
		r.Out.Host = r.In.Host
	}, Transport: &http.Transport{}})
	front.StartTLS()
	defer front.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(front.URL, "https://"))
	public := "https://hotline.test:" + port
	m := MustRunMain(t, func(m *Main) {
		m.Config.PublicURL = public
		m.AlertVendors = &vendors
	})
	direct := "http://" + m.Addr() // the server itself, behind the proxy
	backendURL, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	backend.Store(backendURL)
	d, err := m.Staff.CreateDistrict(ctx0, "海淀区", "hd-officer")
	if err != nil {
		t.Fatal(err)
	}
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>第三中学</title></head>
<body><h1>第三中学</h1><script src="%s/webchat/widget.js" data-school="no3" async></script></body></html>`, public)
	}))
	defer host.Close()

	outer, cancelOuter := context.WithTimeout(ctx0, 6*time.Minute)
	defer cancelOuter()
	opts := append(browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium")), chromedp.Flag("host-resolver-rules", "MAP hotline.test 127.0.0.1"), chromedp.Flag("ignore-certificate-errors", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil { // a phone
		t.Fatalf("start chromium: %v", err)
	}
	evalStr := func(js string) string {
		t.Helper()
		sctx, c := context.WithTimeout(ctx, 60*time.Second)
		defer c()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}

	// 1. The officer's first log-in, a password of their own, then the
	// rollout page from the navigation; add the school.
	const officerPW = "officer-password-2026"
	step(t, ctx, "officer logs in",
		chromedp.Navigate(public+"/inbox/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "hd-officer"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), d.OfficerPassword),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=again]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=new]`), officerPW),
		chromedp.SendKeys(chromedp.CSS(`input[name=again]`), officerPW),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/password"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/district/rollout"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/district/rollout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#add-school`)),
		chromedp.SendKeys(chromedp.CSS(`#code`), "no3"),
		chromedp.SendKeys(chromedp.CSS(`#name`), "第三中学"),
		chromedp.SendKeys(chromedp.CSS(`#name_en`), "No. 3 Middle School"),
		chromedp.Click(chromedp.CSS(`#add-school-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#handover-url`)),
	)
	link := evalStr(`document.querySelector('#handover-url').value`)
	if !strings.HasPrefix(link, public+"/inbox/handover/") {
		t.Fatalf("hand-over link %q", link)
	}
	if got := evalStr(`document.querySelector('#rollout-summary').textContent`); got != "1 所学校中 0 所已全部开通" {
		t.Fatalf("summary %q", got)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "district-rollout-added.png", png)
	}
	// Shown once: the page again has no link.
	step(t, ctx, "rollout again", chromedp.Navigate(public+"/district/rollout"), chromedp.WaitVisible(chromedp.CSS(`#row-no3`)))
	if evalStr(`document.querySelector('#handover-url') ? 'shown' : 'gone'`) != "gone" {
		t.Fatal("the hand-over link is shown again")
	}

	// The officer's tracker over HTTP, for each step below.
	jar, _ := cookiejar.New(nil)
	officer := front.Client()
	officer.Jar, officer.Timeout = jar, 20*time.Second
	{
		resp, err := officer.Get(front.URL + "/inbox/login")
		if err != nil {
			t.Fatal(err)
		}
		csrf := between(readAll(t, resp), `name="csrf" value="`, `"`)
		resp, err = officer.PostForm(front.URL+"/inbox/login", url.Values{"csrf": {csrf}, "username": {"hd-officer"}, "password": {officerPW}})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
	}
	expect := func(what string, green ...string) string {
		t.Helper()
		cells, body := rolloutRow(t, officer, front.URL, "no3")
		want := map[string]bool{}
		for _, g := range green {
			want[g] = true
		}
		for _, s := range []string{"live", "admin", "counselors", "alerts", "widget", "printed", "test"} {
			if got := cells[s] == "ok"; got != want[s] {
				t.Errorf("%s: step %s green = %v, want %v (row %v)", what, s, got, want[s], cells)
			}
		}
		return body
	}
	if body := expect("added"); !strings.Contains(body, "等待管理员接收交接") {
		t.Fatal("a new school is not shown as waiting for its admin")
	}

	// 2. No key, no reports: every channel refuses the school, saying why.
	if _, err := m.Intake.Submit(ctx0, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
		Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{"测试"}}); err != hotline.ErrSchoolNotOpen {
		t.Fatalf("a report before the hand-over: got %v, want ErrSchoolNotOpen", err)
	}
	for _, p := range []string{"/c/no3", "/m/no3"} {
		resp, err := http.Get(direct + p)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(t, resp); resp.StatusCode != 404 || !strings.Contains(body, "还没有开通") {
			t.Errorf("%s before the hand-over: %d, want 404 saying it is not open", p, resp.StatusCode)
		}
	}

	// 3. The admin opens the link, chooses a password and gets the
	// recovery key; the school's second factor comes next.
	const adminPW = "admin-password-2026"
	step(t, ctx, "accept the hand-over",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`#handover-school`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "li.admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=new]`), adminPW),
		chromedp.SendKeys(chromedp.CSS(`input[name=again]`), adminPW),
		chromedp.Click(chromedp.CSS(`form[action^="/inbox/handover/"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#recovery-key`)),
	)
	recovery := evalStr(`document.querySelector('#recovery-key').textContent`)
	if len(recovery) < 50 || strings.Count(recovery, "-") < 8 {
		t.Fatalf("recovery key %q", recovery)
	}
	step(t, ctx, "continue to the second factor",
		chromedp.Click(chromedp.CSS(`#key-saved`)),
		chromedp.Click(chromedp.CSS(`#handover-continue`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/account/totp"]`)),
	)
	secret := evalStr(`document.querySelector('.secret-text').textContent`)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "enable the second factor",
		chromedp.SendKeys(chromedp.CSS(`form[action="/inbox/account/totp"] input[name=code]`), code),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/account/totp"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.nav a[href="/inbox/admin/setup"]`)),
	)
	// The link is spent.
	step(t, ctx, "the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`.alert`)))
	if evalStr(`document.querySelector('#handover-school') ? 'form' : 'refused'`) != "refused" {
		t.Fatal("a used hand-over link still shows its form")
	}
	body := expect("accepted", "admin")
	if strings.Contains(body, recovery) {
		t.Fatal("the district's page shows the school's recovery key")
	}
	school, err := m.DB.SchoolByCode(ctx0, "no3")
	if err != nil {
		t.Fatalf("the school after the hand-over: %v", err)
	}

	// 4. A counselor besides the admin.
	step(t, ctx, "add a counselor",
		chromedp.Navigate(public+"/inbox/admin/counselors"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/admin/counselors"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "wang.li"),
		chromedp.SendKeys(chromedp.CSS(`input[name=display_name]`), "王丽"),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/admin/counselors"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#otp`)),
	)
	otp := evalStr(`document.querySelector('#otp').textContent`)
	expect("counselor", "admin", "counselors")

	// 5. Alerts: the counselor is first on call every hour, over a DingTalk
	// robot whose test alert was confirmed (as the alerts pages do).
	wang, err := m.Staff.Authenticate(ctx0, "wang.li", otp)
	if err != nil {
		t.Fatal(err)
	}
	defer wang.Wipe()
	// The admin enrolled a second factor: a password alone is half a log-in.
	half, err := m.Staff.Authenticate(ctx0, "li.admin", adminPW)
	if err != nil || half.Complete() {
		t.Fatalf("admin's password alone: complete=%v, err %v", half != nil && half.Complete(), err)
	}
	half.Wipe()
	robot := sim.NewDingTalkRobot()
	tid, err := m.Staff.LinkTarget(ctx0, wang, staff.ScopeMine, robot.Kind, robot.Address, robot.Secret)
	if err != nil {
		t.Fatal(err)
	}
	err = m.DB.Update(ctx0, func(tx *store.Tx) error {
		if err := tx.AddRotaSlot(&store.RotaSlot{SchoolID: school.ID, CounselorID: wang.Counselor.ID, Position: 1, Weekdays: 0x7f, StartHour: 0, EndHour: 24}); err != nil {
			return err
		}
		return tx.MarkTargetTested(tid)
	})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	err = m.DB.Update(ctx0, func(tx *store.Tx) error {
		token, _, err = staff.NewAlertToken(tx, m.Vault, &store.AlertToken{Purpose: store.TokenTest, TargetID: tid, ExpiresAt: tx.Now().Add(time.Hour)}, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Staff.ConfirmTest(ctx0, token); err != nil {
		t.Fatal(err)
	}
	expect("alerts", "admin", "counselors", "alerts")

	// 6. The school's site is allowed, and the widget loads there. A load
	// from a site the school did not list counts for nothing.
	other := httptest.NewServer(host.Config.Handler)
	defer other.Close()
	step(t, ctx, "widget on a site not listed",
		chromedp.Navigate(other.URL),
		chromedp.WaitVisible(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.Click(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.WaitVisible(chromedp.CSS(`div[data-hotline=panel] a`)), // "open in a new tab": not allowed here
	)
	expect("widget elsewhere", "admin", "counselors", "alerts")
	step(t, ctx, "allow the school's site",
		chromedp.Navigate(public+"/inbox/admin/settings"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=origins]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=origins]`), host.URL),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/admin/settings"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert.notice`)),
		chromedp.Navigate(host.URL),
		chromedp.WaitVisible(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.Click(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.WaitVisible(chromedp.CSS(`div[data-hotline=panel] iframe`)),
	)
	expect("widget", "admin", "counselors", "alerts", "widget")

	// 7. The poster, downloaded from the setup page's link.
	step(t, ctx, "setup page", chromedp.Navigate(public+"/inbox/admin/setup"), chromedp.WaitVisible(chromedp.CSS(`a[href="/inbox/admin/poster.pdf"]`)))
	waitPage(t, ctx, "download the poster", `(window.__poster ??= fetch('/inbox/admin/poster.pdf').then(r => window.__status = r.status), window.__status === 200)`)
	expect("poster", "admin", "counselors", "alerts", "widget", "printed")

	// 8. A test report, answered from the queue.
	if _, err := m.Intake.Submit(ctx0, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
		Category: hotline.CategoryOther, Lang: hotline.LangZH, Texts: []string{"测试举报：这是一条测试"}}); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "answer the test report",
		chromedp.Navigate(public+"/inbox/"),
		chromedp.WaitVisible(chromedp.CSS(`#queue .c-alias a`)),
		chromedp.Click(chromedp.CSS(`#queue .c-alias a`)),
		chromedp.WaitVisible(chromedp.CSS(`#reply-text`)),
		chromedp.SendKeys(chromedp.CSS(`#reply-text`), "收到测试。"),
		chromedp.Click(chromedp.CSS(`#reply button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`.msg-counselor .delivery`)),
	)
	body = expect("test report", "live", "admin", "counselors", "alerts", "widget", "printed", "test")
	if !strings.Contains(body, "1 所学校中 1 所已全部开通") {
		t.Fatal("the summary does not count the school as fully live")
	}

	// The officer sees it green in the browser too (their session ended
	// when the admin logged in on this browser), and the CSV says so.
	step(t, ctx, "officer's tracker",
		chromedp.Click(chromedp.CSS(`form[action="/inbox/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/inbox/login"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "hd-officer"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), officerPW),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/district/rollout"]`)),
		chromedp.Navigate(public+"/district/rollout?sort=live"),
		chromedp.WaitVisible(chromedp.CSS(`#row-no3`)),
	)
	if got := evalStr(`document.querySelector('#row-no3').dataset.live`); got != "true" {
		t.Fatalf("browser row live=%s", got)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "district-rollout-live.png", png)
	}
	resp, err := officer.Get(front.URL + "/district/rollout.csv")
	if err != nil {
		t.Fatal(err)
	}
	csv := readAll(t, resp)
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "\ufeff学校代码,学校,全部开通") || !strings.HasPrefix(lines[1], "school_code,school,fully_live") ||
		!strings.HasPrefix(lines[2], "no3,第三中学 / No. 3 Middle School,是 yes") || lines[3] != "1 所学校中 1 所已全部开通 / 1 of 1 schools fully live" {
		t.Fatalf("CSV:\n%s", csv)
	}
}
