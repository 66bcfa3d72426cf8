package inboxweb_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/district"
	"hotline/internal/evidence"
	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/photo"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// fakeClock is a settable clock shared by the store and the inbox.
type fakeClock = testsupport.Clock

type env struct {
	t      testing.TB
	db     *store.DB
	st     *staff.Service
	tr     *triage.Service
	in     *intake.Service
	broker *live.Broker
	srv    *inboxweb.Server
	hs     *httptest.Server
	clock  *fakeClock
	// sched sends test and ladder alerts to sink, with links to hs.
	sched *scheduler.Scheduler
	sink  *alertSink
}

// cheapArgon keeps tests fast; the pool bound is the same code path.
var cheapArgon = vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvWith(tb, cheapArgon, testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond)))
}

func newEnvWith(tb testing.TB, opt vault.Options, clock *fakeClock) *env {
	tb.Helper()
	return newEnvConfig(tb, opt, clock, nil)
}

// newEnvConfig is newEnvWith with a last say over the inbox's Config.
func newEnvConfig(tb testing.TB, opt vault.Options, clock *fakeClock, configure func(*inboxweb.Config)) *env {
	tb.Helper()
	db := testsupport.OpenStore(tb)
	db.Clock = clock
	key := bytes.Repeat([]byte{7}, 32)
	v, err := vault.New(key, opt)
	if err != nil {
		tb.Fatal(err)
	}
	broker := live.NewBroker()
	e := &env{t: tb, db: db, broker: broker, clock: clock}
	e.st = staff.New(db, v, nil)
	e.tr = triage.New(db, v, broker, nil)
	e.in = intake.New(db, v, broker, nil)
	// Every channel but e-mail (no SMTP server), each into the sink.
	e.sink = &alertSink{}
	set, kinds := alert.Set{}, map[alert.Kind]bool{}
	for _, k := range append(append([]alert.Kind{alert.Telegram}, staff.PersonalKinds...), staff.GroupKinds...) {
		set[k], kinds[k] = sinkChannel{k, e.sink}, true
	}
	e.st.AlertKinds = kinds
	e.sched = &scheduler.Scheduler{DB: db, Vault: v, Staff: e.st, Channels: set, Notifier: broker}
	cfg := inboxweb.Config{Staff: e.st, Triage: e.tr, Intake: e.in, Broker: broker, Clock: clock, IdleTimeout: 30 * time.Minute, District: district.New(db), Alerts: e.sched,
		Evidence: evidence.New(db, e.tr, nil)}
	if configure != nil {
		configure(&cfg)
	}
	e.srv, err = inboxweb.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/inbox/", e.srv)
	e.hs = httptest.NewServer(mux)
	e.sched.BaseURL = e.hs.URL
	tb.Cleanup(func() {
		e.hs.CloseClientConnections()
		e.srv.Close()
		e.hs.Close()
	})
	return e
}

// alertSink records the alerts the fake channels took.
type alertSink struct {
	mu   sync.Mutex
	sent []sunk
	fail map[string]error // address → error
}

type sunk struct {
	To alert.Target
	M  alert.Message
}

type sinkChannel struct {
	k alert.Kind
	s *alertSink
}

func (c sinkChannel) Kind() alert.Kind { return c.k }

func (c sinkChannel) Send(_ context.Context, to alert.Target, m alert.Message) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if err := c.s.fail[to.Address]; err != nil {
		return err
	}
	c.s.sent = append(c.s.sent, sunk{to, m})
	return nil
}

// last returns the last alert an address got.
func (s *alertSink) last(tb testing.TB, addr string) sunk {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0; i-- {
		if s.sent[i].To.Address == addr {
			return s.sent[i]
		}
	}
	tb.Fatalf("no alert to %s", addr)
	return sunk{}
}

type schoolFix struct {
	School        *hotline.School
	AdminUser     string
	AdminPassword string // the one-time password
}

func (e *env) school(code string) *schoolFix {
	e.t.Helper()
	cs, err := e.st.CreateSchool(context.Background(), staff.NewSchool{Code: code, Name: "第" + code + "中学", District: "海淀区"})
	if err != nil {
		e.t.Fatal(err)
	}
	return &schoolFix{School: cs.School, AdminUser: cs.Admin.Username, AdminPassword: cs.AdminPassword}
}

// counselor adds a counselor to a school through the admin's key.
func (e *env) counselor(sf *schoolFix, username string, role hotline.Role) string {
	e.t.Helper()
	ctx := context.Background()
	admin, err := e.st.Authenticate(ctx, sf.AdminUser, sf.AdminPassword)
	if err != nil {
		admin, err = e.st.Authenticate(ctx, sf.AdminUser, newPW) // after the forced change
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer admin.Wipe()
	_, pw, err := e.st.AddCounselor(ctx, admin, username, "老师"+username, role)
	if err != nil {
		e.t.Fatal(err)
	}
	return pw
}

func (e *env) tip(code string, texts ...string) *hotline.Submitted {
	e.t.Helper()
	out, err := e.in.Submit(context.Background(), hotline.Submission{SchoolCode: code, Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim, Category: hotline.CategoryVerbal, Texts: texts})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func pngBytes(tb testing.TB) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 0, 0, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) photoTip(code string) (*hotline.Submitted, string) {
	e.t.Helper()
	ctx := context.Background()
	p, err := photo.Clean(pngBytes(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := e.in.Submit(ctx, hotline.Submission{SchoolCode: code, Channel: hotline.ChannelWebchat, Texts: []string{"看这张照片"}, Photos: []hotline.Photo{*p}})
	if err != nil {
		e.t.Fatal(err)
	}
	tip, err := e.db.TipByUID(ctx, out.TipUID)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.db.Messages(ctx, tip.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.PhotoSealed != nil {
			return out, m.UID
		}
	}
	e.t.Fatal("no photo message")
	return nil, ""
}

// user is a browser: a cookie jar and the last CSRF token it saw.
type user struct {
	e    *env
	c    *http.Client
	csrf string
	ua   string // the User-Agent header sent, "" for Go's default
	xff  string // the X-Forwarded-For header sent, "" for none
}

func (e *env) browser() *user {
	jar, _ := cookiejar.New(nil)
	return &user{e: e, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type resp struct {
	Status int
	Body   string
	URL    string
	Header http.Header
}

func (u *user) do(req *http.Request) resp {
	u.e.t.Helper()
	if u.ua != "" {
		req.Header.Set("User-Agent", u.ua)
	}
	if u.xff != "" {
		req.Header.Set("X-Forwarded-For", u.xff)
	}
	res, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindStringSubmatch(string(b)); m != nil {
		u.csrf = m[1]
	}
	return resp{Status: res.StatusCode, Body: string(b), URL: res.Request.URL.Path, Header: res.Header}
}

func (u *user) get(path string) resp {
	u.e.t.Helper()
	req, _ := http.NewRequest("GET", u.e.hs.URL+path, nil)
	return u.do(req)
}

// post sends a form with the user's CSRF token unless form sets "csrf".
func (u *user) post(path string, form url.Values) resp {
	u.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", u.csrf)
	}
	req, _ := http.NewRequest("POST", u.e.hs.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

// login logs in; with a one-time password it also sets newPassword.
func (e *env) login(username, password, newPassword string) *user {
	e.t.Helper()
	u := e.browser()
	u.get("/inbox/login")
	r := u.post("/inbox/login", url.Values{"username": {username}, "password": {password}})
	if r.URL == "/inbox/password" {
		r = u.post("/inbox/password", url.Values{"new": {newPassword}, "again": {newPassword}})
	}
	if r.Status != 200 || r.URL == "/inbox/login" || r.URL == "/inbox/password" {
		e.t.Fatalf("login %s: status %d at %s: %s", username, r.Status, r.URL, excerpt(r.Body))
	}
	return u
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 600 {
		s = s[:600]
	}
	return s
}

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

func struct2school(code string) staff.NewSchool {
	return staff.NewSchool{Code: code, Name: "第" + code + "中学", District: "海淀区"}
}
