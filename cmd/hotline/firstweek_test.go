package main

// The rough edges a first week in the inbox and the surveys found (issue
// 24, points 9–14), each tested as a person meets it.

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/survey"
)

var (
	hiddenField = func(name string) *regexp.Regexp {
		return regexp.MustCompile(`name="` + name + `" value="([^"]+)"`)
	}
	receiptOnPage = regexp.MustCompile(`[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}`)
)

// 9. A staff intake posted twice (the counselor refreshes the receipt page,
// or clicks twice) files one case: the second answer shows the same
// receipt and says it was filed already; without a receipt it goes to the
// same case.
func TestStaffIntakePostedTwiceFilesOneCase(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	for _, withReceipt := range []bool{true, false} {
		form := u.get("/inbox/intake")
		sub, page := hiddenField("submission").FindStringSubmatch(form.body), hiddenField("page").FindStringSubmatch(form.body)
		if sub == nil || page == nil {
			t.Fatal("the intake form carries no submission id")
		}
		text := "电话记录：家长说孩子在食堂被同学泼汤。"
		fields := map[string]string{"source": "phone", "role": "parent", "category": "physical", "text": text, "submission": sub[1], "page": page[1]}
		if withReceipt {
			fields["receipt"] = "1"
			text += " (receipt)"
			fields["text"] = text
		}
		first := u.postMultipart("/inbox/intake", fields)
		second := u.postMultipart("/inbox/intake", fields) // the refresh
		if first.status != 200 || second.status != 200 {
			t.Fatalf("intake posts: %d, %d", first.status, second.status)
		}
		if withReceipt {
			r1, r2 := receiptOnPage.FindString(first.body), receiptOnPage.FindString(second.body)
			if r1 == "" || r1 != r2 {
				t.Errorf("receipts: first %q, again %q, want the same one", r1, r2)
			}
			if !strings.Contains(second.body, "已经提交过了") || strings.Contains(first.body, "已经提交过了") {
				t.Error("the second answer does not say the report was filed already")
			}
		} else if first.path != second.path || !strings.HasPrefix(first.path, "/inbox/tips/") {
			t.Errorf("without a receipt: first at %s, again at %s, want the same case", first.path, second.path)
		}
		sess, err := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
		if err != nil {
			t.Fatal(err)
		}
		tips, _, err := m.Triage.Queue(context.Background(), sess.Actor(), hotline.TipFilter{Channel: hotline.ChannelStaff, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tip := range tips {
			_, msgs, err := m.Triage.Thread(context.Background(), sess, tip.UID)
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range msgs {
				if msg.Body == text {
					n++
				}
			}
		}
		sess.Wipe()
		if n != 1 {
			t.Errorf("receipt %v: the report is in %d cases, want 1", withReceipt, n)
		}
	}
}

// 10. The status list preselects the case's current status: pressing
// "更改" without choosing changes nothing (it used to preselect 已受理 and
// move an investigated case backwards).
func TestStatusListPreselectsCurrent(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	uid := demoCase(t, m)
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	casePath := "/inbox/tips/" + uid
	u.get(casePath)
	if p := u.post(casePath+"/status", url.Values{"status": {string(hotline.StatusInvestigating)}}); p.status != 200 {
		t.Fatalf("set investigating: %d", p.status)
	}
	p := u.get(casePath)
	sel := regexp.MustCompile(`(?s)<form method="post" action="[^"]*/status".*?</form>`).FindString(p.body)
	selected := regexp.MustCompile(`<option value="([a-z]+)"[^>]*selected`).FindAllStringSubmatch(sel, -1)
	if len(selected) != 1 || selected[0][1] != string(hotline.StatusInvestigating) {
		t.Fatalf("the status list preselects %v, want investigating:\n%s", selected, sel)
	}
	// "更改" as the form stands: nothing moves.
	if p := u.post(casePath+"/status", url.Values{"status": {selected[0][1]}}); p.status != 200 {
		t.Fatalf("change with the preselected status: %d", p.status)
	}
	sess, _ := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
	defer sess.Wipe()
	tip, err := m.Triage.Tip(context.Background(), sess.Actor(), uid)
	if err != nil || tip.Status != hotline.StatusInvestigating {
		t.Errorf("status after pressing change: %v %v, want investigating", tip.Status, err)
	}
}

// 13. A new survey's waves are dated soon (not next March) and named by
// the month they open in; a wave moved to another month is renamed; the
// comparison table shows a wave that has not opened as "—", not "0".
func TestSurveyWavesDatedLabelledAndShown(t *testing.T) {
	f := newSurveyFixture(t) // the clock: 2026-02-20
	list := f.get(t, f.admin, "/inbox/surveys/", 200)
	opens := hiddenInput(list, "b_opens")
	if opens != "2026-02-21T08:00" {
		t.Errorf("the proposed baseline opens %q, want tomorrow 08:00", opens)
	}
	v := url.Values{"title_zh": {"校园欺凌匿名问卷"}}
	for _, k := range []string{"b_opens", "b_closes", "f_opens", "f_closes"} {
		v.Set(k, hiddenInput(list, k))
	}
	if v.Get("f_opens") != "2026-05-21T08:00" {
		t.Errorf("the proposed follow-up opens %q, want three months after the baseline", v.Get("f_opens"))
	}
	f.post(t, f.admin, "/inbox/surveys/", "/inbox/surveys/", v)
	svs, err := f.m.Surveys.List(context.Background(), f.school.Admin)
	if err != nil || len(svs) != 1 {
		t.Fatal(svs, err)
	}
	uid := svs[0].UID
	page := f.get(t, f.admin, "/inbox/surveys/"+uid, 200)
	for _, want := range []string{"基线（2月排查摸底）", "跟踪（5月整治后）"} {
		if !strings.Contains(page, want) {
			t.Errorf("the survey page does not name a wave %q", want)
		}
	}
	// The baseline moved to March: its name follows.
	f.post(t, f.admin, "/inbox/surveys/"+uid, "/inbox/surveys/"+uid+"/edit", url.Values{"op": {"wave"}, "wave": {"1"}, "opens": {"2026-03-02T08:00"}, "closes": {"2026-03-13T18:00"}})
	page = f.get(t, f.admin, "/inbox/surveys/"+uid, 200)
	if !strings.Contains(page, "基线（3月排查摸底）") || strings.Contains(page, "基线（2月") {
		t.Error("the baseline moved to March is not named March")
	}
	// The baseline opens and is answered; the follow-up has not opened.
	f.clock.Set(time.Date(2026, 3, 3, 9, 0, 0, 0, survey.Zone))
	f.admin = f.login(t, "admin-no3", surveyAdminPassword) // days later
	codes := f.printCodes(t, uid, 1, "初二", "3", 5)
	for _, c := range codes {
		answerWeb(t, f.m.URL(), c, survey.Answers{survey.QVictim: {"often"}}, -1)
	}
	res := f.get(t, f.admin, "/inbox/surveys/"+uid+"/results?wave=1", 200)
	cmp := regexp.MustCompile(`(?s)<table id="compare">.*?</table>`).FindString(res)
	if !strings.Contains(cmp, "未开始") {
		t.Errorf("the comparison does not mark the follow-up as not open:\n%s", cmp)
	}
	for _, row := range regexp.MustCompile(`(?s)<tr><th scope="row">.*?</tr>`).FindAllString(cmp, -1) {
		cells := regexp.MustCompile(`<td>([^<]*)</td>`).FindAllStringSubmatch(row, -1)
		if len(cells) < 2 || cells[1][1] != "—" {
			t.Errorf("an indicator shows the unopened follow-up as %q, want —: %s", cells, row)
		}
	}
}

// hiddenInput is the value of the form field name on page.
func hiddenInput(page, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// 11. A reporter who switches the web chat to English in the middle of a
// report gets the question they were at, and its buttons, in English.
func TestWebchatLanguageSwitchMidConversation(t *testing.T) {
	needChromium(t)
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	outer, cancelOuter := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(420, 860)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step(t, ctx, "open the chat in Chinese", chromedp.Navigate(m.URL()+"/c/"+demoSchool+"?lang=zh"))
	waitPage(t, ctx, "the first question", `document.querySelectorAll('#choices button.choice').length > 0 && document.getElementById('log').innerText.includes('下面哪一个说的是你')`)
	step(t, ctx, "answer it", chromedp.Click(chromedp.CSS(`#choices button.choice`)))
	waitPage(t, ctx, "the category question in Chinese", `[...document.querySelectorAll('#choices button')].some(b => b.textContent === '不确定')`)
	step(t, ctx, "switch to English", chromedp.Click(chromedp.CSS(`a.lang`)))
	waitPage(t, ctx, "the category question in English, with English buttons",
		`document.documentElement.lang === 'en' && document.getElementById('log').innerText.includes('What kind of thing happened') && `+
			`[...document.querySelectorAll('#choices button')].some(b => b.textContent === 'Not sure') && `+
			`![...document.querySelectorAll('#choices button')].some(b => /[\u4e00-\u9fff]/.test(b.textContent))`)
}

// 14. The admin's navigation (eleven items) fits one line at 1280 px in
// both languages, and the queue's unread badge says what it counts.
func TestNavigationFits1280(t *testing.T) {
	needChromium(t)
	t.Parallel()
	m := MustRunMain(t)
	bg := context.Background()
	// A real school's long names, a case to read.
	created, err := m.Staff.CreateSchool(bg, staff.NewSchool{Code: "zgc3", Name: "北京市海淀区中关村第三中学", NameEN: "Zhongguancun No. 3 Middle School, Haidian District", AdminUsername: "zgc-admin"})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "navigation-test-2026"
	sess, err := m.Staff.Authenticate(bg, "zgc-admin", created.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Staff.ChangePassword(bg, sess, pw); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	if _, err := m.Intake.Submit(bg, hotline.Submission{SchoolCode: "zgc3", Channel: hotline.ChannelMailbox, Texts: []string{"有人在宿舍拿走我的东西。"}}); err != nil {
		t.Fatal(err)
	}
	outer, cancelOuter := context.WithTimeout(bg, 3*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step(t, ctx, "log in",
		chromedp.Navigate(m.URL()+"/inbox/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "zgc-admin"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), pw),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
	)
	waitPage(t, ctx, "the queue", `document.querySelector('nav.nav') !== null && location.pathname === '/inbox/'`)
	for _, lang := range []string{"zh", "en"} {
		step(t, ctx, "the queue in "+lang, chromedp.Navigate(m.URL()+"/inbox/?lang="+lang))
		waitPage(t, ctx, "the queue in "+lang, `document.documentElement.lang.startsWith('`+lang+`')`)
		sctx, c := context.WithTimeout(ctx, time.Minute)
		got, err := chromedp.Run(sctx, chromedp.Evaluate[[]float64](`(() => {
			const links = [...document.querySelectorAll('nav.nav a')];
			const parts = [...document.querySelectorAll('header.top > *, nav.nav a')].filter(e => e.offsetWidth > 0 && !e.classList.contains('spacer'));
			const mids = parts.map(e => { const r = e.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
			return [links.length, Math.max(...mids) - Math.min(...mids), document.querySelector('header.top').getBoundingClientRect().height, document.documentElement.scrollWidth];
		})()`))
		c()
		if err != nil {
			t.Fatal(err)
		}
		// An admin's navigation has at least 11 links (12 with the rota).
		if got[0] < 11 || got[1] > 4 || got[3] > 1280 {
			t.Errorf("%s at 1280 px: %v links, the header's parts %v px apart in height (header %v px high), page %v px wide: want the header on one line with every link (11 or more)", lang, got[0], got[1], got[2], got[3])
		}
	}
	// The unread badge says "unread"; the open count says it counts open cases.
	u := newInboxUser(t, m.URL())
	u.login("zgc-admin", pw)
	p := u.get("/inbox/?lang=zh")
	badge := regexp.MustCompile(`(?s)<span class="badge"[^>]*id="unread-badge"[^>]*>(.*?)</span>\s*</a>`).FindStringSubmatch(p.body)
	if badge == nil || !strings.Contains(badge[1], "条未读") {
		t.Errorf("the navigation's unread badge does not say what it counts: %q", badge)
	}
}

// 14. Flags that are wrong or only half given stop serve and demo at once
// (exit 2) with a message that names them: the log levels there are, the
// SMTP and WeChat flags that are missing.
func TestServerFlagsNameWhatIsMissing(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	// A secret comes from a file or the environment, never the command line.
	tokenFile := filepath.Join(t.TempDir(), "wechat-token")
	if err := os.WriteFile(tokenFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		says []string
	}{
		{[]string{"--log-level", "verbose"}, []string{"--log-level \"verbose\"", "debug, info, warn, error"}},
		{[]string{"--log-format", "xml"}, []string{"--log-format", "text or json"}},
		{[]string{"--smtp-addr", "smtp.example.edu.cn:587"}, []string{"missing: --smtp-from (HOTLINE_SMTP_FROM)"}},
		{[]string{"--smtp-from", "hotline@example.edu.cn"}, []string{"missing: --smtp-addr (HOTLINE_SMTP_ADDR)"}},
		{[]string{"--smtp-addr", "smtp.example.edu.cn:587", "--smtp-from", "not an address"}, []string{"--smtp-from \"not an address\"", "not an e-mail address"}},
		{[]string{"--smtp-addr", "smtp.example.edu.cn:587", "--smtp-from", "hotline@example.edu.cn", "--smtp-user", "hotline"}, []string{"--smtp-user and --smtp-pass"}},
		{[]string{"--wechat-appid", "wx0123456789"}, []string{"missing: --wechat-secret (HOTLINE_WECHAT_SECRET), --wechat-token (HOTLINE_WECHAT_TOKEN), --wechat-aes-key (HOTLINE_WECHAT_AES_KEY)"}},
		{[]string{"--wechat-token-file", tokenFile}, []string{"--wechat-appid (HOTLINE_WECHAT_APPID)"}},
	} {
		for _, cmd := range []string{"serve", "demo"} {
			code, out, errs := runCLI(t, append([]string{cmd, "--data", dir, "--addr", "127.0.0.1:0"}, tc.args...)...)
			if code != 2 {
				t.Errorf("%s %v: exit %d (%s), want 2", cmd, tc.args, code, out)
			}
			for _, want := range tc.says {
				if !strings.Contains(errs, want) {
					t.Errorf("%s %v said %q, want %q", cmd, tc.args, errs, want)
				}
			}
		}
	}
	if code, _, help := runCLI(t, "serve", "-h"); code != 0 || !strings.Contains(help, "log level: debug, info, warn, error") {
		t.Errorf("serve -h does not list the log levels")
	}
}

// 14. A 7-day deadline set a moment ago shows "剩余 7 天" on the case page.
func TestSevenDayDeadlineShowsSevenDays(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	uid := demoCase(t, m)
	u := newInboxUser(t, m.URL())
	u.login(demoUser, demoPassword)
	casePath := "/inbox/tips/" + uid
	u.get(casePath)
	// 较重 (serious): the next step is owed within 7 days by default.
	if p := u.post(casePath+"/severity", url.Values{"severity": {string(hotline.SeveritySerious)}}); p.status != 200 {
		t.Fatalf("severity: %d", p.status)
	}
	p := u.get(casePath)
	if !strings.Contains(p.body, "剩余 7 天") || strings.Contains(p.body, "剩余 6 天") {
		t.Errorf("the case page after a 7-day deadline was set does not say 剩余 7 天")
	}
}
