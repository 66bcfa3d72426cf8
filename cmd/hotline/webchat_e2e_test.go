package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// webchatEnv is the real program with one school whose site (another
// origin) may frame the chat.
type webchatEnv struct {
	m       *Main
	dir     string
	school  *hotline.School
	actor   hotline.Actor
	hostURL string
	// adminUser and adminOTP log the school's admin in to the inbox.
	adminUser, adminOTP string
}

func newWebchatEnv(t *testing.T) *webchatEnv {
	t.Helper()
	m := MustRunMain(t)
	dir := m.Config.DataDir
	// The school's own site, on another origin, with the one tag.
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>第三中学</title></head>
<body><h1>第三中学</h1><p>欢迎访问第三中学网站。校园开放日：每周六上午。</p>
<script src="%s/webchat/widget.js" data-school="no3" async></script></body></html>`, m.URL())
	}))
	t.Cleanup(host.Close)
	created, err := m.Staff.CreateSchool(context.Background(), staff.NewSchool{Code: "no3", Name: "第三中学", NameEN: "No. 3 Middle School",
		Settings: &hotline.SchoolSettings{NameEN: "No. 3 Middle School", EmergencyContact: "学校保卫处 010-1234567", AllowedOrigins: []string{host.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	return &webchatEnv{m: m, dir: dir, school: created.School, hostURL: host.URL, adminUser: created.Admin.Username, adminOTP: created.AdminPassword,
		actor: hotline.Actor{CounselorID: created.Admin.ID, SchoolID: created.School.ID, Role: hotline.RoleAdmin}}
}

// frame is a gorilla client speaking the chat page's protocol.
type wsPage struct {
	t       *testing.T
	ws      *websocket.Conn
	lastSeq int64
	seen    map[int64]bool
}

type wsFrame struct {
	Type  string `json:"type"`
	Seq   int64  `json:"seq"`
	ID    string `json:"id"`
	Dup   bool   `json:"dup"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	Tip   string `json:"tip"`
	Reply *struct {
		Kind    string `json:"kind"`
		Text    string `json:"text"`
		Receipt string `json:"receipt"`
		Buttons [][]struct {
			Label string `json:"label"`
			Data  string `json:"data"`
		} `json:"buttons"`
	} `json:"reply"`
	Msg *struct {
		UID    string `json:"uid"`
		Author string `json:"author"`
		Text   string `json:"text"`
	} `json:"msg"`
}

func (e *webchatEnv) page(t *testing.T, session string, lastSeq int64) *wsPage {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.m.URL(), "http")+"/webchat/ws", http.Header{"Origin": {e.m.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	p := &wsPage{t: t, ws: ws, lastSeq: lastSeq, seen: map[int64]bool{}}
	p.send(map[string]any{"type": "hello", "session": session, "school": "no3", "lang": "zh", "last_seq": lastSeq})
	if f := p.next(); f.Type != "welcome" {
		t.Fatalf("got %+v, want welcome", f)
	}
	return p
}

func (p *wsPage) send(v map[string]any) {
	p.t.Helper()
	v["v"] = 1
	if err := p.ws.WriteJSON(v); err != nil {
		p.t.Fatal(err)
	}
}

// next returns the next frame the page would show (dropping repeats by seq).
func (p *wsPage) next() wsFrame {
	p.t.Helper()
	for {
		p.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f wsFrame
		if err := p.ws.ReadJSON(&f); err != nil {
			p.t.Fatalf("read: %v", err)
		}
		if f.Seq != 0 {
			if f.Seq <= p.lastSeq {
				continue
			}
			p.lastSeq = f.Seq
		}
		return f
	}
}

// do sends a message and returns the frames up to its ack.
func (p *wsPage) do(id string, v map[string]any) []wsFrame {
	p.t.Helper()
	v["id"] = id
	p.send(v)
	var out []wsFrame
	for {
		f := p.next()
		out = append(out, f)
		if (f.Type == "ack" || f.Type == "error") && f.ID == id {
			return out
		}
	}
}

// button finds the data of a button whose data starts with prefix.
func button(t *testing.T, fs []wsFrame, prefix string) string {
	t.Helper()
	for _, f := range fs {
		if f.Reply != nil {
			for _, row := range f.Reply.Buttons {
				for _, b := range row {
					if strings.HasPrefix(b.Data, prefix) {
						return b.Data
					}
				}
			}
		}
	}
	t.Fatalf("no button %q in %+v", prefix, fs)
	return ""
}

func randToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// A whole report over the websocket, with the real conversation engine;
// then a dropped connection, a resent follow-up that lands exactly once,
// and a counselor's reply arriving live.
func TestWebchatWholeReportOverWebsocket(t *testing.T) {
	t.Parallel()
	e := newWebchatEnv(t)
	ctx := context.Background()
	session := randToken()
	p := e.page(t, session, 0)
	texts := []string{canaryText("他们在厕所堵我-"), canaryText("还抢了我的饭卡-")}

	fs := p.do("c1", map[string]any{"type": "command", "command": "new"})
	fs = p.do("c2", map[string]any{"type": "choice", "data": button(t, fs, "role:victim")})
	fs = p.do("c3", map[string]any{"type": "choice", "data": button(t, fs, "cat:physical")})
	for i, tx := range texts {
		fs = p.do(fmt.Sprintf("t%d", i), map[string]any{"type": "text", "text": tx})
	}
	fs = p.do("c4", map[string]any{"type": "choice", "data": button(t, fs, "done")})
	fs = p.do("c5", map[string]any{"type": "choice", "data": button(t, fs, "danger:no")})
	fs = p.do("c6", map[string]any{"type": "choice", "data": button(t, fs, "send")})
	var receipt string
	for _, f := range fs {
		if f.Reply != nil && f.Reply.Kind == "receipt" {
			receipt = f.Reply.Receipt
		}
	}
	if receipt == "" {
		t.Fatalf("no receipt in %+v", fs)
	}

	// The connection drops right after a follow-up is sent; the page
	// reconnects and sends it again with the same id.
	follow := canaryText("今天他们又来了-")
	p.send(map[string]any{"type": "text", "id": "f1", "text": follow, "receipt": receipt})
	p.ws.UnderlyingConn().Close()
	p2 := e.page(t, session, p.lastSeq)
	fs = p2.do("f1", map[string]any{"type": "text", "text": follow, "receipt": receipt})
	if last := fs[len(fs)-1]; last.Type != "ack" {
		t.Fatalf("resent follow-up answered %+v, want ack (applied once, dup or not)", last)
	}
	tip, msgs, err := e.m.Intake.ThreadByReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range msgs {
		count[m.Body]++
	}
	for _, tx := range append(texts, follow) {
		if count[tx] != 1 {
			t.Errorf("thread has %q %d times, want once", tx, count[tx])
		}
	}
	// A counselor replies: the page is told and fetches it.
	p2.do("s1", map[string]any{"type": "sync", "receipt": receipt})
	reply := canaryText("老师收到了，今天放学来找我-")
	if _, err := e.m.Triage.Reply(ctx, e.actor, tip.UID, reply, nil); err != nil {
		t.Fatal(err)
	}
	if f := p2.next(); f.Type != "notice" {
		t.Fatalf("got %+v, want notice", f)
	}
	fs = p2.do("s2", map[string]any{"type": "sync", "receipt": receipt, "after": msgs[len(msgs)-1].UID})
	if len(fs) != 2 || fs[0].Msg == nil || fs[0].Msg.Author != "counselor" || fs[0].Msg.Text != reply {
		t.Fatalf("sync after reply: %+v", fs)
	}
	p2.ws.Close()
	e.m.Close()
	scanDataDir(t, e.dir, [][]byte{[]byte(receipt), []byte(strings.ReplaceAll(receipt, "-", "")), []byte(texts[0]), []byte(texts[1]), []byte(follow), []byte(reply)})
}

const chromiumPath = "/usr/bin/chromium"

// needChromium skips without Chromium, except under CI where it must exist.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no %s (set CI=true to make this a failure)", chromiumPath)
		}
		t.Fatalf("CI needs %s: %v", chromiumPath, err)
	}
}

// saveScreenshot keeps a screenshot for the README when
// HOTLINE_SCREENSHOTS=1, so ordinary runs leave the tree alone.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	if os.Getenv("HOTLINE_SCREENSHOTS") == "" {
		return
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
	}
}

// chatFrame drives the chat inside the widget's iframe: through its own
// target when Chromium runs it out of process, else from the iframe node.
type chatFrame struct {
	t    *testing.T
	ctx  context.Context
	node *chromedp.Node
}

func (e *webchatEnv) openWidget(t *testing.T, ctx context.Context) *chatFrame {
	t.Helper()
	step(t, ctx, "open the widget",
		chromedp.Navigate(e.hostURL),
		chromedp.WaitVisible(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.Click(chromedp.CSS(`button[data-hotline=open]`)),
		chromedp.WaitVisible(chromedp.CSS(`div[data-hotline=panel] iframe`)),
	)
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(sctx, chromedp.Nodes(chromedp.CSS(`iframe`)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("iframe: %v", err)
	}
	f := &chatFrame{t: t, ctx: ctx, node: nodes[0]}
	f.poll(`document.body && document.body.dataset.school === "no3" && document.querySelector('#log .msg') !== null`)
	return f
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// poll waits until expr is truthy inside the chat and returns its value.
// A frame that is still loading has no execution context yet: retry.
func (f *chatFrame) poll(expr string) string {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		sctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
		opts := []chromedp.PollOption{chromedp.WithPollingTimeout(4 * time.Second), chromedp.WithPollingInterval(50 * time.Millisecond)}
		if f.node != nil {
			opts = append(opts, chromedp.WithPollingInFrame(f.node))
		}
		v, err := chromedp.Run(sctx, chromedp.Poll[any](expr, opts...))
		cancel()
		if err == nil {
			return fmt.Sprint(v)
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("poll %s: %v", expr, err)
		}
		time.Sleep(100 * time.Millisecond)
		if f.node != nil {
			if nodes, err := chromedp.Run(f.ctx, chromedp.Nodes(chromedp.CSS(`iframe`))); err == nil && len(nodes) > 0 {
				f.node = nodes[0]
			}
		}
	}
}

func (f *chatFrame) query() []chromedp.QueryOption {
	if f.node != nil {
		return []chromedp.QueryOption{chromedp.FromNode(f.node)}
	}
	return nil
}

func (f *chatFrame) typeText(text string) {
	f.t.Helper()
	step(f.t, f.ctx, "type", chromedp.SendKeys(chromedp.CSS(`#msg`), text, f.query()...), chromedp.Click(chromedp.CSS(`#send`), f.query()...))
}

// tap clicks the choice button whose label contains label.
func (f *chatFrame) tap(label string) {
	f.t.Helper()
	f.poll(fmt.Sprintf(`(() => { const b = [...document.querySelectorAll('#choices button')].find(b => b.textContent.includes(%q)); if (!b) return false; b.click(); return true })()`, label))
}

// waitPage waits until expr holds in the tab, across the navigation that
// is expected to make it hold.
func waitPage(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWebchatInBrowser(t *testing.T) {
	// Not parallel: a browser on two shared cores needs them, and the
	// parallel tests wait until the serial ones are done.
	needChromium(t)
	e := newWebchatEnv(t)
	outer, cancelOuter := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// Start the browser on ctx itself: one started under a step's shorter
	// context would die with it. A phone-sized screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(412, 860)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	texts := []string{canaryText("三班的几个人每天下课堵我-"), canaryText("昨天在操场后面打了我-")}

	// 1. The student opens the widget on the school's site and reports in Chinese.
	f := e.openWidget(t, ctx)
	isolation, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const f = document.querySelector('iframe'); let r = 'doc=' + (f.contentDocument === null);
		try { r += ' text=' + f.contentWindow.document.body.innerText } catch (e) { r += ' blocked' } return r })()`))
	if err != nil || isolation != "doc=true blocked" {
		t.Fatalf("host page reads the chat: %q %v", isolation, err)
	}
	f.tap("我看到有人被欺负")
	f.tap("身体欺凌")
	for _, tx := range texts {
		f.typeText(tx)
	}
	f.tap("写完了")
	f.tap("没有")
	f.tap("发送")
	receipt := f.poll(`(() => { const c = document.querySelector('#receipt-code'); return c ? c.textContent : false })()`)
	if len(receipt) != 23 {
		t.Fatalf("receipt %q", receipt)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		saveScreenshot(t, "webchat-widget.png", png)
	}

	// 2. Later: the page is reloaded, the receipt entered, and a reply
	// sent through triage appears live.
	f = e.openWidget(t, ctx)
	f.poll(`(() => { document.querySelector('#havecode').click(); return !document.querySelector('#codeform').hidden })()`)
	step(t, ctx, "enter the receipt", chromedp.SendKeys(chromedp.CSS(`#code`), strings.ToLower(receipt), f.query()...), chromedp.SendKeys(chromedp.CSS(`#code`), kb.Enter, f.query()...))
	f.poll(fmt.Sprintf(`[...document.querySelectorAll('.msg.you .text')].some(p => p.textContent === %q)`, texts[1]))
	tip, _, err := e.m.Intake.ThreadByReceipt(context.Background(), receipt)
	if err != nil {
		t.Fatal(err)
	}
	reply := canaryText("老师看到了。你很勇敢，明天午休来心理室找我好吗？-")
	if _, err := e.m.Triage.Reply(context.Background(), e.actor, tip.UID, reply, nil); err != nil {
		t.Fatal(err)
	}
	f.poll(fmt.Sprintf(`[...document.querySelectorAll('.msg.them .text')].some(p => p.textContent === %q)`, reply))

	// 3. Quick exit (Esc twice inside the chat) replaces the school's page
	// with a neutral one and clears the chat.
	step(t, ctx, "quick exit", chromedp.SendKeys(chromedp.CSS(`#msg`), kb.Escape+kb.Escape, f.query()...))
	// Wait for the neutral page to be drawn, not only navigated to: its
	// body can still be empty right after the location changes.
	waitPage(t, ctx, "quick exit", `location.pathname === '/webchat/away' && document.readyState === 'complete' && document.body !== null && document.body.innerText.length > 0`)
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil || strings.Contains(body, reply) || strings.Contains(body, texts[0]) || !strings.Contains(body, "天气") {
		t.Fatalf("after quick exit the page shows %q (%v)", body, err)
	}

	// 4. The standalone chat page on a phone, resumed with the receipt.
	step(t, ctx, "chat page",
		chromedp.Navigate(e.m.URL()+"/c/no3"),
		chromedp.WaitVisible(chromedp.CSS(`#havecode`)),
		chromedp.Click(chromedp.CSS(`#havecode`)),
		chromedp.SendKeys(chromedp.CSS(`#code`), receipt+kb.Enter),
	)
	page := &chatFrame{t: t, ctx: ctx}
	page.poll(fmt.Sprintf(`[...document.querySelectorAll('.msg.them .text')].some(p => p.textContent === %q)`, reply))
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		saveScreenshot(t, "webchat-chat.png", png)
	}
	// Quick exit from the page clears sessionStorage and the screen.
	step(t, ctx, "page quick exit", chromedp.Click(chromedp.CSS(`#exit`)))
	waitPage(t, ctx, "page quick exit", `location.pathname === '/webchat/away' && sessionStorage.length === 0`)

	// 5. The no-JS mailbox, with JavaScript disabled.
	mtext := canaryText("我是家长，孩子不敢上学-")
	step(t, ctx, "mailbox without JavaScript",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}),
		chromedp.Navigate(e.m.URL()+"/m/no3"),
		chromedp.WaitVisible(chromedp.CSS(`textarea#text`)),
		chromedp.Click(chromedp.CSS(`input[value=parent]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea#text`), mtext),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)),
	)
	mreceipt, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#receipt-code`)))
	if err != nil || len(mreceipt) != 23 {
		t.Fatalf("mailbox receipt %q %v", mreceipt, err)
	}
	if _, msgs, err := e.m.Intake.ThreadByReceipt(context.Background(), mreceipt); err != nil || len(msgs) != 1 || msgs[0].Body != mtext {
		t.Fatalf("mailbox tip: %v", err)
	}
	cancel()
	e.m.Close()
	var canaries [][]byte
	for _, s := range append(texts, reply, mtext, receipt, mreceipt, strings.ReplaceAll(receipt, "-", "")) {
		canaries = append(canaries, []byte(s))
	}
	scanDataDir(t, e.dir, canaries)
}
