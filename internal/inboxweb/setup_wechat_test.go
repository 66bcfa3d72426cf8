package inboxweb_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
)

// TestSetupPageWechat: the admin of a school with its own WeChat account
// reads its server URL and token, to paste into 公众平台, with the
// explanation Chinese first; the district's account shows its URL but not
// its token; another school's account shows nothing; a counselor is
// refused the page and never sees a token.
func TestSetupPageWechat(t *testing.T) {
	e := newEnv(t)
	sf := e.school("s1")
	e.school("s2")
	accounts := []inboxweb.WechatAccount{
		{Name: "district", Token: "DISTRICT-TOKEN-CANARY", QR: true},
		{Name: "s1-own", School: "s1", Token: "S1-TOKEN-CANARY"},
		{Name: "s2-own", School: "s2", Token: "S2-TOKEN-CANARY", QR: true},
	}
	srv, err := inboxweb.New(inboxweb.Config{Staff: e.st, Triage: e.tr, Intake: e.in, Broker: e.broker, Clock: e.clock, IdleTimeout: 30 * time.Minute,
		PublicURL: "https://hotline.example.edu.cn/", WechatAccounts: func() []inboxweb.WechatAccount { return accounts }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inbox/", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })
	e2 := *e
	e2.srv, e2.hs = srv, hs
	e = &e2

	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	r := ua.get("/inbox/admin/setup")
	if r.Status != 200 {
		t.Fatalf("setup: %d %s", r.Status, excerpt(r.Body))
	}
	mustContain(t, "setup wechat", r,
		`id="wechat"`, "微信公众号",
		"https://hotline.example.edu.cn/wechat/s1-own", "S1-TOKEN-CANARY", `data-copy="wechat-token-0"`,
		"服务器配置", "安全模式", "令牌是服务器和微信之间共用的密钥",
		"https://hotline.example.edu.cn/wechat/district", "由区教育局在公众平台配置",
		"海报上还没有这个公众号的二维码", "海报上印有这个公众号的二维码")
	for _, leak := range []string{"DISTRICT-TOKEN-CANARY", "S2-TOKEN-CANARY", "/wechat/s2-own"} {
		if strings.Contains(r.Body, leak) {
			t.Errorf("the page shows %q to s1's admin", leak)
		}
	}
	// The school's own account comes first.
	if own, district := strings.Index(r.Body, "/wechat/s1-own"), strings.Index(r.Body, "/wechat/district"); own > district {
		t.Error("the district's account is listed before the school's own")
	}
	// Chinese first: the English explanation is not on the Chinese page.
	if strings.Contains(r.Body, "safe mode") {
		t.Error("English words on the Chinese page")
	}
	mustContain(t, "setup wechat en", ua.get("/inbox/admin/setup?lang=en"), "WeChat official account", "Server URL", "S1-TOKEN-CANARY", "a secret shared by the server and WeChat")

	// A counselor of the same school is refused the page, and sees no
	// token anywhere it can go.
	pw := e.counselor(sf, "wang", hotline.RoleCounselor)
	uc := e.login("wang", pw, newPW)
	if r := uc.get("/inbox/admin/setup"); r.Status != http.StatusForbidden || strings.Contains(r.Body, "TOKEN-CANARY") {
		t.Fatalf("counselor: setup answered %d (token shown: %v)", r.Status, strings.Contains(r.Body, "TOKEN-CANARY"))
	}
	for _, p := range []string{"/inbox/", "/inbox/account", "/inbox/alerts"} {
		if r := uc.get(p); strings.Contains(r.Body, "TOKEN-CANARY") {
			t.Fatalf("counselor sees a token on %s", p)
		}
	}
}

// TestSetupPageNoWechat: without an account for the school, the page says
// how to configure one.
func TestSetupPageNoWechat(t *testing.T) {
	e := withPublic(t, newEnv(t), "https://hotline.example.edu.cn", "")
	sf := e.school("s1")
	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	mustContain(t, "setup", ua.get("/inbox/admin/setup"), `id="no-wechat"`, "--wechat-appid")
}
