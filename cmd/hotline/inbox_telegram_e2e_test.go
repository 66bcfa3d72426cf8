package main

import (
	"bytes"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/sim/telegramsim"
)

// inboxUser is a counselor's browser over plain HTTP: a cookie jar and
// the last CSRF token a page carried.
type inboxUser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

var inboxCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newInboxUser(t testing.TB, base string) *inboxUser {
	jar, _ := cookiejar.New(nil)
	return &inboxUser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: time.Minute}}
}

type inboxPage struct {
	status int
	path   string
	body   string
}

func (u *inboxUser) do(req *http.Request) inboxPage {
	u.t.Helper()
	res, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := inboxCSRF.FindSubmatch(b); m != nil {
		u.csrf = html.UnescapeString(string(m[1]))
	}
	return inboxPage{status: res.StatusCode, path: res.Request.URL.Path, body: string(b)}
}

func (u *inboxUser) get(path string) inboxPage {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	return u.do(req)
}

// post sends a url-encoded form with the CSRF field, as the browser does.
func (u *inboxUser) post(path string, form url.Values) inboxPage {
	u.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", u.csrf)
	req, _ := http.NewRequest("POST", u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// postMultipart sends a multipart form (the reply form has a photo field).
func (u *inboxUser) postMultipart(path string, fields map[string]string) inboxPage {
	u.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", u.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", u.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return u.do(req)
}

// login follows the log-in form: the page sets the pre-session CSRF
// cookie and field, the post sends both back.
func (u *inboxUser) login(username, password string) {
	u.t.Helper()
	if p := u.get("/inbox/login"); p.status != 200 || u.csrf == "" {
		u.t.Fatalf("log-in page: %d, token %q", p.status, u.csrf)
	}
	p := u.post("/inbox/login", url.Values{"username": {username}, "password": {password}})
	if p.status != 200 || p.path != "/inbox/" {
		u.t.Fatalf("log-in: %d at %s", p.status, p.path)
	}
}

// TestInboxTelegramReplyE2E: a student reports through the bot (fake Bot
// API); a counselor logs in to the inbox over HTTP, answers on the case
// page's form, the answer arrives in the student's Telegram chat, and the
// case page then shows it delivered.
func TestInboxTelegramReplyE2E(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := ctxTimeout(t, 60*time.Second)
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-hans", FirstName: "小明"})
	if _, err := s.report([]string{"体育课后有人把我的书包扔进了垃圾桶，还一直骂我。"}, nil); err != nil {
		t.Fatal(err)
	}
	tip := e.chatTip(s.u.ChatID())

	u := newInboxUser(t, e.m.URL())
	u.login(demoUser, demoPassword)
	if q := u.get("/inbox/"); !strings.Contains(q.body, "/inbox/tips/"+tip.UID) {
		t.Fatal("the Telegram report is not in the queue")
	}
	casePath := "/inbox/tips/" + tip.UID
	page := u.get(casePath)
	if page.status != 200 || !strings.Contains(page.body, "体育课后有人把我的书包") {
		t.Fatalf("case page: %d", page.status)
	}
	if !strings.Contains(page.body, `action="`+casePath+`/reply"`) {
		t.Fatal("no reply form")
	}

	// Without the token the reply is refused and nothing is sent.
	bad := *u
	bad.csrf = "forged"
	if p := bad.postMultipart(casePath+"/reply", map[string]string{"text": "伪造"}); p.status != http.StatusForbidden {
		t.Fatalf("reply without the token: %d", p.status)
	}

	reply := "谢谢你告诉我们。明天第二节课后来心理咨询室，王老师等你。"
	if p := u.postMultipart(casePath+"/reply", map[string]string{"text": reply}); p.status != 200 || p.path != casePath {
		t.Fatalf("reply: %d at %s", p.status, p.path)
	}
	if _, err := s.wait("the counselor's reply", containsText(reply)); err != nil {
		t.Fatal(err)
	}
	for _, m := range s.u.Messages() {
		if strings.Contains(m.PlainText, "伪造") {
			t.Fatal("the forged reply reached the student")
		}
	}

	// The case page shows it delivered (the relay confirms after sending).
	deadline := time.Now().Add(15 * time.Second)
	for {
		page = u.get(casePath)
		i := strings.Index(page.body, reply)
		if i >= 0 && strings.Contains(page.body, `data-delivery="delivered"`) && strings.Contains(page.body, "已送达") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the case page does not show the reply delivered: %s", excerptAround(page.body, "msg-counselor"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestInboxTelegramLinkE2E: a counselor gets a link code on "my alerts",
// sends /link CODE to the bot, and the page then shows Telegram linked.
func TestInboxTelegramLinkE2E(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := ctxTimeout(t, 60*time.Second)
	u := newInboxUser(t, e.m.URL())
	u.login(demoUser, demoPassword)
	if p := u.get("/inbox/alerts"); !strings.Contains(p.body, "未绑定") {
		t.Fatal("linked before linking")
	}
	p := u.post("/inbox/alerts/link", nil)
	m := regexp.MustCompile(`id="link-code"[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4})<`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no link code: %d", p.status)
	}
	staff := e.student(ctx, telegramsim.UserOptions{FirstName: "王", LanguageCode: "zh-hans"})
	staff.u.SendCommand("/link " + m[1])
	if _, err := staff.wait("linked", containsText("已绑定")); err != nil {
		t.Fatal(err)
	}
	if p := u.get("/inbox/alerts"); !strings.Contains(p.body, `class="tag linked"`) || !strings.Contains(p.body, "/inbox/alerts/unlink") {
		t.Fatal("the page does not show Telegram linked")
	}
	if p := u.post("/inbox/alerts/unlink", nil); !strings.Contains(p.body, "未绑定") {
		t.Fatal("unlink did not show")
	}
}

func excerptAround(s, sub string) string {
	i := strings.Index(s, sub)
	if i < 0 {
		i = 0
	}
	return s[i:min(len(s), i+800)]
}
