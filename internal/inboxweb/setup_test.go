package inboxweb_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
)

// withPublic is e with a second inbox that knows its public URL and bot.
func withPublic(t *testing.T, e *env, publicURL, bot string) *env {
	t.Helper()
	srv, err := inboxweb.New(inboxweb.Config{Staff: e.st, Triage: e.tr, Intake: e.in, Broker: e.broker, Clock: e.clock, IdleTimeout: 30 * time.Minute,
		PublicURL: publicURL, BotName: func() string { return bot }, Alerts: e.sched})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inbox/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		srv.Close()
		hs.Close()
	})
	e2 := *e
	e2.srv, e2.hs = srv, hs
	e.sched.BaseURL = hs.URL
	return &e2
}

// checkState reads the checklist: each item's key and whether it is done.
func checkState(t *testing.T, body string) map[string]string {
	t.Helper()
	re := regexp.MustCompile(`data-check="([a-z_]+)" data-done="(true|false)"`)
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2]
	}
	if len(out) != 5 {
		t.Fatalf("checklist has %d items: %v", len(out), out)
	}
	return out
}

func TestSetupPage(t *testing.T) {
	e := withPublic(t, newEnv(t), "https://hotline.example.edu.cn", "school_hotline_bot")
	sf := e.school("s1")
	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)

	// Admins find it in the navigation.
	mustContain(t, "nav", ua.get("/inbox/"), `href="/inbox/admin/setup"`, "开通设置")

	r := ua.get("/inbox/admin/setup")
	if r.Status != 200 {
		t.Fatalf("setup: %d %s", r.Status, excerpt(r.Body))
	}
	mustContain(t, "setup", r,
		`&lt;script src=&#34;https://hotline.example.edu.cn/webchat/widget.js&#34; data-school=&#34;s1&#34; async&gt;&lt;/script&gt;`,
		`data-copy="snippet"`, `<script src="/inbox/static/setup.js" defer></script>`,
		`href="/c/s1"`, // the preview
		"https://hotline.example.edu.cn/c/s1", "https://hotline.example.edu.cn/m/s1",
		"https://t.me/school_hotline_bot?start=s1", "https://hotline.example.edu.cn/poster/s1", `src="/poster/s1/qr/chat.png"`,
		"恢复密钥", "已完成 0 / 4 项")
	if strings.Contains(r.Body, `id="setup-local"`) {
		t.Fatal("localhost warning with a public URL")
	}
	if strings.Contains(r.Body, "<script>") {
		t.Fatal("an inline script: the CSP blocks it")
	}
	want := map[string]string{"chk_counselors": "false", "chk_recovery": "false", "chk_oncall": "false", "chk_report_sent": "false", "chk_report_answered": "false"}
	if got := checkState(t, r.Body); !equalMaps(got, want) {
		t.Fatalf("checklist %v, want %v", got, want)
	}
	// English second.
	mustContain(t, "setup en", ua.get("/inbox/admin/setup?lang=en"), "Checklist", "Recovery key stored safely", "0 of 4 done")
	// The copy script is served under the inbox's CSP.
	if r := ua.get("/inbox/static/setup.js"); r.Status != 200 || !strings.Contains(r.Body, "clipboard") {
		t.Fatalf("setup.js: %d", r.Status)
	}

	// A counselor is added, put on the rota with a linked channel; a
	// test report comes in and is answered: the checklist follows.
	pw := e.counselor(sf, "li", hotline.RoleCounselor)
	want["chk_counselors"] = "true"
	if got := checkState(t, ua.get("/inbox/admin/setup").Body); !equalMaps(got, want) {
		t.Fatalf("after counselor: %v, want %v", got, want)
	}
	ul := e.login("li", pw, newPW)
	code := linkCodeRE.FindStringSubmatch(ul.post("/inbox/alerts/link", nil).Body)
	if code == nil {
		t.Fatal("no link code")
	}
	if err := e.st.LinkTelegram(context.Background(), code[1], 880001); err != nil {
		t.Fatal(err)
	}
	li := counselorID(t, e, "li")
	if r := ua.post("/inbox/admin/counselors/"+strconvI(li)+"/oncall", url.Values{"on": {"1"}}); r.Status != 200 {
		t.Fatalf("oncall: %d", r.Status)
	}
	// On call with a channel is not enough: its test must be confirmed.
	if got := checkState(t, ua.get("/inbox/admin/setup").Body); !equalMaps(got, want) {
		t.Fatalf("on call, Telegram never tested: %v, want %v", got, want)
	}
	tg := targetIDs(ul.get("/inbox/alerts").Body)["telegram"]
	mustContain(t, "tested", ul.post("/inbox/alerts/targets/"+tg+"/test", nil), "测试提醒已发出")
	b := e.browser()
	b.get(ackPath(t, e, e.sink.last(t, "880001").M))
	b.post(ackPath(t, e, e.sink.last(t, "880001").M), nil)
	want["chk_oncall"] = "true"
	if got := checkState(t, ua.get("/inbox/admin/setup").Body); !equalMaps(got, want) {
		t.Fatalf("after on-call: %v, want %v", got, want)
	}
	tip := e.tip("s1", "测试举报")
	want["chk_report_sent"] = "true"
	if got := checkState(t, ua.get("/inbox/admin/setup").Body); !equalMaps(got, want) {
		t.Fatalf("after report: %v, want %v", got, want)
	}
	ua.get("/inbox/tips/" + tip.TipUID)
	if r := ua.post("/inbox/tips/"+tip.TipUID+"/reply", url.Values{"text": {"收到，测试成功。"}}); r.Status != 200 {
		t.Fatalf("reply: %d %s", r.Status, excerpt(r.Body))
	}
	want["chk_report_answered"] = "true"
	r = ua.get("/inbox/admin/setup?lang=zh") // the choice of English above sticks
	if got := checkState(t, r.Body); !equalMaps(got, want) {
		t.Fatalf("after reply: %v, want %v", got, want)
	}
	mustContain(t, "all done", r, "已完成 4 / 4 项")

	// A counselor is refused, like on the other admin pages.
	if r := ul.get("/inbox/admin/setup"); r.Status != http.StatusForbidden {
		t.Fatalf("counselor: %d", r.Status)
	}
	if strings.Contains(ul.get("/inbox/").Body, `href="/inbox/admin/setup"`) {
		t.Fatal("counselor sees the setup link")
	}
}

// Without --public-url the page says its links point at this machine.
func TestSetupPageWarnsLocalhost(t *testing.T) {
	for _, base := range []string{"", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::]:8080"} {
		e := withPublic(t, newEnv(t), base, "")
		sf := e.school("s1")
		ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
		r := ua.get("/inbox/admin/setup")
		mustContain(t, base, r, `id="setup-local"`, "--public-url", `id="no-bot"`)
		if strings.Contains(r.Body, "t.me/") {
			t.Fatalf("%s: a bot link without a bot", base)
		}
	}
}

func counselorID(t *testing.T, e *env, username string) int64 {
	t.Helper()
	c, err := e.db.CounselorByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
