package inboxweb_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// generateTips fills the database with schools and tips by SQL alone, in
// big transactions: schools 2..nSchools join the real school 1, and tips
// spread evenly over all of them.
func generateTips(b *testing.B, e *env, nSchools, nTips int) {
	b.Helper()
	w := e.db.Writer()
	now := time.Now().UnixMicro()
	stmts := []string{
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO schools (id, code, name, district, settings, public_key, recovery_wrapped, created_at)
			SELECT i, 's' || i, '学校' || i, '海淀区', '{}', x'00', x'00', %d FROM n`, nSchools, now),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO tips (uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category, urgent, steps,
				created_at, updated_at, last_reporter_at, ack_due, reply_due, queue_due)
			SELECT printf('%%032x', i), (i %% %d) + 1, '狐' || i, 'Fox ' || i,
				CASE i %% 4 WHEN 0 THEN 'telegram' WHEN 1 THEN 'webchat' WHEN 2 THEN 'mailbox' ELSE 'staff' END, 'victim',
				CASE i %% 5 WHEN 0 THEN 'new' WHEN 1 THEN 'acknowledged' WHEN 2 THEN 'investigating' WHEN 3 THEN 'resolved' ELSE 'closed' END,
				'unassessed', CASE i %% 3 WHEN 0 THEN 'verbal' WHEN 1 THEN 'physical' ELSE 'cyber' END, i %% 50 = 0, '',
				%d - i * 1000, %d - i * 1000, %d - i * 1000, %d + (i %% 997) * 60000000, %d + (i %% 991) * 60000000,
				CASE WHEN i %% 5 >= 3 THEN 9223372036854775807 ELSE %d + (i %% 997) * 60000000 END
			FROM n`, nTips, nSchools, now, now, now, now, now, now),
	}
	for _, s := range stmts {
		start := time.Now()
		if _, err := w.Exec(s); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated in %v", time.Since(start).Round(time.Millisecond))
	}
	if _, err := w.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkQueuePage measures the server time of the queue page (store
// queue, counts, unread markers, render) for a counselor of one of 1,000
// schools holding 1,000,000 tips between them, across filters and pages.
func BenchmarkQueuePage(b *testing.B) {
	e := newEnvWith(b, cheapArgon, testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond)))
	sf := e.school("s1")
	generateTips(b, e, 1000, 1_000_000)
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	cookies := u.c.Jar.Cookies(mustURL(b, e.hs.URL+"/inbox/"))
	// Follow a few pages by cursor, as a counselor paging through would.
	paths := []string{"/inbox/", "/inbox/?status=all", "/inbox/?status=new", "/inbox/?overdue=1", "/inbox/?category=physical&channel=telegram", "/inbox/queue"}
	next := "/inbox/?status=all"
	for range 5 {
		r := u.get(next)
		m := nextRE.FindStringSubmatch(r.Body)
		if m == nil {
			break
		}
		next = htmlUnescape(m[1])
		paths = append(paths, next)
	}
	var times []time.Duration
	perPath := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		req := httptest.NewRequest("GET", paths[i%len(paths)], nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.srv.ServeHTTP(rec, req)
		d := time.Since(start)
		times = append(times, d)
		perPath[paths[i%len(paths)]] = append(perPath[paths[i%len(paths)]], d)
		if rec.Code != 200 {
			b.Fatalf("%s: %d", req.URL, rec.Code)
		}
	}
	b.StopTimer()
	for p, ts := range perPath {
		slices.Sort(ts)
		b.Logf("%-50s p50 %v max %v", p, ts[len(ts)/2], ts[len(ts)-1])
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
}

// BenchmarkConcurrentLogins sends 200 log-ins at once through the inbox
// (20 on CI's small seed) with the production argon2id parameters (64 MiB
// each) and reports the peak memory: the vault's pool must keep
// derivations within its bound.
func BenchmarkConcurrentLogins(b *testing.B) {
	accounts, perAccount := testsupport.BenchSize(40, 4), 5
	e := newEnvWith(b, vault.Options{}, testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond)))
	ctx := context.Background()
	sf := e.school("s1")
	admin, err := e.st.Authenticate(ctx, sf.AdminUser, sf.AdminPassword)
	if err != nil {
		b.Fatal(err)
	}
	type cred struct{ user, pw string }
	creds := make([]cred, accounts)
	var wg sync.WaitGroup
	for i := range creds {
		wg.Go(func() {
			name := fmt.Sprintf("t%03d", i)
			_, pw, err := e.st.AddCounselor(ctx, admin, name, name, hotline.RoleCounselor)
			if err != nil {
				b.Error(err)
			}
			creds[i] = cred{name, pw}
		})
	}
	wg.Wait()
	admin.Wipe()
	var peak, baseHeap uint64
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var hi uint64
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					sampled <- hi
					return
				case <-t.C:
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					hi = max(hi, m.HeapInuse)
				}
			}
		}()
		start := make(chan struct{})
		var ok sync.WaitGroup
		for i := range accounts * perAccount {
			c := creds[i%accounts]
			u := e.browser()
			// Each from its own address: one address gets only a few
			// log-ins in flight at once (inbox.LoginLimits).
			u.c.Transport = loopbackTransport("127.0.1." + strconv.Itoa(1+i%250))
			u.get("/inbox/login")
			ok.Go(func() {
				<-start
				form := url.Values{"username": {c.user}, "password": {c.pw}, "csrf": {u.csrf}}
				res, err := noRedirect(u).PostForm(e.hs.URL+"/inbox/login", form)
				if err != nil {
					b.Error(err)
					return
				}
				res.Body.Close()
				if res.StatusCode != http.StatusSeeOther {
					b.Errorf("log-in %s: %d", c.user, res.StatusCode)
				}
			})
		}
		t0 := time.Now()
		close(start)
		ok.Wait()
		b.ReportMetric(time.Since(t0).Seconds(), fmt.Sprintf("s-for-%d", accounts*perAccount))
		close(stop)
		peak = max(peak, <-sampled)
		baseHeap = base.HeapInuse
	}
	st := e.tr.Vault.KDFStats()
	if st.MaxInFlight > st.Concurrency {
		b.Fatalf("argon2id pool: %d in flight, bound %d", st.MaxInFlight, st.Concurrency)
	}
	b.ReportMetric(float64(st.MaxInFlight), "max-in-flight")
	b.ReportMetric(float64(st.Concurrency), "pool-bound")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(baseHeap)/(1<<20), "base-heap-MiB")
}

var nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func mustURL(tb testing.TB, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func noRedirect(u *user) *http.Client {
	return &http.Client{Jar: u.c.Jar, Transport: u.c.Transport, Timeout: 5 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
