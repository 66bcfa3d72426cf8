package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestNewSchoolFirstDayInBrowser is a new school's first day, driven as a
// new admin would, with no README: the operator runs `district add` and
// `school add` and hands over the printed username and one-time password.
// In Chromium the admin logs in, sets a password, follows the navigation to
// the setup page, follows its checklist to add a counselor, allows the
// school's site in the settings the widget section names, and puts the
// snippet copied from the setup page on the school's (test) site. A
// student reports through the widget there; the admin answers from the
// queue; the student reads the answer with the receipt; the checklist
// shows the test report sent and answered.
func TestNewSchoolFirstDayInBrowser(t *testing.T) {
	needChromium(t)
	dir := initData(t)
	if code, _, errs := runCLI(t, "district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"); code != 0 {
		t.Fatalf("district add: %s", errs)
	}
	code, out, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区")
	if code != 0 {
		t.Fatalf("school add: %s", errs)
	}
	adminUser := fieldAfter(t, out, "username:")
	otp := fieldAfter(t, out, "one-time password:")

	// The school's own site, on another origin: it shows whatever snippet
	// the admin pasted into it.
	var snippet atomic.Value
	snippet.Store("")
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>第三中学</title></head>
<body><h1>第三中学</h1><p>欢迎访问第三中学网站。</p>%s</body></html>`, snippet.Load())
	}))
	defer host.Close()
	m := MustRunMain(t, withDataDir(dir))
	base := m.URL()

	outer, cancelOuter := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900)); err != nil {
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

	// 1. Log in with what `school add` printed; a password of one's own.
	const pw = "first-day-password-2026"
	step(t, ctx, "log in",
		chromedp.Navigate(base+"/inbox/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), adminUser),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), otp),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=again]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=new]`), pw),
		chromedp.SendKeys(chromedp.CSS(`input[name=again]`), pw),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/password"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.nav a[href="/inbox/admin/setup"]`)),
	)

	// 2. The navigation leads to the setup page; its checklist says what
	// is missing, and its link adds a counselor.
	step(t, ctx, "setup page", chromedp.Click(chromedp.CSS(`.nav a[href="/inbox/admin/setup"]`)), chromedp.WaitVisible(chromedp.CSS(`#checklist`)))
	if done := evalStr(`document.querySelector('[data-check=chk_report_answered]').dataset.done`); done != "false" {
		t.Fatalf("a new school's checklist says a report was answered: %s", done)
	}
	step(t, ctx, "add a counselor from the checklist",
		chromedp.Click(chromedp.CSS(`[data-check=chk_counselors] a`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "wang.li"),
		chromedp.SendKeys(chromedp.CSS(`input[name=display_name]`), "王丽"),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/admin/counselors"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#otp`)),
	)

	// 3. The widget section names the settings page: allow the site there.
	step(t, ctx, "allow the school's site",
		chromedp.Navigate(base+"/inbox/admin/setup"),
		chromedp.WaitVisible(chromedp.CSS(`#widget a[href="/inbox/admin/settings"]`)),
		chromedp.Click(chromedp.CSS(`#widget a[href="/inbox/admin/settings"]`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=origins]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=origins]`), host.URL),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/admin/settings"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.alert.notice`)),
	)

	// 4. Copy the snippet from the setup page onto the site. The page's
	// preview runs the real chat; its poster section says why there is no
	// poster on a server without a public URL.
	step(t, ctx, "read the snippet", chromedp.Navigate(base+"/inbox/admin/setup"), chromedp.WaitVisible(chromedp.CSS(`#snippet`)))
	evalStr(`(document.querySelector('#preview').scrollIntoView(), '')`)
	waitPage(t, ctx, "live preview", `(() => { const d = document.querySelector('#preview').contentDocument; return !!(d && d.body && d.body.dataset.school === 'no3' && d.querySelector('#log .msg')) })()`)
	if evalStr(`document.querySelector('#poster-local') ? 'local' : 'poster'`) != "local" {
		t.Error("a server on 127.0.0.1 offers a poster")
	}
	tag := evalStr(`document.querySelector('#snippet').textContent`)
	if !strings.HasPrefix(tag, `<script src="`+base+`/webchat/widget.js"`) || !strings.Contains(tag, `data-school="no3"`) {
		t.Fatalf("snippet %q", tag)
	}
	snippet.Store(tag)

	// 5. A student reports through the widget on the school's site.
	e := &webchatEnv{m: m, hostURL: host.URL}
	f := e.openWidget(t, ctx)
	f.tap("我正在被欺负")
	f.tap("言语欺凌")
	text := canaryText("开学第一天就有人在走廊里骂我-")
	f.typeText(text)
	f.tap("写完了")
	f.tap("没有")
	f.tap("发送")
	receipt := f.poll(`(() => { const c = document.querySelector('#receipt-code'); return c ? c.textContent : false })()`)
	if len(receipt) != 23 {
		t.Fatalf("receipt %q", receipt)
	}

	// 6. The admin finds it in the queue, opens it and answers.
	answer := canaryText("谢谢你告诉老师。明天午休来心理室好吗？-")
	step(t, ctx, "answer from the queue",
		chromedp.Navigate(base+"/inbox/"),
		chromedp.WaitVisible(chromedp.CSS(`#queue .c-alias a`)),
		chromedp.Click(chromedp.CSS(`#queue .c-alias a`)),
		chromedp.WaitVisible(chromedp.CSS(`#reply-text`)),
		chromedp.SendKeys(chromedp.CSS(`#reply-text`), answer),
		chromedp.Click(chromedp.CSS(`#reply button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`.msg-counselor .delivery`)),
	)
	if got := evalStr(`document.querySelector('.msg-reporter .msg-body').textContent`); got != text {
		t.Fatalf("the case shows %q", got)
	}

	// 7. The student, back on the site with the receipt, reads the answer.
	f = e.openWidget(t, ctx)
	f.poll(`(() => { document.querySelector('#havecode').click(); return !document.querySelector('#codeform').hidden })()`)
	step(t, ctx, "enter the receipt", chromedp.SendKeys(chromedp.CSS(`#code`), receipt, f.query()...), chromedp.SendKeys(chromedp.CSS(`#code`), kb.Enter, f.query()...))
	f.poll(fmt.Sprintf(`[...document.querySelectorAll('.msg.them .text')].some(p => p.textContent === %q)`, answer))

	// 8. The checklist now shows the whole path works.
	step(t, ctx, "setup page again", chromedp.Navigate(base+"/inbox/admin/setup"), chromedp.WaitVisible(chromedp.CSS(`#checklist`)))
	for _, k := range []string{"chk_counselors", "chk_report_sent", "chk_report_answered"} {
		if done := evalStr(`document.querySelector('[data-check=` + k + `]').dataset.done`); done != "true" {
			t.Errorf("checklist %s: done=%s", k, done)
		}
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "inbox-setup.png", png)
	}
}
