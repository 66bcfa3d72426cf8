package intake_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/testsupport"
)

// BenchmarkDurableIntake measures a durable tip submission (validate, detect
// urgency, seal with hybrid post-quantum HPKE, commit at synchronous=FULL)
// against a bare insert of the same number of bytes with the same pragmas
// (on PostgreSQL: on the same server; see openBare),
// one row per transaction, side by side in one run (taking turns, a block
// each: interleaveBlock), with 1 and 16
// concurrent submitters. It reports µs per tip for both and their ratio
// (intake/bare; below 1 means intake is faster per tip), tips per commit,
// WAL frames (page writes) per tip, and the process's CPU per tip (and, on
// PostgreSQL with the server on this machine, HOTLINE_BENCH_PGDATA naming
// its data directory, the server's), which a shared machine's load moves
// much less than wall time.
//
// A submission is the one the dialog makes: with its submission id (the
// exactly-once row), the page secret of a web page, and the conversation
// saved in the same commit.
func BenchmarkDurableIntake(b *testing.B) {
	for _, ch := range []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat} {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("channel=%s/submitters=%d", ch, n), func(b *testing.B) {
				e := newEnv(b)
				submit := dialogSubmitter(e, ch)
				sub := func(i int) error {
					_, err := e.intake.Submit(context.Background(), submit(i))
					return err
				}
				// The bytes a tip writes: its sealed message, sealed chat id or
				// reporter key, and the metadata of tip, message, ledger rows.
				var sealedBytes int
				if err := e.db.Reader().Get(&sealedBytes, `SELECT 0`); err != nil {
					b.Fatal(err)
				}
				if err := sub(0); err != nil {
					b.Fatal(err)
				}
				if err := e.db.Reader().Get(&sealedBytes, `SELECT COALESCE(SUM(length(body_sealed)) + SUM(COALESCE(length(reporter_sealed), 0)), 0) + 400 FROM messages`); err != nil {
					b.Fatal(err)
				}
				warm(b, e, sub)
				bare := openBare(b)
				payload := make([]byte, sealedBytes)
				rand.Read(payload)

				insertBare := func(int) error {
					tx, err := bare.Beginx()
					if err != nil {
						return err
					}
					if _, err := tx.Exec(bare.Rebind(`INSERT INTO bare (data) VALUES (?)`), payload); err != nil {
						tx.Rollback()
						return err
					}
					return tx.Commit()
				}

				// The bare insert and intake take turns, a block each, so that
				// whatever the machine does meanwhile (another process, the
				// disk's own pauses) falls on both sides of the ratio alike,
				// not on whichever side happened to run then.
				b.ResetTimer()
				before := e.db.Stats()
				var bareDur, intakeDur, bareCPU, intakeCPU, server time.Duration
				serverKnown := true
				for done := 0; done < b.N; {
					k := min(interleaveBlock(n), b.N-done)
					cpu0 := processCPU()
					bareDur += parallel(b, n, k, insertBare)
					cpu1, server0 := processCPU(), serverCPU()
					intakeDur += parallel(b, n, k, func(i int) error { return sub(done + i + 1) })
					cpu2, server1 := processCPU(), serverCPU()
					bareCPU += cpu1 - cpu0
					intakeCPU += cpu2 - cpu1
					server += server1 - server0
					serverKnown = serverKnown && server0 >= 0 && server1 >= 0
					done += k
				}
				after := e.db.Stats()
				b.StopTimer()

				bareUS := float64(bareDur.Microseconds()) / float64(b.N)
				intakeUS := float64(intakeDur.Microseconds()) / float64(b.N)
				b.ReportMetric(bareUS, "bare-µs/tip")
				b.ReportMetric(intakeUS, "intake-µs/tip")
				b.ReportMetric(intakeUS/bareUS, "intake/bare")
				b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(max(1, after.Commits-before.Commits)), "tips/commit")
				b.ReportMetric(float64(sealedBytes), "bytes/tip")
				b.ReportMetric(float64(after.WALFrames-before.WALFrames)/float64(b.N), "wal-frames/tip")
				// The process's CPU per tip (a PostgreSQL server's is its
				// own): with n submitters on GOMAXPROCS cores, intake can be
				// no faster per tip than this over the cores.
				b.ReportMetric(float64(bareCPU.Microseconds())/float64(b.N), "bare-cpu-µs/tip")
				b.ReportMetric(float64(intakeCPU.Microseconds())/float64(b.N), "intake-cpu-µs/tip")
				if serverKnown {
					b.ReportMetric(float64(server.Microseconds())/float64(b.N), "server-cpu-µs/tip")
				}
			})
		}
	}
}

// warm brings the database to a running school's state before the
// timing: the school has filed tips before (benchSeedTips) and, on
// PostgreSQL, the tables have statistics, as autovacuum gathers them
// within a minute of a school's first fifty tips. Without them the
// planner plans for empty tables, and keeps those plans while the tables
// grow. SQLite gets none: the store never runs ANALYZE, so its planner's
// own rules are what a school gets.
func warm(b *testing.B, e *env, sub func(i int) error) {
	b.Helper()
	for i := 1; i <= testsupport.BenchSize(benchSeedTips, 10); i++ {
		if err := sub(-i); err != nil {
			b.Fatal(err)
		}
	}
	if pgtest.OnPostgres() {
		if _, err := e.db.Writer().Exec(`ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSeedTips is how many tips the school has before the timing.
const benchSeedTips = 1000

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the user and system time of the PostgreSQL server's
// processes (the postmaster's children), or -1 when unknown.
func serverCPU() time.Duration {
	dir := os.Getenv("HOTLINE_BENCH_PGDATA")
	if dir == "" {
		return -1
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return -1
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// After the command's closing parenthesis: state, ppid, …;
		// utime and stime are the 14th and 15th fields.
		i := strings.LastIndexByte(string(st), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(st)[i+1:])
		if len(f) < 13 || f[1] != master {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// openBare opens a second database on the engine of the run and a plain
// table: the baseline of one insert per transaction. On SQLite it has the
// store's pragmas; on PostgreSQL it is a database of its own on the same
// server, written through pgx as the store writes (BEGIN, INSERT, COMMIT).
func openBare(b *testing.B) *sqlx.DB {
	b.Helper()
	if pgtest.OnPostgres() {
		db, err := sqlx.Open("pgx", pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		if _, err := db.Exec(`CREATE TABLE bare (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, data BYTEA NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		return db
	}
	path := filepath.Join(b.TempDir(), "bare.db")
	db, err := sqlx.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_foreign_keys=on&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(16)
	if _, err := db.Exec(`CREATE TABLE bare (id INTEGER PRIMARY KEY, data BLOB NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

// interleaveBlock is how many bare inserts, then tips, one turn of
// BenchmarkDurableIntake times: long enough that sixteen submitters
// spend most of it all busy, short enough that a run of 1,000 takes
// several turns.
func interleaveBlock(submitters int) int { return max(100, 20*submitters) }

// parallel runs total calls of fn from n goroutines and returns the wall time.
func parallel(b *testing.B, n, total int, fn func(i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				if err := fn(i); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return d
}

// dialogSubmitter returns the i-th submission of channel ch as the dialog
// makes it: a bullying report with its submission id (the exactly-once
// row), a Telegram chat or a web page's secret, and its conversation
// saved in the same commit. The benchmark and TestPagesPerTip file these.
func dialogSubmitter(e *env, ch hotline.Channel) func(i int) hotline.Submission {
	const text = "今天放学后在操场后面，三个高年级的同学把我推倒，还抢走了我的书包和零花钱。他们说如果我告诉老师，明天还会来找我。我很害怕，不知道该怎么办。"
	convs := dialog.NewSealedStore(e.db, e.vault)
	state := []byte(`{"step":"sent","school":"no3","role":"victim","category":"physical","lang":"zh","sent":["` + rand.Text() + `"]}`)
	return func(i int) hotline.Submission {
		s := hotline.Submission{SchoolCode: "no3", Channel: ch, Role: hotline.ReporterVictim, Category: hotline.CategoryPhysical, Texts: []string{text},
			SubmissionID: rand.Text()}
		k := dialog.Key{Channel: ch}
		if ch == hotline.ChannelTelegram {
			s.ChatID = int64(1_000_000 + i)
			k.ChatID = s.ChatID
		} else {
			s.PageSecret, k.Session = rand.Text(), rand.Text()
		}
		s.Record = func(ctx context.Context, _ *hotline.Submitted) error {
			return convs.Save(ctx, k, state, dialog.Meta{})
		}
		return s
	}
}
