package intake_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/pgtest"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// TestTwoNodesSubmitting is two nodes filing reports into one PostgreSQL
// database at once, each with its own writer and its transactions sent as
// pipelines: every tip gets its own alias and its "received" event, and
// the ledger stays one chain, with no fork and no gap, that the full walk
// (hotline ledger verify) accepts.
func TestTwoNodesSubmitting(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("several nodes share a database on PostgreSQL only")
	}
	ctx := context.Background()
	dir := t.TempDir()
	dsn := pgtest.DB(t, filepath.Join(dir, "shared.db"))
	var nodes []*env
	for range 2 {
		db, err := store.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if len(nodes) == 0 {
			nodes = append(nodes, newEnvOn(t, db, dir))
			continue
		}
		v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, &env{db: db, vault: v, intake: intake.New(db, v, live.NewBroker(), nil)})
	}
	const workers, each = 6, 5
	var wg sync.WaitGroup
	errc := make(chan error, len(nodes)*workers)
	for n, e := range nodes {
		convs := dialog.NewSealedStore(e.db, e.vault)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					ch := []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat}[i%2]
					s := hotline.Submission{SchoolCode: "no3", Channel: ch, Role: hotline.ReporterVictim, Category: hotline.CategoryVerbal,
						Texts: []string{fmt.Sprintf("他们每天在走廊骂我 %d-%d-%d", n, w, i)}, SubmissionID: rand.Text()}
					k := dialog.Key{Channel: ch}
					if ch == hotline.ChannelTelegram {
						s.ChatID = int64(n*1_000_000 + w*1000 + i + 1)
						k.ChatID = s.ChatID
					} else {
						s.PageSecret, k.Session = rand.Text(), rand.Text()
					}
					s.Record = func(ctx context.Context, _ *hotline.Submitted) error {
						return convs.Save(ctx, k, []byte(`{"step":"sent"}`), dialog.Meta{})
					}
					if _, err := e.intake.Submit(ctx, s); err != nil {
						errc <- fmt.Errorf("node %d: %w", n, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	const want = 2 * workers * each
	db := nodes[1].db
	tips, err := db.Tips(ctx, `WHERE school_id = ?`, nodes[0].school.School.ID)
	if err != nil {
		t.Fatal(err)
	}
	aliases := map[string]bool{}
	for _, tip := range tips {
		aliases[tip.Alias.ZH] = true
	}
	if len(tips) != want || len(aliases) != want {
		t.Fatalf("got %d tips with %d aliases, want %d of each", len(tips), len(aliases), want)
	}
	for _, node := range nodes {
		res, err := node.db.VerifyLedgerTail(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() || res.Last != res.Count {
			t.Fatalf("ledger: %+v (break %v)", res.Result, res.Break)
		}
	}
	evs, err := db.Events(ctx, 0, 10*want)
	if err != nil {
		t.Fatal(err)
	}
	received := map[int64]int{}
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: a gap or a fork", i+1, ev.Seq)
		}
		if ev.Kind == hotline.EventReceived {
			received[ev.TipID]++
		}
	}
	for _, tip := range tips {
		if received[tip.ID] != 1 {
			t.Errorf("tip %s has %d received events, want 1", tip.Alias.ZH, received[tip.ID])
		}
	}
}
