package inboxweb_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
)

// TestBrowserSetupPage opens the setup page in Chromium under the inbox's
// CSP: the copy button works (the script is allowed), and the page is
// captured for docs/inbox-setup.png.
func TestBrowserSetupPage(t *testing.T) {
	ctx := browserCtx(t)
	e := newEnv(t)
	const public = "https://hotline.example.edu.cn"
	srv, err := inboxweb.New(inboxweb.Config{Staff: e.st, Triage: e.tr, Intake: e.in, Broker: e.broker, Clock: e.clock, IdleTimeout: 30 * time.Minute,
		PublicURL: public, BotName: func() string { return "no3_hotline_bot" }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inbox/", srv)
	// The web chat serves the poster's QR code in production; here a
	// stand-in draws the same code so the page shows a real image.
	mux.HandleFunc("GET /poster/{code}/qr/chat.png", func(w http.ResponseWriter, r *http.Request) {
		b, err := qrcode.Encode(public+"/c/"+r.PathValue("code"), qrcode.Medium, 320)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { hs.CloseClientConnections(); srv.Close(); hs.Close() })

	sf := e.school("no3")
	e.counselor(sf, "li", hotline.RoleCounselor)
	step(t, ctx, "log in",
		chromedp.Navigate(hs.URL+"/inbox/login"),
		chromedp.SendKeys(`input[name=username]`, sf.AdminUser),
		chromedp.SendKeys(`input[name=password]`, sf.AdminPassword),
		chromedp.Click(`form[action="/inbox/login"] button[type=submit]`),
		chromedp.WaitVisible(`input[name=again]`),
		chromedp.SendKeys(`input[name=new]`, newPW),
		chromedp.SendKeys(`input[name=again]`, newPW),
		chromedp.Click(`form[action="/inbox/password"] button[type=submit]`),
		chromedp.WaitVisible(`#queue`),
		chromedp.Click(`a[href="/inbox/admin/setup"]`),
		chromedp.WaitVisible(`#snippet`),
	)
	if got := eval[string](t, ctx, `document.getElementById('snippet').textContent`); got != `<script src="`+public+`/webchat/widget.js" data-school="no3" async></script>` {
		t.Fatalf("snippet %q", got)
	}
	if !eval[bool](t, ctx, `document.querySelector('img.qr').naturalWidth > 0`) {
		t.Fatal("the QR code did not load")
	}
	screenshot(t, ctx, "inbox-setup.png")

	// The copy button runs (setup.js is allowed by the CSP): it copies, or
	// where the clipboard is refused it selects the snippet for Ctrl+C.
	step(t, ctx, "copy", chromedp.Click(`button[data-copy="snippet"]`))
	time.Sleep(200 * time.Millisecond)
	copied := eval[string](t, ctx, `document.querySelector('button[data-copy="snippet"]').textContent`) == "已复制"
	selected := eval[string](t, ctx, `window.getSelection().toString()`) == eval[string](t, ctx, `document.getElementById('snippet').textContent`)
	if !copied && !selected {
		t.Fatal("the copy button did nothing")
	}
}
