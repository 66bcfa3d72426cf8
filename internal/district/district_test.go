package district_test

import (
	"context"
	"testing"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/testsupport"
)

func mustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	db := testsupport.OpenStore(tb)
	return db
}

func appendEvents(tb testing.TB, db *store.DB, n int) {
	tb.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.AppendEvent(&hotline.Event{Kind: hotline.EventHeadRecorded, Detail: "test"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestLedgerStateNeverWalksTheChain: a page's ledger state checks at most
// VerifyLimit new events per call, so a long unverified ledger is caught up
// over several views, and an edit behind the verified point shows only
// after a full walk (the scheduler's or the CLI's), which it then keeps.
func TestLedgerStateNeverWalksTheChain(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	svc := district.New(db)
	svc.VerifyLimit = 40
	appendEvents(t, db, 100)
	for _, want := range []struct{ count, pending int64 }{{40, 60}, {80, 20}, {100, 0}, {100, 0}} {
		st, err := svc.LedgerState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Result.OK() || st.Result.Count != want.count || st.Pending != want.pending {
			t.Fatalf("got %d verified, %d pending, want %d, %d (%+v)", st.Result.Count, st.Pending, want.count, want.pending, st.Result)
		}
		if !st.FullAt.IsZero() {
			t.Fatal("a page view made a full walk")
		}
	}
	if _, err := db.Writer().Exec(`UPDATE ledger SET detail = 'forged' WHERE seq = 50`); err != nil {
		t.Fatal(err)
	}
	if st, _ := svc.LedgerState(ctx); !st.Result.OK() {
		t.Fatalf("a page view walked back to event 50: %+v", st.Result)
	}
	if res, err := svc.VerifyLedger(ctx); err != nil || res.OK() || res.Break.Seq != 50 {
		t.Fatalf("full walk: %+v %v", res, err)
	}
	appendEvents(t, db, 1)
	st, err := svc.LedgerState(ctx)
	if err != nil || st.Result.OK() || st.Result.Break.Seq != 50 || st.FullAt.IsZero() {
		t.Fatalf("after the full walk: %+v %v", st.Result, err)
	}
}
