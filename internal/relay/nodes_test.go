package relay

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hotline/internal/pgtest"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// openShared opens one database twice, as two nodes do: a PostgreSQL
// database when the server is available, else one SQLite file.
func openShared(t *testing.T) (a, b *store.DB, v *vault.Vault) {
	t.Helper()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "hotline.db")
	if pgtest.OnPostgres() {
		dsn = pgtest.NewDatabase(t)
	}
	open := func() *store.DB {
		db, err := store.Open(dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return open(), open(), v
}

// TestTwoNodesSendEachReplyOnceInOrder: two workers on one outbox send
// every reply exactly once, each chat's in the order written, and never
// two replies of one chat at the same time.
func TestTwoNodesSendEachReplyOnceInOrder(t *testing.T) {
	dbA, dbB, v := openShared(t)
	const chats, per = 12, 8
	for i := range per {
		for c := range chats {
			enqueue(t, dbA, v, int64(1000+c), fmt.Sprintf("%d", i))
		}
	}
	var mu sync.Mutex
	got := map[int64][]string{}
	busy := map[int64]bool{}
	var overlap []string
	done := make(chan struct{})
	total := 0
	sender := func(node string) Sender {
		return senderFunc(func(ctx context.Context, p *Payload) error {
			mu.Lock()
			if busy[p.ChatID] {
				overlap = append(overlap, node)
			}
			busy[p.ChatID] = true
			mu.Unlock()
			time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
			mu.Lock()
			busy[p.ChatID] = false
			got[p.ChatID] = append(got[p.ChatID], p.Text)
			total++
			if total == chats*per {
				close(done)
			}
			mu.Unlock()
			return nil
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, db := range []*store.DB{dbA, dbB} {
		w := &Worker{DB: db, Vault: v, Sender: sender(fmt.Sprint(i)), Concurrency: 4, PollInterval: 20 * time.Millisecond}
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(ctx) }()
	}
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("not every reply was sent")
	}
	// Let both go round again: nothing more must be sent.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(overlap) > 0 {
		t.Fatalf("a chat had two replies in flight at once %d times", len(overlap))
	}
	for c := range chats {
		want := ""
		for i := range per {
			want += fmt.Sprintf("%d,", i)
		}
		have := ""
		for _, s := range got[int64(1000+c)] {
			have += s + ","
		}
		if have != want {
			t.Fatalf("chat %d got %s, want %s", c, have, want)
		}
	}
	if n, _ := dbA.OutboxLen(context.Background()); n != 0 {
		t.Fatalf("%d rows left in the outbox", n)
	}
}

// TestExpiredClaimIsTakenOver: a reply claimed by a node that died (its
// lease runs out, nothing recorded) is sent by another, once; while the
// lease runs it is not.
func TestExpiredClaimIsTakenOver(t *testing.T) {
	dbA, dbB, v := openShared(t)
	enqueue(t, dbA, v, 7, "first")
	enqueue(t, dbA, v, 7, "second")
	// The dead node claims the head for a second and never comes back.
	err := dbA.Update(context.Background(), func(tx *store.Tx) error {
		items, err := tx.ClaimOutboxHeads("dead", tx.Now(), time.Second, 10)
		if len(items) != 1 {
			return fmt.Errorf("claimed %d, want 1", len(items))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var claimedUntil int64
	if err := dbB.Reader().Get(&claimedUntil, `SELECT claimed_until FROM outbox WHERE claimed_by = 'dead'`); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []string
	var early bool
	two := make(chan struct{})
	w := &Worker{DB: dbB, Vault: v, PollInterval: 50 * time.Millisecond, Sender: senderFunc(func(ctx context.Context, p *Payload) error {
		mu.Lock()
		defer mu.Unlock()
		if len(sent) == 0 && time.Now().Before(time.UnixMicro(claimedUntil)) {
			early = true // sent while the dead node's lease ran
		}
		sent = append(sent, p.Text)
		if len(sent) == 2 {
			close(two)
		}
		return nil
	})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	select {
	case <-two:
	case <-time.After(time.Minute):
		t.Fatal("the dead node's reply was never sent")
	}
	mu.Lock()
	defer mu.Unlock()
	if early {
		t.Fatal("sent while the dead node's lease ran")
	}
	if len(sent) != 2 || sent[0] != "first" || sent[1] != "second" {
		t.Fatalf("sent %v, want [first second]", sent)
	}
}
