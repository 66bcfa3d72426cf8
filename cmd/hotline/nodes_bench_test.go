package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/pgtest"
)

// BenchmarkIntakeNodes measures report intake end to end — a reporter's
// mailbox form posted over HTTP, sealed, filed with its ledger event and
// committed before the "received" page answers — on one SQLite node, one
// PostgreSQL node and three PostgreSQL nodes sharing one database, in one
// run. Reporters post round the nodes, 32 at a time. It reports reports/s
// and the p99 of the acknowledgement (the answer's arrival).
//
//	go test ./cmd/hotline -run '^$' -bench IntakeNodes -benchtime 400x
func BenchmarkIntakeNodes(b *testing.B) {
	for _, tc := range []struct {
		name  string
		pg    bool
		nodes int
	}{{"sqlite-1node", false, 1}, {"postgres-1node", true, 1}, {"postgres-3nodes", true, 3}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			dsn := filepath.Join(dir, "hotline.db")
			if tc.pg {
				dsn = pgtest.NewDatabase(b)
			}
			opts := func(m *Main) {
				m.Config.Database = dsn
				l := &m.WebchatLimits
				l.ClientPostRate, l.ClientPostBurst = 1e6, 1e6
				l.ClientReadRate, l.ClientReadBurst = 1e6, 1e6
				l.MailboxRate, l.MailboxBurst = 1e6, 1e6
			}
			{
				m := MustOpenMain(b, withDataDir(dir), opts)
				if err := seedDemo(context.Background(), m, io.Discard); err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
			var urls []string
			for range tc.nodes {
				m := MustRunMain(b, withDataDir(dir), opts)
				urls = append(urls, m.URL())
			}
			const workers = 32
			client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
			// Each worker fetches its form tokens first: what is timed is
			// the report's post and its answer.
			tokens := make(chan [2]string, b.N)
			for i := range b.N {
				base := urls[i%len(urls)]
				resp, err := client.Get(base + "/m/" + demoSchool)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := tokenRE.FindSubmatch(body)
				if m == nil {
					b.Fatalf("no form token (%d)", resp.StatusCode)
				}
				tokens <- [2]string{base, string(m[1])}
			}
			close(tokens)
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for tk := range tokens {
						var buf bytes.Buffer
						mw := multipart.NewWriter(&buf)
						for k, v := range map[string]string{"token": tk[1], "lang": "zh", "role": "witness", "category": "verbal", "text": "他们每天在走廊里骂我的同桌，已经好几个星期了。"} {
							mw.WriteField(k, v)
						}
						mw.Close()
						t0 := time.Now()
						resp, err := client.Post(tk[0]+"/m/"+demoSchool, mw.FormDataContentType(), &buf)
						if err != nil {
							failed.Add(1)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						d := time.Since(t0)
						if resp.StatusCode != http.StatusOK {
							failed.Add(1)
							continue
						}
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d reports failed", n)
			}
			slices.Sort(lat)
			p99 := lat[min(len(lat)-1, len(lat)*99/100)]
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "reports/s")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ack-ms")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ack-ms")
			b.Logf("%s: %d reports in %s", tc.name, len(lat), elapsed.Round(time.Millisecond))
		})
	}
}
