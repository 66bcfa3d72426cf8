package relay

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// fixedClock is a clock tests move by hand.

// senderFunc adapts a function to Sender.
type senderFunc func(ctx context.Context, p *Payload) error

func (f senderFunc) Deliver(ctx context.Context, p *Payload) error { return f(ctx, p) }

func mustOpen(tb testing.TB) (*store.DB, *vault.Vault) {
	tb.Helper()
	dir := tb.TempDir()
	db := testsupport.OpenStoreAt(tb, filepath.Join(dir, "hotline.db"))
	v, err := vault.LoadOrCreate(dir, vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	return db, v
}

func enqueue(tb testing.TB, db *store.DB, v *vault.Vault, chat int64, text string) {
	tb.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		return Enqueue(tx, v, 0, &Payload{ChatID: chat, Text: text})
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// head returns the chat's waiting head (held or not due included), or nil.
func head(tb testing.TB, db *store.DB, v *vault.Vault, chat int64) *store.OutboxItem {
	tb.Helper()
	items, err := db.OutboxHeads(context.Background(), farFuture, 1000)
	if err != nil {
		tb.Fatal(err)
	}
	for _, it := range items {
		if string(it.ChatMAC) == string(v.ChatMAC(chat)) {
			return it
		}
	}
	return nil
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// A 429 is not a failure: the reply waits exactly retry_after, and the
// failures counted before it (the channel answered, so it is up) are
// forgotten; server and network failures count and back off.
func TestRetryAfterWaitsExactlyAndIsNotAFailure(t *testing.T) {
	db, v := mustOpen(t)
	clock := testsupport.NewClock(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	db.Clock = clock
	ctx := context.Background()
	enqueue(t, db, v, 1, "a")
	var answer error
	w := &Worker{DB: db, Vault: v, Sender: senderFunc(func(context.Context, *Payload) error { return answer })}
	w.init()

	answer = fmt.Errorf("bot: deliver: http_502: %w", ErrServer)
	for i := range 3 {
		if got := w.attempt(ctx, head(t, db, v, 1)); got != transient {
			t.Fatalf("attempt %d after a server error: got outcome %d, want transient", i, got)
		}
	}
	answer = errors.New("dial tcp: connection refused")
	w.attempt(ctx, head(t, db, v, 1))
	if it := head(t, db, v, 1); it.Attempts != 4 || it.NextAttemptAt <= micros(clock.Now()) {
		t.Fatalf("after 4 failures: got attempts %d, next in %dµs, want 4 and later than now", it.Attempts, it.NextAttemptAt-micros(clock.Now()))
	}

	answer = &RetryAfterError{After: 7 * time.Second}
	for range 3 {
		if got := w.attempt(ctx, head(t, db, v, 1)); got != deferred {
			t.Fatalf("429: got outcome %d, want deferred", got)
		}
		it := head(t, db, v, 1)
		if it.Attempts != 0 || it.NextAttemptAt != micros(clock.Now().Add(7*time.Second)) {
			t.Fatalf("429: got attempts %d, next in %dµs, want 0 and exactly 7s", it.Attempts, it.NextAttemptAt-micros(clock.Now()))
		}
		clock.Add(7 * time.Second)
	}
	got := w.Stats()
	if got.Server != 3 || got.Network != 1 || got.RetryAfter != 3 || got.Delivered != 0 {
		t.Errorf("stats: got %+v, want 3 server, 1 network, 3 retry-after", got)
	}
}

// The first delivery after failures makes every backed-off reply due at
// once, and clears its failure count; a reply waiting out a 429 keeps its
// time.
func TestDeliveryEndsBackoffOfOtherChats(t *testing.T) {
	db, v := mustOpen(t)
	clock := testsupport.NewClock(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	db.Clock = clock
	ctx := context.Background()
	for chat := int64(1); chat <= 3; chat++ {
		enqueue(t, db, v, chat, "x")
	}
	answers := map[int64]error{1: errors.New("timeout"), 2: &RetryAfterError{After: time.Minute}, 3: nil}
	w := &Worker{DB: db, Vault: v, MaxBackoff: time.Hour, Sender: senderFunc(func(_ context.Context, p *Payload) error { return answers[p.ChatID] })}
	w.init()
	for range 8 {
		w.attempt(ctx, head(t, db, v, 1))
	}
	w.attempt(ctx, head(t, db, v, 2))
	if it := head(t, db, v, 1); it.Attempts != 8 || it.NextAttemptAt-micros(clock.Now()) < (64*time.Second).Microseconds() {
		t.Fatalf("chat 1 after 8 failures: got attempts %d, next in %dµs, want 8 and at least 64s", it.Attempts, it.NextAttemptAt-micros(clock.Now()))
	}
	clock.Add(time.Second)
	if got := w.attempt(ctx, head(t, db, v, 3)); got != answered {
		t.Fatalf("delivery: got outcome %d, want answered", got)
	}
	if it := head(t, db, v, 1); it.Attempts != 0 || it.NextAttemptAt != micros(clock.Now()) {
		t.Errorf("chat 1 after chat 3's delivery: got attempts %d, next in %dµs, want 0 and now", it.Attempts, it.NextAttemptAt-micros(clock.Now()))
	}
	if it := head(t, db, v, 2); it.NextAttemptAt != micros(clock.Now().Add(59*time.Second)) {
		t.Errorf("chat 2 waiting out a 429: got next in %dµs, want the rest of its minute", it.NextAttemptAt-micros(clock.Now()))
	}
	if s := w.Stats(); s.Resets != 1 || s.Delivered != 1 || s.Network != 8 {
		t.Errorf("stats: got %+v, want 1 reset, 1 delivered, 8 network", s)
	}
	// Without a failure since, a delivery moves nothing.
	enqueue(t, db, v, 4, "y")
	answers[4] = nil
	w.attempt(ctx, head(t, db, v, 4))
	if s := w.Stats(); s.Resets != 1 {
		t.Errorf("resets after a delivery with no failure before it: got %d, want 1", s.Resets)
	}
}

// A chat that blocked the bot has its replies held, not dropped, and not
// sent; reviving the chat sends them in order; held replies expire.
func TestBlockedChatHeldThenRevivedInOrder(t *testing.T) {
	db, v := mustOpen(t)
	ctx := context.Background()
	var blocked atomic.Bool
	blocked.Store(true)
	var mu sync.Mutex
	var got []string
	w := &Worker{DB: db, Vault: v, PollInterval: 20 * time.Millisecond, Sender: senderFunc(func(_ context.Context, p *Payload) error {
		if p.ChatID == 1 && blocked.Load() {
			return ErrUnreachable
		}
		mu.Lock()
		got = append(got, fmt.Sprintf("%d:%s", p.ChatID, p.Text))
		mu.Unlock()
		return nil
	})}
	for i := range 3 {
		enqueue(t, db, v, 1, fmt.Sprint("r", i))
	}
	enqueue(t, db, v, 2, "other")
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()

	waitFor(t, "the other chat's reply", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 1 })
	waitFor(t, "chat 1 held", func() bool { return w.Stats().Blocked == 1 })
	// The other chat's row leaves the outbox in the commit after its send,
	// which a loaded machine may delay: wait for it rather than guess.
	waitFor(t, "only chat 1's rows left", func() bool { n, _ := db.OutboxLen(ctx); return n == 3 })
	time.Sleep(100 * time.Millisecond) // time in which a held chat must not be tried again
	if n, _ := db.OutboxLen(ctx); n != 3 {
		t.Fatalf("held: got %d rows, want chat 1's 3", n)
	}
	if s := w.Stats(); s.Blocked != 1 {
		t.Fatalf("a held chat was tried again: %+v", s)
	}
	blocked.Store(false)
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.ReviveChat(v.ChatMAC(1)) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "chat 1's replies", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 4 })
	mu.Lock()
	if want := []string{"2:other", "1:r0", "1:r1", "1:r2"}; !slices.Equal(got, want) {
		t.Errorf("sent: got %q, want %q", got, want)
	}
	mu.Unlock()

	// Held longer than HoldFor: dropped.
	blocked.Store(true)
	enqueue(t, db, v, 1, "late")
	w.Wake()
	waitFor(t, "chat 1 held again", func() bool { return w.Stats().Blocked == 2 })
	var n int64
	err := db.Update(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.DropHeldOutbox(tx.Now().Add(time.Second))
		return err
	})
	if err != nil || n != 1 {
		t.Errorf("drop expired held: got %d, %v, want 1", n, err)
	}
}

// While the channel is down the worker sends one probe per ProbeInterval,
// not every reply; the first probe that gets through ends every backoff,
// so the queue drains at once although the backoffs were long.
func TestProbeNoticesTheEndOfAnOutage(t *testing.T) {
	db, v := mustOpen(t)
	ctx := context.Background()
	var up atomic.Bool
	var calls, sent atomic.Int64
	w := &Worker{DB: db, Vault: v, BaseBackoff: time.Minute, MaxBackoff: time.Hour, ProbeInterval: 100 * time.Millisecond,
		PollInterval: time.Second, Sender: senderFunc(func(context.Context, *Payload) error {
			calls.Add(1)
			if !up.Load() {
				return fmt.Errorf("bot: deliver: http_502: %w", ErrServer)
			}
			sent.Add(1)
			return nil
		})}
	const chats = 20
	for chat := int64(1); chat <= chats; chat++ {
		enqueue(t, db, v, chat, "x")
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(rctx); close(done) }()
	defer func() { stop(); <-done }()
	time.Sleep(time.Second)
	if c := calls.Load(); c > chats+15 {
		t.Errorf("calls during a 1s outage: got %d, want each reply once and about one probe per 100ms", c)
	}
	if !w.Stats().Down {
		t.Errorf("stats: got %+v, want down", w.Stats())
	}
	up.Store(true)
	back := time.Now()
	waitFor(t, "the queue to drain", func() bool { n, _ := db.OutboxLen(ctx); return n == 0 })
	// Backoffs here are a minute or more: draining within seconds shows the
	// probe ended them (the bound is loose for a loaded machine).
	if d := time.Since(back); d > 10*time.Second {
		t.Errorf("drained %s after the channel came back, want within a few probe intervals, far below the minute backoffs", d)
	}
	// About one probe per 100 ms of the 1 s outage; at least three even on
	// a loaded machine, where each probe on PostgreSQL is two commits (the
	// claim and the outcome).
	if s := w.Stats(); s.Delivered != chats || s.Resets < 1 || s.Probes < 3 || s.Down {
		t.Errorf("stats: got %+v", s)
	}
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
