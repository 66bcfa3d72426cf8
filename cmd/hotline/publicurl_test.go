package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// --public-url must be an absolute https URL of a host (http only for
// this machine): serve and demo refuse anything else with exit 2 and a
// message naming the flag, before opening anything.
func TestPublicURLChecked(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	for _, tc := range []struct{ url, says string }{
		{"hotline.example.edu.cn", "want an absolute URL"},
		{"//hotline.example.edu.cn", "want an absolute URL"},
		{"ftp://hotline.example.edu.cn", "want an absolute URL"},
		{"http://hotline.example.edu.cn", "needs https"},
		{"http://10.0.0.5:8080", "needs https"},
		{"https://hotline.example.edu.cn/hotline", "only the scheme and host"},
		{"https://hotline.example.edu.cn/?a=1", "only the scheme and host"},
	} {
		for _, cmd := range []string{"serve", "demo"} {
			code, _, errs := runCLI(t, cmd, "--data", dir, "--addr", "127.0.0.1:0", "--public-url", tc.url)
			if code != 2 || !strings.Contains(errs, "--public-url") || !strings.Contains(errs, tc.says) {
				t.Errorf("%s --public-url %q: exit %d %q, want 2 saying %q", cmd, tc.url, code, errs, tc.says)
			}
		}
	}
	for in, want := range map[string]string{
		"https://hotline.example.edu.cn/": "https://hotline.example.edu.cn",
		"https://hotline.example.edu.cn":  "https://hotline.example.edu.cn",
		"http://localhost:8080":           "http://localhost:8080",
		"http://127.0.0.1:8080/":          "http://127.0.0.1:8080",
		"http://[::1]:8080":               "http://[::1]:8080",
	} {
		if got, err := checkPublicURL(in); err != nil || got != want {
			t.Errorf("checkPublicURL(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

// A log-in over plain http to a server whose address is https cannot keep
// its Secure cookie: the page says so and links the https address (at
// once in a browser, on the post without script), instead of "this page
// has expired, reload" that no reload fixes.
func TestHTTPLoginToHTTPSServer(t *testing.T) {
	t.Parallel()
	const public = "https://hotline.example.edu.cn"
	m := MustRunMain(t, func(m *Main) { m.Config.PublicURL = public })
	ctx := context.Background()
	if _, err := m.Staff.CreateDistrict(ctx, "海淀区", "hd-officer"); err != nil {
		t.Fatal(err)
	}
	base := "http://" + m.Addr()
	u := newInboxUser(t, base)
	p := u.get("/inbox/login")
	if p.status != 200 || !strings.Contains(p.body, `id="insecure" hidden`) || !strings.Contains(p.body, `href="`+public+`/inbox/login"`) {
		t.Fatalf("log-in page: %d, want the (script-shown) notice linking %s/inbox/login", p.status, public)
	}
	// A browser keeps no Secure cookie from an http page of a public name,
	// so the pre-session token comes back without its cookie. (Go's jar,
	// like a browser, treats 127.0.0.1 as secure and would send it.)
	post := func(origin string) inboxPage {
		form := url.Values{"csrf": {u.csrf}, "username": {"hd-officer"}, "password": {"whatever-2026"}}
		req, _ := http.NewRequest("POST", base+"/inbox/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return inboxPage{status: resp.StatusCode, body: string(b)}
	}
	p = post(base)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "不加密的 http") || !strings.Contains(p.body, `href="`+public+`/inbox/login"`) ||
		strings.Contains(p.body, `id="insecure" hidden`) || strings.Contains(p.body, "页面已过期") {
		t.Errorf("log-in posted over http: %d, want the notice with the https address:\n%s", p.status, p.body)
	}
	// Posted from the https page (behind a TLS proxy) a missing token is
	// what it always was.
	if p = post(public); p.status != http.StatusForbidden || !strings.Contains(p.body, "页面已过期") {
		t.Errorf("a stale form from the https page: %d, want the usual expiry message", p.status)
	}

	needChromium(t)
	outer, cancelOuter := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelOuter()
	actx, cancelAlloc := chromedp.NewExecAllocator(outer, browserOptions(chromiumPath, filepath.Join(t.TempDir(), "chromium"))...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step(t, bctx, "open the log-in page over http", chromedp.Navigate(base+"/inbox/login"))
	waitPage(t, bctx, "the notice shown", `!document.getElementById('insecure').hidden && document.querySelector('#insecure a').href === '`+public+`/inbox/login'`)
}
