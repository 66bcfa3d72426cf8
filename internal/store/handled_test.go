package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"hotline/internal/store"
	"hotline/internal/testsupport"
)

func conversationCount(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.Reader().Get(&n, `SELECT COUNT(*) FROM conversations`); err != nil {
		t.Fatal(err)
	}
	return n
}

// The first transaction of a handling records its key with its effect; the
// next ones of the same handling run unguarded; a second handling of the
// same key (a redelivery) is refused without running, and its effect is
// not applied; a failed transaction records nothing.
func TestIdempotencyRecordsKeyWithFirstEffect(t *testing.T) {
	db := MustOpenDB(t)
	clock := testsupport.NewClock(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	db.Clock = clock
	ctx := context.Background()

	// A failing first transaction leaves no key behind.
	hctx, k := store.WithIdempotency(ctx, "tg:41")
	boom := errors.New("boom")
	if err := db.Update(hctx, func(tx *store.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing job: got %v", err)
	}
	if k.Recorded() {
		t.Fatal("a rolled-back transaction marked the key recorded")
	}
	if ok, _ := db.Handled(ctx, "tg:41"); ok {
		t.Fatal("a rolled-back transaction left the key")
	}

	hctx, k = store.WithIdempotency(ctx, "tg:42")
	runs := 0
	put := func(mac string) func(*store.Tx) error {
		return func(tx *store.Tx) error {
			runs++
			return tx.PutConversation([]byte(mac), []byte("sealed"), store.ConversationMeta{})
		}
	}
	if err := db.Update(hctx, put("a")); err != nil {
		t.Fatal(err)
	}
	if !k.Recorded() {
		t.Fatal("first transaction: key not recorded")
	}
	if err := db.Update(hctx, put("b")); err != nil {
		t.Fatalf("second transaction of the same handling: %v", err)
	}
	if ok, err := db.Handled(ctx, "tg:42"); err != nil || !ok {
		t.Fatalf("Handled: got %v %v, want true", ok, err)
	}

	// A redelivery: a new handling of the same key.
	rctx, rk := store.WithIdempotency(ctx, "tg:42")
	if err := db.Update(rctx, put("c")); !errors.Is(err, store.ErrAlreadyHandled) {
		t.Fatalf("redelivery: got %v, want ErrAlreadyHandled", err)
	}
	if !rk.Duplicate() || rk.Recorded() {
		t.Fatalf("redelivery: duplicate %v recorded %v, want true false", rk.Duplicate(), rk.Recorded())
	}
	if runs != 2 || conversationCount(t, db) != 2 {
		t.Fatalf("effects: %d runs, %d conversations; want 2 and 2", runs, conversationCount(t, db))
	}

	// Without a key nothing is guarded.
	if err := db.Update(ctx, put("d")); err != nil {
		t.Fatal(err)
	}

	// After the TTL the key is gone: Handled says no, and the next mark
	// purges it.
	clock.Add(store.HandledTTL + time.Minute)
	if ok, _ := db.Handled(ctx, "tg:42"); ok {
		t.Fatal("Handled after the TTL: got true")
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.MarkHandled("tg:43") }); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Reader().Get(&n, `SELECT COUNT(*) FROM handled_updates`); err != nil || n != 1 {
		t.Fatalf("handled_updates after purge: got %d %v, want 1 (the new key)", n, err)
	}
}
