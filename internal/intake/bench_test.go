package intake_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
)

// BenchmarkDurableIntake measures a durable tip submission (validate, detect
// urgency, seal with hybrid post-quantum HPKE, commit at synchronous=FULL)
// against a bare insert of the same number of bytes with the same pragmas,
// one row per transaction, side by side in one run, with 1 and 16
// concurrent submitters. It reports µs per tip for both and their ratio
// (intake/bare; below 1 means intake is faster per tip), tips per commit
// and WAL frames (page writes) per tip.
//
// A submission is the one the dialog makes: with its submission id (the
// exactly-once row), the page secret of a web page, and the conversation
// saved in the same commit.
func BenchmarkDurableIntake(b *testing.B) {
	for _, ch := range []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat} {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("channel=%s/submitters=%d", ch, n), func(b *testing.B) {
				e := newEnv(b)
				text := "今天放学后在操场后面，三个高年级的同学把我推倒，还抢走了我的书包和零花钱。他们说如果我告诉老师，明天还会来找我。我很害怕，不知道该怎么办。"
				convs := dialog.NewSealedStore(e.db, e.vault)
				state := []byte(`{"step":"sent","school":"no3","role":"victim","category":"physical","lang":"zh","sent":["` + rand.Text() + `"]}`)
				sub := func(i int) error {
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
					_, err := e.intake.Submit(context.Background(), s)
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
				bare := openBare(b)
				payload := make([]byte, sealedBytes)
				rand.Read(payload)

				b.ResetTimer()
				bareDur := parallel(b, n, b.N, func(i int) error {
					tx, err := bare.Beginx()
					if err != nil {
						return err
					}
					if _, err := tx.Exec(`INSERT INTO bare (data) VALUES (?)`, payload); err != nil {
						tx.Rollback()
						return err
					}
					return tx.Commit()
				})
				before := e.db.Stats()
				intakeDur := parallel(b, n, b.N, func(i int) error { return sub(i + 1) })
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
			})
		}
	}
}

// openBare opens a second database with the store's pragmas and a plain
// table: the baseline of one insert per transaction.
func openBare(b *testing.B) *sqlx.DB {
	b.Helper()
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
