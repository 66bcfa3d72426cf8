package inboxweb_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects log output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// from is a browser whose connections leave from the loopback address ip,
// so that the server sees it as its own client.
type from struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

// loopbackTransport connects from the loopback address ip.
func loopbackTransport(ip string) *http.Transport {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Transport{DialContext: d.DialContext}
}

func browserFrom(t *testing.T, base, ip string) *from {
	jar, _ := cookiejar.New(nil)
	tr := loopbackTransport(ip)
	t.Cleanup(tr.CloseIdleConnections)
	return &from{t: t, base: base, c: &http.Client{Jar: jar, Transport: tr, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	body   string
	retry  string
	err    error
}

func (f *from) open(path string) error {
	res, err := f.c.Get(f.base + path)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(b); m != nil {
		f.csrf = string(m[1])
	}
	return nil
}

// login posts the log-in form; safe from any goroutine once open was
// called.
func (f *from) login(user, pw, lang string) answer {
	path := "/inbox/login"
	if lang != "" {
		path += "?lang=" + lang
	}
	res, err := f.c.PostForm(f.base+path, url.Values{"username": {user}, "password": {pw}, "csrf": {f.csrf}})
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: string(b), retry: res.Header.Get("Retry-After")}
}

// TestLoginGuessingLimitedPerClient: a client guessing passwords gets
// DefaultLoginLimits' burst of tries (40 sent at once included), then 429
// with Retry-After and a message in its language; a counselor at another
// address logs in as often as they like meanwhile; log-ins that succeed
// cost nothing; no address reaches the logs.
func TestLoginGuessingLimitedPerClient(t *testing.T) {
	var logs lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	e := newEnv(t)
	sf := e.school("lg")

	// The guesser tries other accounts than the counselor's, a new name
	// each time, so that the per-account lock (internal/triage) stays out
	// of this test.
	n := 0
	target := func() string { n++; return "lg-guess-" + strconv.Itoa(n) }
	guesser := browserFrom(t, e.hs.URL, "127.0.0.2")
	if err := guesser.open("/inbox/login"); err != nil {
		t.Skipf("cannot bind 127.0.0.2: %v", err)
	}
	var wg sync.WaitGroup
	answers := make([]answer, 40)
	for i := range answers {
		name := target()
		wg.Go(func() { answers[i] = guesser.login(name, "guess", "") })
	}
	wg.Wait()
	evaluated, refused := 0, 0
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Fatal(a.err)
		case a.status == http.StatusUnauthorized:
			evaluated++
		case a.status == http.StatusTooManyRequests:
			refused++
			if n, err := strconv.Atoi(a.retry); err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q", a.retry)
			}
			if !strings.Contains(a.body, "登录失败的次数太多") {
				t.Fatalf("429 without the Chinese message")
			}
		default:
			t.Fatalf("guess answered %d", a.status)
		}
	}
	t.Logf("40 parallel wrong passwords: %d evaluated, %d refused", evaluated, refused)
	if evaluated > 10 || refused < 30 {
		t.Fatalf("40 parallel wrong passwords: %d evaluated, %d refused; want at most the burst of 10 evaluated", evaluated, refused)
	}
	if a := guesser.login(target(), "guess", "en"); a.status != http.StatusTooManyRequests || !strings.Contains(a.body, "Too many failed log-ins") {
		t.Fatalf("English refusal: %d", a.status)
	}

	// Another address logs in, again and again: success costs nothing.
	for i := range 25 {
		staff := browserFrom(t, e.hs.URL, "127.0.0.3")
		if err := staff.open("/inbox/login"); err != nil {
			t.Fatal(err)
		}
		if a := staff.login(sf.AdminUser, sf.AdminPassword, ""); a.status != http.StatusSeeOther {
			t.Fatalf("counselor's log-in %d beside the guesser: %d %v", i, a.status, a.err)
		}
	}
	// The guesser's tries come back at the configured pace.
	e.clock.Add(31 * time.Second)
	if a := guesser.login(target(), "guess", ""); a.status != http.StatusUnauthorized {
		t.Fatalf("after 31 s the guesser's next try: %d, want it evaluated", a.status)
	}
	if a := guesser.login(target(), "guess", ""); a.status != http.StatusTooManyRequests {
		t.Fatalf("and the one after: %d, want 429", a.status)
	}
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		if strings.Contains(logs.String(), ip) {
			t.Fatalf("the logs hold %s", ip)
		}
	}
}
