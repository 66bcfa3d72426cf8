package inboxweb_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
)

// phoneWidth is the narrowest common phone (iPhone SE/mini class) in CSS px.
const phoneWidth = 375

// noOverflow fails when the page is wider than the phone: a counselor
// would have to scroll sideways to reach its controls.
func noOverflow(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	sw := eval[int](t, ctx, `document.documentElement.scrollWidth`)
	if sw > phoneWidth {
		wide := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > `+fmt.Sprint(phoneWidth)+`+1).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))`)
		t.Fatalf("%s: page is %d px wide on a %d px phone; too wide: %v", page, sw, phoneWidth, wide)
	}
}

// onScreen fails unless every selector matches an element that is
// displayed, has a size and lies within the phone's width.
func onScreen(t *testing.T, ctx context.Context, page string, selectors ...string) {
	t.Helper()
	for _, sel := range selectors {
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); if (!e) return 'missing';
			const r = e.getBoundingClientRect(), s = getComputedStyle(e);
			if (s.display === 'none' || s.visibility === 'hidden' || r.width < 8 || r.height < 8) return 'hidden';
			if (r.left < -1 || r.right > %d + 1) return 'off-screen ' + Math.round(r.left) + '..' + Math.round(r.right);
			return 'ok'; })()`, jsString(sel), phoneWidth)
		if got := eval[string](t, ctx, js); got != "ok" {
			t.Errorf("%s: %s is %s on a phone", page, sel, got)
		}
	}
}

// TestBrowserPhone: the queue and the case page on a 375-px phone: nothing
// wider than the screen, the controls of a night on call (search, filter,
// open a case, reply with a saved reply, change the status) visible and
// working by touch.
func TestBrowserPhone(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	sf := e.school("demo")
	samples := []struct {
		cat    hotline.Category
		text   string
		danger bool
	}{
		{hotline.CategoryPhysical, "晚自习后在宿舍楼后面，三个高年级的人把我堵住推倒了，还说明天还来。", true},
		{hotline.CategoryCyber, "有人在班级群里发我的丑照，还配了很难听的话。", false},
		{hotline.CategoryVerbal, "同桌天天骂我，老师不在的时候更过分。", false},
		{hotline.CategoryProperty, "食堂门口有人向我要钱，不给就打。", false},
	}
	var first *hotline.Submitted
	for i, s := range samples {
		e.clock.Add(-time.Duration(len(samples)-i) * 41 * time.Minute)
		out, err := e.in.Submit(context.Background(), hotline.Submission{SchoolCode: "demo", Channel: []hotline.Channel{hotline.ChannelWebchat, hotline.ChannelMailbox}[i%2],
			Role: hotline.ReporterVictim, Category: s.cat, Texts: []string{s.text}, DangerNow: s.danger})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = out
		}
		e.clock.Add(time.Duration(len(samples)-i) * 41 * time.Minute)
	}
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	u.post("/inbox/replies", url.Values{"title": {"先安抚"}, "lang": {"zh"}, "body": {"谢谢你告诉我们。你现在安全吗？如果有危险，请马上告诉身边的老师或拨打110。"}})
	base := e.hs.URL

	step(t, ctx, "phone", chromedp.EmulateViewport(phoneWidth, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	step(t, ctx, "log in on the phone",
		chromedp.Navigate(base+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, sf.AdminUser),
		chromedp.SendKeys(`input[name=password]`, newPW),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`#queue .queue`),
	)
	noOverflow(t, ctx, "queue")
	onScreen(t, ctx, "queue", `input[name=q]`, `.filters button[type=submit]`, `select[name=status]`, `.queue .c-alias a`, `.counts a`, `.nav a[href="/inbox/"]`)
	// The first case starts on the first screen.
	if top := eval[float64](t, ctx, `document.querySelector('.queue .c-alias a').getBoundingClientRect().top`); top > 740 {
		t.Errorf("the first case starts %v px down a 740 px screen", top)
	}
	screenshot(t, ctx, "inbox-phone-queue.png")
	// The folded filters open with one tap.
	step(t, ctx, "more filters", chromedp.Click(`.more-toggle`), chromedp.WaitVisible(`select[name=assignee]`))
	noOverflow(t, ctx, "queue with every filter")
	onScreen(t, ctx, "queue with every filter", `input[name=alias]`, `input[name=from]`, `select[name=category]`)

	// Search by words on the phone: the hit is the urgent case.
	step(t, ctx, "search",
		chromedp.SendKeys(`input[name=q]`, "宿舍楼"),
		chromedp.Click(`.filters button[type=submit]`),
		chromedp.WaitVisible(`.searched`),
	)
	noOverflow(t, ctx, "search results")
	if n := eval[int](t, ctx, `document.querySelectorAll('.queue .c-alias a').length`); n != 1 {
		t.Fatalf("search on the phone found %d cases, want 1", n)
	}

	// Open the case by touch.
	step(t, ctx, "open the case", chromedp.Click(`.queue .c-alias a`), chromedp.WaitVisible(`#reply-text`))
	if got := eval[string](t, ctx, `location.pathname`); got != "/inbox/tips/"+first.TipUID {
		t.Fatalf("opened %s", got)
	}
	noOverflow(t, ctx, "case")
	onScreen(t, ctx, "case", `#reply-text`, `#reply button.primary`, `#saved-replies button`, `.msg-reporter .msg-body`, `select[name=status]`)

	// One tap puts the saved reply into the box (script), then send.
	step(t, ctx, "saved reply", chromedp.Click(`#saved-replies button[data-body]`))
	if got := eval[string](t, ctx, `document.getElementById('reply-text').value`); got != "谢谢你告诉我们。你现在安全吗？如果有危险，请马上告诉身边的老师或拨打110。" {
		t.Fatalf("reply box after one tap: %q", got)
	}
	if path := eval[string](t, ctx, `location.pathname`); path != "/inbox/tips/"+first.TipUID {
		t.Fatalf("the tap left the page for %s", path)
	}
	step(t, ctx, "send", chromedp.Click(`#reply button.primary`), chromedp.WaitVisible(`.msg-counselor .delivery`))
	noOverflow(t, ctx, "case after the reply")
	eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	screenshot(t, ctx, "inbox-phone-case.png")

	// The other pages of a counselor's day fit too.
	for _, p := range []string{"/inbox/replies", "/inbox/stats", "/inbox/intake", "/inbox/admin/audit", "/inbox/admin/setup"} {
		step(t, ctx, p, chromedp.Navigate(base+p), chromedp.WaitVisible(`main h1`))
		noOverflow(t, ctx, p)
	}
}
