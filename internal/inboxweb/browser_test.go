package inboxweb_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
)

const chromiumPath = "/usr/bin/chromium"

// browserCtx starts headless Chromium for one test. It skips only when
// Chromium is missing outside CI; under CI=true that is a failure.
func browserCtx(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no %s (set CI=true to make this a failure)", chromiumPath)
		}
		t.Fatalf("CI needs %s: %v", chromiumPath, err)
	}
	// The whole browser lives at most this long, whatever happens.
	outer, cancelOuter := context.WithTimeout(context.Background(), 6*time.Minute)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium")),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelOuter() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions with their own timeout, so that a missing element
// fails the test instead of hanging it.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("INBOX_SCREENSHOTS") // e.g. ../../docs to refresh the committed ones
	if dir == "" {
		dir = t.TempDir()
	}
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// xssPayloads are report texts written to attack the counselor's page.
var xssPayloads = []string{
	`<script>window.__pwned=1</script>`,
	`<img src=x onerror="window.__pwned=1">`,
	`<a href="javascript:window.__pwned=1">x</a>`,
	`<svg onload="window.__pwned=1">`,
	"{{.}} ${7*7} {{7*7}} </textarea><style>body{display:none}</style>",
	"作业.exe\u202Efdp.txt 右到左覆盖 \u202E<b>bold</b>",
}

func TestBrowserCounselorFlow(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	sf := e.school("demo")
	// A realistic queue for the screenshot: several cases, one urgent.
	samples := []struct {
		cat    hotline.Category
		text   string
		danger bool
	}{
		{hotline.CategoryVerbal, "班上几个同学每天给我起外号。", false},
		{hotline.CategoryCyber, "有人把我的照片发到年级群里嘲笑我。", false},
		{hotline.CategoryPhysical, "放学后在操场后面有人推我、踢我。", true},
		{hotline.CategoryExclusion, "小组活动大家都不跟我一组。", false},
		{hotline.CategoryProperty, "有高年级学生向我要钱。", false},
	}
	for i, s := range samples {
		e.clock.Add(-time.Duration(len(samples)-i) * 37 * time.Minute)
		if _, err := e.in.Submit(context.Background(), hotline.Submission{SchoolCode: "demo", Channel: []hotline.Channel{hotline.ChannelWebchat, hotline.ChannelMailbox}[i%2],
			Role: hotline.ReporterVictim, Category: s.cat, Texts: []string{s.text}, DangerNow: s.danger}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Duration(len(samples)-i) * 37 * time.Minute)
	}
	xss := e.tip("demo", xssPayloads...)
	base := e.hs.URL

	// Log in with the one-time password: the password page comes first.
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
	if got := eval[string](t, ctx, `location.pathname`); got != "/inbox/" {
		t.Fatalf("after the password change at %s", got)
	}
	screenshot(t, ctx, "inbox-queue.png")

	// The hostile tip: inert text, exactly as written.
	step(t, ctx, "open the case",
		chromedp.Navigate(base+"/inbox/tips/"+xss.TipUID),
		chromedp.WaitVisible(`.msg-reporter .msg-body`),
	)
	if pwned := eval[bool](t, ctx, `typeof window.__pwned !== 'undefined'`); pwned {
		t.Fatal("a payload ran")
	}
	bodies := eval[[]string](t, ctx, `Array.from(document.querySelectorAll('.msg-reporter .msg-body')).map(e => e.textContent)`)
	if len(bodies) != len(xssPayloads) {
		t.Fatalf("%d message bodies, want %d", len(bodies), len(xssPayloads))
	}
	for i, want := range xssPayloads {
		if bodies[i] != want {
			t.Errorf("message %d text = %q, want %q", i, bodies[i], want)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('.messages script, .messages img[src="x"], .messages svg, .messages a[href^="javascript"], .messages style, .messages b').length`); n != 0 {
		t.Fatalf("%d elements from payloads in the thread", n)
	}
	if n := eval[int](t, ctx, `document.scripts.length`); n != 1 {
		t.Fatalf("%d scripts on the page, want 1 (ours)", n)
	}

	// Reply: it appears in the thread with its delivery state, and the web
	// reporter's own thread shows it.
	reply := "我们收到了。明天上午请到心理咨询室找王老师。"
	step(t, ctx, "reply",
		chromedp.SendKeys(`#reply textarea[name=text]`, reply),
		chromedp.Click(`#reply button[type=submit]`),
		chromedp.WaitVisible(`.msg-counselor .delivery`),
	)
	if got := eval[string](t, ctx, `document.querySelector('.msg-counselor .msg-body').textContent`); got != reply {
		t.Fatalf("reply text = %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('.msg-counselor .delivery').dataset.delivery`); got != "delivered" {
		t.Fatalf("delivery = %q", got)
	}
	_, thread, err := e.in.ThreadByReceipt(context.Background(), xss.Receipt)
	if err != nil || len(thread) == 0 || thread[len(thread)-1].Body != reply {
		t.Fatalf("reporter's thread lacks the reply: %v", err)
	}
	step(t, ctx, "note", chromedp.SendKeys(`#note textarea[name=text]`, "已通知班主任，明天约谈。"), chromedp.Click(`#note button[type=submit]`), chromedp.WaitVisible(`.msg-note .note-label`))
	eval[bool](t, ctx, `(window.scrollTo(0, 0), true)`)
	screenshot(t, ctx, "inbox-case.png")

	// Live: a new tip appears in the open queue without a reload, and the
	// title shows the badge.
	step(t, ctx, "queue", chromedp.Navigate(base+"/inbox/"), chromedp.WaitVisible(`body[data-live-ready="1"]`))
	eval[bool](t, ctx, `(window.__sameDocument = true)`)
	before := eval[string](t, ctx, `document.title`)
	fresh := e.tip("demo", "刚刚在楼梯间有人抢了我的饭卡")
	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[bool](`document.querySelector('#queue').textContent.includes(`+jsString(fresh.Alias.ZH)+`)`, chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		t.Fatalf("the new tip did not appear live: %v", err)
	}
	if !eval[bool](t, ctx, `window.__sameDocument === true`) {
		t.Fatal("the page reloaded")
	}
	title := eval[string](t, ctx, `document.title`)
	badge := regexp.MustCompile(`^\((\d+)\) 收件箱`)
	mb, ma := badge.FindStringSubmatch(before), badge.FindStringSubmatch(title)
	if ma == nil || mb == nil || atoi(ma[1]) != atoi(mb[1])+1 {
		t.Fatalf("title %q after %q: want the badge one higher", title, before)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
