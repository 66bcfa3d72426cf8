package inboxweb_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
)

// TestBrowserEscalateAndLiveThread: in headless Chromium, a reporter's new
// message appears in the open case without a reload while the reply box
// keeps the counselor's draft; the counselor marks the case severe, sees
// the flag, escalates it through the confirmation, and the district's
// officer can then read the thread. The alerts page shows a link code.
func TestBrowserEscalateAndLiveThread(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	sf := e.school("demo")
	bg := context.Background()
	district, err := e.st.CreateDistrict(bg, "海淀区", "officer")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.in.Submit(bg, hotline.Submission{SchoolCode: "demo", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryPhysical, Texts: []string{"高年级的三个人在厕所里打我，还抢了我的手机。"}})
	if err != nil {
		t.Fatal(err)
	}
	base := e.hs.URL
	page := base + "/inbox/tips/" + sub.TipUID

	step(t, ctx, "log in",
		chromedp.Navigate(base+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, sf.AdminUser),
		chromedp.SendKeys(`input[name=password]`, sf.AdminPassword),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`input[name=again]`),
		chromedp.SendKeys(`input[name=new]`, newPW),
		chromedp.SendKeys(`input[name=again]`, newPW),
		chromedp.Click(`form[action="/inbox/password"] button[type=submit]`),
		chromedp.WaitVisible(`#queue table.queue`),
	)

	// Live: the reporter writes again while a reply is being drafted.
	const draft = "我们已经收到，正在联系"
	step(t, ctx, "open the case and draft",
		chromedp.Navigate(page),
		chromedp.WaitVisible(`body[data-live-ready="1"]`),
		chromedp.SendKeys(`#reply textarea[name=text]`, draft),
	)
	eval[bool](t, ctx, `(window.__sameDocument = true)`)
	const more = "他们说明天放学还要来找我。"
	if _, err := e.in.AddReporterMessage(bg, hotline.ReporterRef{Receipt: sub.Receipt}, more, nil); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`Array.from(document.querySelectorAll('#thread .msg-reporter .msg-body')).some(e => e.textContent === `+jsString(more)+`)`, chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		t.Fatalf("the new message did not appear in place: %v", err)
	}
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("the page reloaded")
	}
	if got := eval[string](t, ctx, `document.querySelector('#reply textarea[name=text]').value`); got != draft {
		t.Fatalf("reply draft = %q, want %q", got, draft)
	}
	if eval[bool](t, ctx, `!document.getElementById('live-notice').hidden`) {
		t.Fatal("fell back to the reload notice")
	}

	// Severe: flagged; escalate through the confirmation.
	step(t, ctx, "mark severe",
		chromedp.SetValue(`#severity select[name=severity]`, "severe"),
		chromedp.Click(`#severity button[type=submit]`),
		chromedp.WaitVisible(`#must-escalate`),
	)
	// Without ticking the box the browser does not send the form.
	eval[bool](t, ctx, `(window.confirm = function () { return true; }, true)`)
	step(t, ctx, "escalate",
		chromedp.Click(`#escalate input[name=confirm]`),
		chromedp.Click(`#escalate button[type=submit]`),
		chromedp.WaitVisible(`#escalated-state`),
	)
	if n := eval[int](t, ctx, `document.querySelectorAll('#must-escalate, #escalate form[action$="/escalate"]').length`); n != 0 {
		t.Fatal("still asks to escalate")
	}
	eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	screenshot(t, ctx, "inbox-escalated.png")

	officer, err := e.st.Authenticate(bg, district.Officer.Username, district.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer officer.Wipe()
	tip, msgs, err := e.tr.Thread(bg, officer, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if !tip.Escalated || len(msgs) < 2 || msgs[1].Body != more {
		t.Fatalf("officer's thread: escalated=%v, %d messages", tip.Escalated, len(msgs))
	}

	// My alerts: a link code with the instructions.
	step(t, ctx, "alerts",
		chromedp.Navigate(base+"/inbox/alerts"),
		chromedp.Click(`form[action="/inbox/alerts/link"] button[type=submit]`),
		chromedp.WaitVisible(`#link-code`),
	)
	code := eval[string](t, ctx, `document.getElementById('link-code').textContent`)
	if got := eval[string](t, ctx, `document.getElementById('link-step').textContent`); got != "在 Telegram 里给机器人发送 /link "+code+"，15 分钟内有效。" {
		t.Fatalf("instructions: %q", got)
	}
	screenshot(t, ctx, "inbox-alerts.png")
}
