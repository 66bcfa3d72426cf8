package web_test

import (
	"bytes"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/web"
)

func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	web.SetHeaders(h, "default-src 'none'")
	for k, want := range map[string]string{
		"Content-Security-Policy":    "default-src 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Cache-Control":              "no-store",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
	// The staff pages' policy runs no inline script and allows no framing.
	for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(web.CSP, want) {
			t.Errorf("CSP %q lacks %q", web.CSP, want)
		}
	}
	if strings.Contains(web.CSP, "unsafe") {
		t.Errorf("CSP %q allows something unsafe", web.CSP)
	}
}

// page is what a test page template gets.
type page struct {
	Lang  hotline.Lang
	Title string
	CSRF  string
	Boom  func() (string, error)
}

func (p *page) T(key string) string { return "T(" + key + ")" }

var goodFS = fstest.MapFS{
	"templates/layout.html": {Data: []byte(`{{define "layout"}}{{template "head" .}}
<title>{{.Title}}</title>
</head>
<body>{{template "logout" .}}
{{template "content" .}}</body>
</html>{{end}}`)},
	"templates/one.html":  {Data: []byte(`{{define "content"}}<p>{{.Title}} {{shout "a"}} {{with dict "k" 1}}{{.k}}{{end}}</p>{{block "rows" .}}<li>{{.Title}}</li>{{end}}{{end}}`)},
	"templates/boom.html": {Data: []byte(`{{define "content"}}<p>before</p>{{call .Boom}}{{end}}`)},
}

func parse(t *testing.T, fsys fstest.MapFS, names ...string) (*web.Pages, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	p, err := web.PageSet{Name: "test", FS: fsys, Common: []string{"templates/layout.html"}, Pages: names,
		Funcs:  template.FuncMap{"shout": strings.ToUpper},
		Logger: slog.New(slog.NewTextHandler(&log, nil))}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return p, &log
}

func TestRender(t *testing.T) {
	pages, log := parse(t, goodFS, "one", "boom")
	w := httptest.NewRecorder()
	pages.Render(w, http.StatusTeapot, "one", &page{Lang: hotline.LangEN, Title: "<x>", CSRF: "tok"})
	want := `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>&lt;x&gt;</title>
</head>
<body><form method="post" action="/inbox/logout" class="inline">
    <input type="hidden" name="csrf" value="tok">
    <button type="submit" class="link">T(logout)</button>
  </form>
<p>&lt;x&gt; A 1</p><li>&lt;x&gt;</li></body>
</html>`
	if got := w.Body.String(); got != want {
		t.Errorf("page:\n%s\nwant:\n%s", got, want)
	}
	if w.Code != http.StatusTeapot || w.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	// zh-CN is the first language.
	w = httptest.NewRecorder()
	pages.Render(w, http.StatusOK, "one", &page{Lang: hotline.LangZH})
	if !strings.Contains(w.Body.String(), `<html lang="zh-CN">`) {
		t.Errorf("zh page: %s", w.Body.String()[:60])
	}

	// A block alone.
	w = httptest.NewRecorder()
	pages.Fragment(w, "one", "rows", &page{Title: "r"})
	if got := w.Body.String(); w.Code != 200 || got != "<li>r</li>" {
		t.Errorf("fragment %d %q", w.Code, got)
	}

	// A failing page is a clean 500: no half page, and the error logged.
	w = httptest.NewRecorder()
	pages.Render(w, http.StatusOK, "boom", &page{Boom: func() (string, error) { return "", errors.New("no luck") }})
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "before") {
		t.Errorf("failed page: %d %q", w.Code, w.Body.String())
	}
	if !strings.Contains(log.String(), "no luck") || !strings.Contains(log.String(), "page=boom") {
		t.Errorf("log: %s", log.String())
	}
}

// A broken template fails the start, not a request.
func TestParseFailsOnBrokenTemplates(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"syntax", fstest.MapFS{"templates/layout.html": goodFS["templates/layout.html"], "templates/one.html": {Data: []byte(`{{define "content"}}{{if}}{{end}}`)}}},
		{"unknown func", fstest.MapFS{"templates/layout.html": goodFS["templates/layout.html"], "templates/one.html": {Data: []byte(`{{define "content"}}{{nosuch .}}{{end}}`)}}},
		{"missing page", fstest.MapFS{"templates/layout.html": goodFS["templates/layout.html"]}},
		{"broken layout", fstest.MapFS{"templates/layout.html": {Data: []byte(`{{define "layout"}}`)}, "templates/one.html": goodFS["templates/one.html"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := web.PageSet{Name: "test", FS: tc.fsys, Common: []string{"templates/layout.html"}, Pages: []string{"one"}}.Parse()
			if err == nil {
				t.Fatal("parsed")
			}
		})
	}
}

// fakeAuth stands in for the inbox's log-in: a session when the header
// X-As names one, the token "good" on state-changing requests.
type fakeAuth struct{ sess *staff.Session }

func (a fakeAuth) RequireSession(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-As") == "" {
			http.Redirect(w, r, web.LoginPage, http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a fakeAuth) RequireCSRF(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.Header.Get("X-CSRF-Token") != "good" {
			http.Error(w, "csrf", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (a fakeAuth) SessionFromRequest(r *http.Request) (*staff.Session, bool) {
	if r.Header.Get("X-As") == "gone" {
		return nil, false
	}
	return a.sess, true
}

func (a fakeAuth) CSRFToken(*http.Request) string { return "good" }

func TestGuard(t *testing.T) {
	sess := &staff.Session{Counselor: &hotline.Counselor{Username: "li", Role: hotline.RoleDistrict}}
	h := web.Guard(fakeAuth{sess}, func(w http.ResponseWriter, r *http.Request, s *staff.Session) {
		io.WriteString(w, "hello "+s.Counselor.Username)
	})
	for _, tc := range []struct {
		name, method, as, token string
		status                  int
		body, location          string
	}{
		{"no log-in", "GET", "", "", 303, "", web.LoginPage},
		{"session ended meanwhile", "GET", "gone", "", 303, "", web.LoginPage},
		{"logged in", "GET", "li", "", 200, "hello li", ""},
		{"post without token", "POST", "li", "", 403, "", ""},
		{"post with a wrong token", "POST", "li", "bad", 403, "", ""},
		{"post with the token", "POST", "li", "good", 200, "hello li", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/district/", nil)
			if tc.as != "" {
				r.Header.Set("X-As", tc.as)
			}
			if tc.token != "" {
				r.Header.Set("X-CSRF-Token", tc.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || (tc.body != "" && w.Body.String() != tc.body) || w.Header().Get("Location") != tc.location {
				t.Errorf("got %d %q at %q, want %d %q at %q", w.Code, w.Body.String(), w.Header().Get("Location"), tc.status, tc.body, tc.location)
			}
			if tc.body == "" && strings.Contains(w.Body.String(), "hello") {
				t.Error("the page ran")
			}
		})
	}
}

func TestLang(t *testing.T) {
	for _, tc := range []struct {
		name, url, cookie string
		want              hotline.Lang
		remembered        string // the cookie ChooseLang sets, "" for none
	}{
		{"default", "/inbox/", "", hotline.LangZH, ""},
		{"query", "/inbox/?lang=en", "", hotline.LangEN, "en"},
		{"query over cookie", "/district/?lang=zh", "en", hotline.LangZH, "zh"},
		{"cookie", "/district/schools/a", "en", hotline.LangEN, ""},
		{"browser codes", "/inbox/?lang=en-GB", "", hotline.LangEN, "en"},
		{"anything else is zh", "/inbox/?lang=fr", "", hotline.LangZH, "zh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.url, nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: web.LangCookie, Value: tc.cookie})
			}
			if got := web.Lang(r); got != tc.want {
				t.Errorf("Lang: got %s, want %s", got, tc.want)
			}
			w := httptest.NewRecorder()
			if got := web.ChooseLang(w, r); got != tc.want {
				t.Errorf("ChooseLang: got %s, want %s", got, tc.want)
			}
			var set string
			for _, c := range w.Result().Cookies() {
				if c.Name == web.LangCookie {
					set = c.Value
					if !c.HttpOnly || c.Path != "/" {
						t.Errorf("cookie %+v", c)
					}
				}
			}
			if set != tc.remembered {
				t.Errorf("remembered %q, want %q", set, tc.remembered)
			}
		})
	}
}

func TestSwitchURL(t *testing.T) {
	for _, tc := range []struct {
		method, url string
		lang        hotline.Lang
		want        string
	}{
		{"GET", "/inbox/", hotline.LangZH, "/inbox/?lang=en"},
		{"GET", "/inbox/?status=new&lang=zh", hotline.LangZH, "/inbox/?lang=en&status=new"},
		{"GET", "/district/schools/a?lang=en", hotline.LangEN, "/district/schools/a?lang=zh"},
		{"POST", "/inbox/tips/abc/reply", hotline.LangZH, "/home/?lang=en"},
		{"POST", "/district/settings", hotline.LangEN, "/home/?lang=zh"},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if got := web.SwitchURL(r, tc.lang, "/home/"); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.method, tc.url, got, tc.want)
		}
	}
}

func TestWritePhoto(t *testing.T) {
	w := httptest.NewRecorder()
	if err := web.WritePhoto(w, &hotline.Photo{Type: "image/png", Data: []byte("png!")}); err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != "png!" || w.Header().Get("Content-Type") != "image/png" || w.Header().Get("Cache-Control") != "no-store, private" || w.Header().Get("Content-Length") != "4" {
		t.Errorf("photo: %q %v", w.Body.String(), w.Header())
	}
	// Anything but what photo cleaning makes is "not found", unsent.
	for _, typ := range []string{"image/svg+xml", "text/html", ""} {
		w := httptest.NewRecorder()
		if err := web.WritePhoto(w, &hotline.Photo{Type: typ, Data: []byte("<svg onload=x>")}); hotline.ErrorCode(err) != hotline.ENOTFOUND || w.Body.Len() != 0 || w.Header().Get("Content-Type") != "" {
			t.Errorf("%q: err %v, wrote %q", typ, err, w.Body.String())
		}
	}
}

func TestStatic(t *testing.T) {
	h, err := web.Static("/x/static/", fstest.MapFS{"static/a.css": {Data: []byte("a{}")}}, "static")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x/static/a.css", nil))
	if w.Code != 200 || w.Body.String() != "a{}" || w.Header().Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("a.css: %d %q %v", w.Code, w.Body.String(), w.Header())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x/static/b.css", nil))
	if w.Code != 404 {
		t.Errorf("b.css: %d", w.Code)
	}
}
