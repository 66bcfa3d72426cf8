package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"hotline/internal/hotline"
	"hotline/internal/testsupport"
)

// runDemoPhones runs the real program as the demo does, with its Telegram
// and WeChat simulators and the phones' page, on the demo school. Its
// warnings and errors are kept, and shown if the test fails (the log
// holds no report's words: the program never logs them).
func runDemoPhones(t *testing.T) *Main {
	t.Helper()
	var p *demoPhones
	logs := &testsupport.SyncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the program's warnings and errors:\n%s", logs.String())
		}
	})
	m := MustOpenMain(t, func(m *Main) {
		if os.Getenv("HOTLINE_TEST_LOG") == "" {
			m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
		var err error
		if p, err = startDemoPhones(m); err != nil {
			t.Fatal(err)
		}
		m.Relay.BaseBackoff, m.Relay.MaxBackoff, m.Relay.PollInterval = 20*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
	})
	m.usePhones(p)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDemoPhonesInBrowser is the district's evaluator trying the two
// messengers without accounts: in Chromium, on the demo's page, a pupil
// reports on the simulated Telegram phone (START from the poster, inline
// buttons, the words, send) and on the simulated WeChat phone (follow,
// the account's menu, menu links, the words, send); each report is in the
// school's inbox with the pupil's words, where a counselor answers it;
// each answer comes back to its phone.
func TestDemoPhonesInBrowser(t *testing.T) {
	needChromium(t)
	m := runDemoPhones(t)
	base := m.URL()
	bg := context.Background()
	sess, err := m.Staff.Authenticate(bg, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	seeded := map[string]bool{}
	tips, _, err := m.Triage.Queue(bg, sess.Actor(), hotline.TipFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range tips {
		seeded[tp.UID] = true
	}
	// newTip waits for the report of channel ch the phone just sent.
	newTip := func(ch hotline.Channel) *hotline.Tip {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			tips, _, err := m.Triage.Queue(bg, sess.Actor(), hotline.TipFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tp := range tips {
				if tp.Channel == ch && !seeded[tp.UID] {
					seeded[tp.UID] = true
					return tp
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no new %s report in the inbox", ch)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	outer, cancelOuter := context.WithTimeout(bg, 6*time.Minute)
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
	// A failure says what each phone showed and what the WeChat adapter
	// did with the messages (answered at once, later, or again): a
	// button that never came is otherwise a minute's wait and no clue.
	defer func() {
		if !t.Failed() {
			return
		}
		sctx, c := context.WithTimeout(ctx, 10*time.Second)
		defer c()
		for _, log := range []string{"#tg-log", "#wx-log"} {
			shown, err := chromedp.Run(sctx, chromedp.Evaluate[string](fmt.Sprintf(
				`[...document.querySelectorAll('%s .msg')].map(m => (m.classList.contains('mine') ? '> ' : '< ') + m.textContent.slice(0, 80) + [...m.querySelectorAll('button')].map(b => ' [' + (b.dataset.data || '') + ']').join('')).join('\n')`, log)))
			t.Logf("%s showed (%v):\n%s", log, err, shown)
		}
		if m.Wechat != nil {
			t.Logf("wechat adapter: %+v", m.Wechat.Stats())
		}
	}()
	// tap waits for the newest button in sel whose data starts with
	// prefix, and clicks it as the pupil would.
	tap := func(sel, prefix string) {
		t.Helper()
		find := fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(b => b.dataset.data.startsWith(%q)).pop()`, sel, prefix)
		waitPage(t, ctx, "button "+prefix, `!!`+find)
		evalStr(`(` + find + `.click(), '')`)
	}
	says := func(log, text string) string {
		return fmt.Sprintf(`[...document.querySelectorAll('%s .msg.theirs')].some(m => m.textContent.includes(%q))`, log, text)
	}
	// A picture on disk, for the file inputs: the pupil's and the
	// counselor's.
	picture := filepath.Join(t.TempDir(), "picture.jpg")
	if err := os.WriteFile(picture, exifJPEG(t, "GPS-CANARY-demo-phones"), 0o600); err != nil {
		t.Fatal(err)
	}
	upload := func(what, sel string) {
		t.Helper()
		step(t, ctx, what, chromedp.SetUploadFiles(chromedp.CSS(sel), []string{picture}, chromedp.NodeReady))
	}
	// answer opens the case in the inbox, checks the pupil's words (and
	// picture) are there, and replies (with a picture).
	answer := func(tp *hotline.Tip, words, reply string, withPicture bool) {
		t.Helper()
		step(t, ctx, "open the case", chromedp.Navigate(base+"/inbox/tips/"+tp.UID), chromedp.WaitVisible(chromedp.CSS(`#reply-text`)))
		if got := evalStr(`[...document.querySelectorAll('.msg-reporter .msg-body')].map(e => e.textContent).join('|')`); !strings.Contains(got, words) {
			t.Fatalf("the case shows %q, want the pupil's %q", got, words)
		}
		if withPicture {
			waitPage(t, ctx, "the pupil's picture in the case", `[...document.querySelectorAll('.msg-reporter img.photo')].some(i => (i.scrollIntoView(), i.complete && i.naturalWidth > 0))`)
			upload("attach a picture to the reply", `#reply input[name=photo]`)
		}
		step(t, ctx, "reply", chromedp.SendKeys(chromedp.CSS(`#reply-text`), reply), chromedp.Click(chromedp.CSS(`#reply button.primary`)),
			chromedp.WaitVisible(chromedp.CSS(`.msg-counselor .delivery`)))
	}

	// The page says it is a simulation, in Chinese first.
	step(t, ctx, "open the phones", chromedp.Navigate(base+"/demo/phones"), chromedp.WaitVisible(chromedp.CSS(`#tg-start`)), chromedp.WaitVisible(chromedp.CSS(`#wx-follow`)))
	// Beside them, the real web chat, live.
	waitPage(t, ctx, "the web chat beside the phones", `(() => { const d = document.querySelector('#web-chat').contentDocument; return !!(d && d.body && d.body.dataset.school === 'demo') })()`)
	banner := evalStr(`document.querySelector('#sim-banner').textContent`)
	if zh, en := strings.Index(banner, "这是模拟"), strings.Index(banner, "This is a simulation"); zh < 0 || en < zh {
		t.Fatalf("the page does not say first in Chinese, then in English, that it is a simulation: %q", banner)
	}

	// Telegram: START as from the poster, then the inline buttons.
	tgWords := canaryText("体育课后有人把我的运动鞋扔进了厕所-")
	evalStr(`(document.querySelector('#tg-start').click(), '')`)
	tap(`#tg-log .kb button`, "role:victim")
	tap(`#tg-log .kb button`, "cat:property")
	step(t, ctx, "telegram: write", chromedp.SendKeys(chromedp.CSS(`#tg-input`), tgWords), chromedp.Click(chromedp.CSS(`#tg-send`)))
	waitPage(t, ctx, "telegram: the words shown as sent", fmt.Sprintf(`[...document.querySelectorAll('#tg-log .msg.mine')].some(m => m.textContent === %q)`, tgWords))
	upload("telegram: send a picture", `#tg-photo`)
	waitPage(t, ctx, "telegram: the picture shown as sent", `!!document.querySelector('#tg-log .msg.mine .photo')`)
	tap(`#tg-log .kb button`, "done")
	tap(`#tg-log .kb button`, "danger:no")
	waitPage(t, ctx, "telegram: the summary counts the picture", says("#tg-log", "1 张照片"))
	tap(`#tg-log .kb button`, "send")
	tg := newTip(hotline.ChannelTelegram)
	if tg.Role != hotline.ReporterVictim || tg.Category != hotline.CategoryProperty {
		t.Errorf("the Telegram report is %s/%s, want the buttons tapped: victim/property", tg.Role, tg.Category)
	}
	waitPage(t, ctx, "telegram: the alias", says("#tg-log", tg.Alias.ZH))

	// WeChat: follow, the menu's 我要报告, the menu links, the words.
	wxWords := canaryText("宿舍里有人每天晚上往我床上倒水-")
	evalStr(`(document.querySelector('#wx-follow').click(), '')`)
	waitPage(t, ctx, "wechat: the menu", `!!document.querySelector('#wx-menu button[data-key]')`)
	evalStr(`(document.querySelector('#wx-menu button[data-key=HOTLINE_REPORT]').click(), '')`)
	tap(`#wx-log button.choice`, "role:witness")
	tap(`#wx-log button.choice`, "cat:exclusion")
	step(t, ctx, "wechat: write", chromedp.SendKeys(chromedp.CSS(`#wx-input`), wxWords), chromedp.Click(chromedp.CSS(`#wx-send`)))
	waitPage(t, ctx, "wechat: the words shown as sent", fmt.Sprintf(`[...document.querySelectorAll('#wx-log .msg.mine')].some(m => m.textContent === %q)`, wxWords))
	upload("wechat: send a picture", `#wx-photo`)
	waitPage(t, ctx, "wechat: the picture shown as sent", `!!document.querySelector('#wx-log .msg.mine .photo')`)
	tap(`#wx-log button.choice`, "done")
	tap(`#wx-log button.choice`, "danger:no")
	waitPage(t, ctx, "wechat: the summary counts the picture", says("#wx-log", "1 张照片"))
	tap(`#wx-log button.choice`, "send")
	wx := newTip(hotline.ChannelWechat)
	if wx.Role != hotline.ReporterWitness || wx.Category != hotline.CategoryExclusion {
		t.Errorf("the WeChat report is %s/%s, want the menu links tapped: witness/exclusion", wx.Role, wx.Category)
	}
	waitPage(t, ctx, "wechat: the alias", says("#wx-log", wx.Alias.ZH))

	// A counselor answers both from the inbox, in the same browser.
	step(t, ctx, "log in",
		chromedp.Navigate(base+"/inbox/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), demoUser),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), demoPassword),
		chromedp.Click(chromedp.CSS(`form[action="/inbox/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
	)
	tgReply := canaryText("谢谢你告诉老师，鞋子的事我们会去了解。-")
	wxReply := canaryText("谢谢你告诉我们，我们今晚就去宿舍看看。-")
	answer(tg, tgWords, tgReply, true)
	answer(wx, wxWords, wxReply, true)

	// Each answer comes back to its phone.
	step(t, ctx, "back to the phones", chromedp.Navigate(base+"/demo/phones"), chromedp.WaitVisible(chromedp.CSS(`#tg-log`)))
	waitPage(t, ctx, "telegram: the phone shows the reply", says("#tg-log", tgReply))
	waitPage(t, ctx, "wechat: the phone shows the reply", says("#wx-log", wxReply))
	for _, log := range []string{"#tg-log", "#wx-log"} {
		waitPage(t, ctx, log+": the counselor's picture shows", `[...document.querySelectorAll('`+log+` .msg.theirs img')].some(i => i.complete && i.naturalWidth > 0)`)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		saveScreenshot(t, "demo-phones.png", png)
	}
}

// TestDemoPhonesOnlyInTheDemo checks what the page is to a stranger: a
// server run by serve has no such page; the demo's has, under its CSP,
// and refuses a call another site makes, a forged button, words too long
// or not UTF-8, a file that is not a picture, a stranger's look at
// another visitor's pictures, and a flood.
func TestDemoPhonesOnlyInTheDemo(t *testing.T) {
	serve := MustRunMain(t)
	resp, err := http.Get(serve.URL() + "/demo/phones")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("serve answers /demo/phones with %d, want 404", resp.StatusCode)
	}

	m := runDemoPhones(t)
	resp, err = http.Get(m.URL() + "/demo/phones")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != 200 || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("page: %d, CSP %q", resp.StatusCode, csp)
	}
	if strings.Contains(string(body), "http://") || strings.Contains(string(body), "https://") {
		t.Errorf("the page loads or links something outside: %s", body)
	}

	post := func(path, body string, hdr map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", m.URL()+"/demo/phones"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Another visitor's pictures are not there for a stranger.
	for _, path := range []string{"/telegram/photo/1", "/wechat/image/0"} {
		resp, err := http.Get(m.URL() + "/demo/phones" + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without the visitor's cookie: got %d, want 404", path, resp.StatusCode)
		}
	}
	for _, c := range []struct {
		name, path, body string
		hdr              map[string]string
		want             int
	}{
		{"another site", "/telegram/send", `{"text":"hi"}`, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another origin", "/wechat/send", `{"text":"hi"}`, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a form", "/telegram/send", `text=hi`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusForbidden},
		{"forged button", "/telegram/press", `{"message":1,"data":"send"}`, nil, http.StatusBadRequest},
		{"forged menu link", "/wechat/tap", `{"data":"send"}`, nil, http.StatusBadRequest},
		{"forged menu key", "/wechat/menu", `{"key":"NOT_A_KEY"}`, nil, http.StatusBadRequest},
		{"empty", "/telegram/send", `{"text":"  "}`, nil, http.StatusBadRequest},
		{"too long", "/wechat/send", `{"text":"` + strings.Repeat("长", 601) + `"}`, nil, http.StatusRequestEntityTooLarge},
		{"not UTF-8", "/telegram/send", "{\"text\":\"\xff\xfe\"}", nil, http.StatusBadRequest},
		{"not JSON", "/telegram/send", `{`, nil, http.StatusBadRequest},
		{"not a picture", "/telegram/photo", `{"photo":"aGVsbG8gd29ybGQ="}`, nil, http.StatusUnsupportedMediaType},
		{"no picture", "/wechat/image", `{}`, nil, http.StatusUnsupportedMediaType},
		{"a picture too large", "/wechat/image", `{"photo":"` + strings.Repeat("A", 14<<20+4) + `"}`, nil, http.StatusRequestEntityTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := post(c.path, c.body, c.hdr); got != c.want {
				t.Fatalf("got %d, want %d", got, c.want)
			}
		})
	}

	// A flood is slowed down for everyone's sake: the simulators keep
	// everything in memory until the demo stops.
	limited := 0
	for range 200 {
		if post("/telegram/send", `{"text":" "}`, nil) == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("200 calls at once: none slowed down")
	}
}
