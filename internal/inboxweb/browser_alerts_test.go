package inboxweb_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
)

// TestBrowserRotaAndMyAlertsOnAPhone: on a 375-px phone with JavaScript
// off, the admin sees an empty rota in red and fills it by touch; a
// counselor adds a text-message number on "my alerts", sends a test and
// types its code, and the channel shows working. Nothing is wider than
// the screen.
func TestBrowserRotaAndMyAlertsOnAPhone(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	sf := e.school("demo")
	pw := e.counselor(sf, "li", hotline.RoleCounselor)
	e.login("li", pw, newPW) // sets li's password
	base := e.hs.URL

	step(t, ctx, "phone without JavaScript",
		chromedp.EmulateViewport(phoneWidth, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
	)
	step(t, ctx, "admin logs in",
		chromedp.Navigate(base+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, sf.AdminUser),
		chromedp.SendKeys(`input[name=password]`, sf.AdminPassword),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`input[name=new]`),
		chromedp.SendKeys(`input[name=new]`, newPW),
		chromedp.SendKeys(`input[name=again]`, newPW),
		chromedp.Click(`main form button[type=submit]`),
		chromedp.WaitVisible(`.nav a[href="/inbox/admin/rota"]`),
	)
	step(t, ctx, "the rota", chromedp.Navigate(base+"/inbox/admin/rota"), chromedp.WaitVisible(`#rota-add`))
	noOverflow(t, ctx, "empty rota")
	onScreen(t, ctx, "empty rota", `#rota-ready`, `#rota-empty`, `select[name=who]`, `input[name=day][value="0"]`, `select[name=from]`, `select[name=to]`, `#rota-add button[type=submit]`)
	if got := eval[string](t, ctx, `document.getElementById('rota-ready').dataset.ready`); got != "false" {
		t.Fatalf("empty rota ready = %s", got)
	}
	// Red: an hour with nobody is shown as a problem, not as "everyone".
	if bg := eval[string](t, ctx, `getComputedStyle(document.querySelector('.seg.empty')).backgroundColor`); bg == "rgba(0, 0, 0, 0)" || bg == "rgb(255, 255, 255)" {
		t.Errorf("an empty hour is not marked: %s", bg)
	}
	screenshot(t, ctx, "inbox-phone-rota-empty.png")

	li := counselorID(t, e, "li")
	step(t, ctx, "li first on call every evening through the night, by touch",
		chromedp.SetValue(`select[name=who]`, strconvI(li)),
		chromedp.Click(`input[name=day][value="5"]`),
		chromedp.Click(`input[name=day][value="6"]`),
		chromedp.SetValue(`select[name=from]`, "18"),
		chromedp.SetValue(`select[name=to]`, "8"),
		chromedp.Click(`#rota-add button[type=submit]`),
		chromedp.WaitVisible(`.lines li`),
	)
	if line := eval[string](t, ctx, `document.querySelector('.lines li').textContent`); !strings.Contains(line, "老师li") || !strings.Contains(line, "每天 18:00–08:00") {
		t.Fatalf("rota line = %q", line)
	}
	noOverflow(t, ctx, "rota with a line")
	onScreen(t, ctx, "rota with a line", `.lines li button`, `.people li button`)
	screenshot(t, ctx, "inbox-phone-rota.png")

	// Li, on his phone, adds a text message number and confirms its test.
	step(t, ctx, "li logs in on his phone",
		chromedp.Click(`form[action="/inbox/logout"] button`),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "li"),
		chromedp.SendKeys(`input[name=password]`, newPW),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`.nav a[href="/inbox/alerts"]`),
		chromedp.Navigate(base+"/inbox/alerts"),
		chromedp.WaitVisible(`#add-target`),
	)
	lctx := ctx
	noOverflow(t, lctx, "my alerts")
	onScreen(t, lctx, "my alerts", `#oncall-state`, `select[name=kind]`, `input[name=address]`, `#add-target button[type=submit]`, `input[name=email]`)
	if got := eval[string](t, lctx, `document.getElementById('oncall-state').textContent`); !strings.Contains(got, "每天 18:00–08:00") {
		t.Errorf("li does not see his hours: %q", got)
	}
	step(t, lctx, "add a number",
		chromedp.SetValue(`select[name=kind]`, "sms_aliyun"),
		chromedp.SendKeys(`input[name=address]`, "138 0013 8000"),
		chromedp.Click(`#add-target button[type=submit]`),
		chromedp.WaitVisible(`li.target[data-kind="sms_aliyun"]`),
	)
	if got := eval[string](t, lctx, `document.querySelector('li.target[data-kind="sms_aliyun"] .t-addr').textContent`); got != "138****8000" {
		t.Errorf("masked number = %q", got)
	}
	step(t, lctx, "send a test",
		chromedp.Click(`li.target[data-kind="sms_aliyun"] form[action$="/test"] button`),
		chromedp.WaitVisible(`li.target[data-kind="sms_aliyun"] .codeform input[name=code]`),
	)
	noOverflow(t, lctx, "my alerts with a code to type")
	code := regexp.MustCompile(`[0-9]{6}`).FindString(e.sink.last(t, "+8613800138000").M.AliasZH)
	step(t, lctx, "type the code",
		chromedp.SendKeys(`li.target[data-kind="sms_aliyun"] .codeform input[name=code]`, code),
		chromedp.Click(`li.target[data-kind="sms_aliyun"] .codeform button`),
		chromedp.WaitVisible(`li.target.st-working[data-kind="sms_aliyun"]`),
	)
	noOverflow(t, lctx, "my alerts, confirmed")
	screenshot(t, lctx, "inbox-phone-my-alerts.png")
}
