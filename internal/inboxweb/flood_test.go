package inboxweb_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/inboxweb"
	"hotline/internal/throttle"
)

// newProxiedEnv is an inbox behind a trusted reverse proxy on the
// loopback: each test browser names its own client address in
// X-Forwarded-For, so a flood can come from many networks.
func newProxiedEnv(t *testing.T) *env {
	t.Helper()
	return newEnvConfig(t, cheapArgon, &fakeClock{t: time.Now().UTC().Truncate(time.Microsecond)}, func(c *inboxweb.Config) {
		c.ClientIP = throttle.ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	})
}

// flooder is a stranger's browser at one address: it holds the log-in
// page's CSRF cookie and posts from any goroutine without failing the test.
type flooder struct {
	base, addr, csrf string
	c                *http.Client
}

func newFlooder(t *testing.T, base, addr string) *flooder {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	f := &flooder{base: base, addr: addr, c: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	req, _ := http.NewRequest("GET", base+"/inbox/login", nil)
	req.Header.Set("X-Forwarded-For", addr)
	res, err := f.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		t.Fatal("no CSRF token on the log-in page")
	}
	f.csrf = string(m[1])
	return f
}

// post sends the log-in form (csrf "" sends the right token) and returns
// the status, 0 on a transport error.
func (f *flooder) post(username, password, csrf string) int {
	if csrf == "" {
		csrf = f.csrf
	}
	form := url.Values{"username": {username}, "password": {password}, "csrf": {csrf}}
	req, _ := http.NewRequest("POST", f.base+"/inbox/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", f.addr)
	res, err := f.c.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// flood runs jobs on a few goroutines and counts the answers by status.
func flood(jobs []func() int) map[int]int {
	var mu sync.Mutex
	got := map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				st := jobs[i]()
				mu.Lock()
				got[st]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return got
}

// ipv4s returns n addresses, each in a /24 of its own.
func ipv4s(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.7", i/200, i%200)
	}
	return out
}

// ipv6s returns n addresses, each in a /64 of its own, all in one /48.
func ipv6s(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s:%x::1", prefix, i)
	}
	return out
}

// The attack, sustained: strangers at 130 IPv4 addresses (each
// in its own /24) and at 300 /64s of one IPv6 /48 send wrong passwords
// (at the owner's account, and at made-up names so that no account lock
// saves the ceiling) and forged posts, round after round, one second
// apart. Every round, the owner logs in from the browser they used before,
// at an address inside the flooding /48 (the same /64 as a flooder): every
// one of those log-ins succeeds. A new browser, elsewhere, may wait.
func TestKnownBrowserLogsInUnderAFlood(t *testing.T) {
	e := newProxiedEnv(t)
	sf := e.school("fl")
	owner := e.login(sf.AdminUser, sf.AdminPassword, newPW) // a complete log-in: this browser is known now
	owner.xff = "2001:db8:1:5::99"
	wangPW := e.counselor(sf, "fl-wang", "counselor")
	e.login("fl-wang", wangPW, newPW)

	var strangers []*flooder
	for _, a := range append(ipv4s(130), ipv6s("2001:db8:1", 300)...) {
		strangers = append(strangers, newFlooder(t, e.hs.URL, a))
	}
	var guesses atomic.Int64
	round := func(perStranger int) map[int]int {
		var jobs []func() int
		for _, f := range strangers {
			for k := range perStranger {
				switch k % 3 {
				case 0: // a made-up name: no account's lock stops it
					jobs = append(jobs, func() int { return f.post(fmt.Sprintf("fl-nobody-%d", guesses.Add(1)), "guess", "") })
				case 1: // the owner's account
					jobs = append(jobs, func() int { return f.post(sf.AdminUser, "password123", "") })
				default: // a forged post
					jobs = append(jobs, func() int { return f.post("fl-wang", "guess", "forged") })
				}
			}
		}
		return flood(jobs)
	}

	newBrowserRefused := 0
	for i := range 6 {
		per := 3
		if i == 0 {
			per = 6 // the first round empties the ceiling's burst
		}
		got := round(per)
		// The owner, on the known browser, in the flooding /48.
		owner.post("/inbox/logout", nil)
		if r := owner.loginAs(sf.AdminUser, newPW); r.Status != http.StatusOK || r.URL != "/inbox/" {
			t.Fatalf("round %d (flood answered %v): the owner's known browser got %d at %s", i, got, r.Status, r.URL)
		}
		// Someone with the right password on a new browser, on a network
		// the flood does not use, may wait: only the ceiling holds it back.
		fresh := e.browser()
		fresh.xff = fmt.Sprintf("192.0.2.%d", 10+i)
		switch r := fresh.loginAs("fl-wang", newPW); {
		case r.Status == http.StatusTooManyRequests:
			newBrowserRefused++
		case r.Status != http.StatusOK:
			t.Fatalf("round %d: a new browser got %d", i, r.Status)
		}
		t.Logf("round %d: flood answered %v; the owner got in", i, got)
		e.clock.Add(time.Second)
	}
	if newBrowserRefused == 0 {
		t.Fatal("a new browser was never refused: the flood did not reach the ceiling, so the test shows nothing")
	}
	t.Logf("a new browser elsewhere was refused in %d of 6 rounds", newBrowserRefused)
}

// Requests refused before any password work — a forged post, an
// oversized name, a name that is locked already — cost the ceiling
// nothing; and the /64s of one /48 together take only their network's
// share of it, leaving the rest to everyone else.
func TestCheapRefusalsAndOneNetworkLeaveTheCeiling(t *testing.T) {
	e := newProxiedEnv(t)
	sf := e.school("cr")
	wangPW := e.counselor(sf, "cr-wang", "counselor")
	e.login("cr-wang", wangPW, newPW)

	strangers := make([]*flooder, 0, 200)
	for _, a := range ipv4s(200) {
		strangers = append(strangers, newFlooder(t, e.hs.URL, a))
	}
	// Lock the admin's account for new browsers.
	for range 3 {
		if st := strangers[0].post(sf.AdminUser, "password123", ""); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", st)
		}
	}
	var jobs []func() int
	for _, f := range strangers {
		for range 5 {
			jobs = append(jobs,
				func() int { return f.post("cr-wang", "guess", "forged") },
				func() int { return f.post(strings.Repeat("x", 100), "guess", "") },
				func() int { return f.post(sf.AdminUser, "guess", "") },
			)
		}
	}
	got := flood(jobs)
	if got[http.StatusForbidden] != 1000 || got[http.StatusUnauthorized] != 1000 || got[http.StatusTooManyRequests] != 1000 {
		t.Fatalf("3000 cheap refusals answered %v, want 1000 each of 403, 401, 429", got)
	}
	// Only the three wrong passwords that locked the account were
	// evaluated: 397 new browsers, on addresses and networks of their own,
	// now have a wrong password evaluated each, and the next one is refused
	// (the ceiling's burst is 400).
	var wrong []func() int
	for i, a := range ipv4s(597)[200:] {
		f := newFlooder(t, e.hs.URL, a)
		wrong = append(wrong, func() int { return f.post(fmt.Sprintf("cr-nobody-%d", i), "guess", "") })
	}
	if got := flood(wrong); got[http.StatusUnauthorized] != 397 {
		t.Fatalf("397 wrong passwords after the cheap refusals answered %v, want all evaluated", got)
	}
	if st := newFlooder(t, e.hs.URL, "172.16.0.1").post("cr-nobody-x", "guess", ""); st != http.StatusTooManyRequests {
		t.Fatalf("the 401st wrong password: %d, want 429 (the ceiling is spent)", st)
	}
	e.clock.Add(time.Minute) // the ceiling refills

	// One /48: 300 of its /64s take the network's share (100) and no more.
	var one []func() int
	for i, a := range ipv6s("2001:db8:2", 300) {
		f := newFlooder(t, e.hs.URL, a)
		one = append(one, func() int { return f.post(fmt.Sprintf("cr-v6-%d", i), "guess", "") })
	}
	got = flood(one)
	if got[http.StatusUnauthorized] != 100 || got[http.StatusTooManyRequests] != 200 {
		t.Fatalf("300 /64s of one /48 answered %v, want 100 evaluated (its share) and 200 refused", got)
	}
	// A new /64 of that /48 waits too; another network does not.
	if st := newFlooder(t, e.hs.URL, "2001:db8:2:ffff::1").post("cr-v6-x", "guess", ""); st != http.StatusTooManyRequests {
		t.Fatalf("another /64 of the spent /48: %d, want 429", st)
	}
	other := e.browser()
	other.xff = "2001:db8:3::1"
	if r := other.loginAs("cr-wang", newPW); r.Status != http.StatusOK || r.URL != "/inbox/" {
		t.Fatalf("a new browser on another network: %d at %s", r.Status, r.URL)
	}
}
