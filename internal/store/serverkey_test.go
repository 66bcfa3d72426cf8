package store_test

import (
	"context"
	"sync"
	"testing"
)

// The first fingerprint recorded stays: of nodes racing with different
// keys, each sees the one that won, and a database with a school has data.
func TestServerKeyRecord(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if rec, err := db.ServerKeyRecord(ctx); err != nil || rec != nil {
		t.Fatalf("new database: %+v %v, want no record", rec, err)
	}
	if has, err := db.HasData(ctx); err != nil || has {
		t.Fatalf("HasData of a new database = %v, %v", has, err)
	}
	fps := []string{"aaaa-0000-0000-0001", "bbbb-0000-0000-0002", "cccc-0000-0000-0003", "dddd-0000-0000-0004"}
	got := make([]string, len(fps))
	var wg sync.WaitGroup
	for i, fp := range fps {
		wg.Go(func() {
			rec, err := db.RecordServerKey(ctx, fp)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = rec.Fingerprint
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("nodes saw different recorded keys: %q", got)
		}
	}
	rec, err := db.ServerKeyRecord(ctx)
	if err != nil || rec == nil || rec.Fingerprint != got[0] || rec.RecordedAt.IsZero() {
		t.Fatalf("record read back: %+v %v, want %q", rec, err, got[0])
	}
	mustSchool(t, db, "no3")
	if has, err := db.HasData(ctx); err != nil || !has {
		t.Fatalf("HasData with a school = %v, %v", has, err)
	}
}
