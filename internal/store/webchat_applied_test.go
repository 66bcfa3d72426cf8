package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/pgtest"
	"hotline/internal/store"
	"hotline/internal/testsupport"
)

// Applied message ids and used form tokens survive a reopen, and go once
// they are a day old or expired.
func TestWebchatAppliedSurvivesReopenAndExpires(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	sess, other := []byte("session-mac-1"), []byte("session-mac-2")
	if err := db.MarkWebchatApplied(ctx, sess, "id-1"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkWebchatApplied(ctx, sess, "id-1"); err != nil {
		t.Fatalf("marking twice: %v", err)
	}
	exp := time.Now().Add(3 * time.Hour)
	if fresh, err := db.UseFormToken(ctx, []byte("tok"), exp); err != nil || !fresh {
		t.Fatalf("first use: fresh=%v err=%v", fresh, err)
	}
	if fresh, err := db.UseFormToken(ctx, []byte("tok"), exp); err != nil || fresh {
		t.Fatalf("second use: fresh=%v err=%v, want false", fresh, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	db.Clock = clock
	for _, c := range []struct {
		mac  []byte
		id   string
		want bool
	}{{sess, "id-1", true}, {sess, "id-2", false}, {other, "id-1", false}} {
		if got, err := db.WebchatApplied(ctx, c.mac, c.id); err != nil || got != c.want {
			t.Fatalf("applied(%s, %s) = %v, %v; want %v", c.mac, c.id, got, err, c.want)
		}
	}
	if used, err := db.FormTokenUsed(ctx, []byte("tok")); err != nil || !used {
		t.Fatalf("token used after reopen = %v, %v", used, err)
	}

	if n, err := db.PurgeWebchatApplied(ctx); err != nil || n != 0 {
		t.Fatalf("purge of fresh rows: %d, %v; want 0", n, err)
	}
	clock.Add(store.WebchatAppliedTTL + time.Minute)
	if n, err := db.PurgeWebchatApplied(ctx); err != nil || n != 2 {
		t.Fatalf("purge a day later: %d, %v; want 2", n, err)
	}
	if got, _ := db.WebchatApplied(ctx, sess, "id-1"); got {
		t.Fatal("applied id kept after a day")
	}
	if used, _ := db.FormTokenUsed(ctx, []byte("tok")); used {
		t.Fatal("expired token kept")
	}
}
