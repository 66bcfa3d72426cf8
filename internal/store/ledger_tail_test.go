package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/store"
)

// fileCase stores a case with the event that opens it and a reply, as
// intake and triage do, and returns it with the opening event.
func fileCase(t *testing.T, db *store.DB, s *hotline.School, uid string) (*hotline.Tip, *hotline.Event) {
	t.Helper()
	tip := newTip(s.ID, uid, false, time.Time{})
	var opened *hotline.Event
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.InsertTip(tip, nil); err != nil {
			return err
		}
		opened = &hotline.Event{SchoolID: s.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReceived, Detail: "channel=webchat"}
		if err := tx.AppendEvent(opened); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: s.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReplied, ActorID: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	return tip, opened
}

// TestErasedTailIsCaught: a report filed after the newest recorded head and
// erased within minutes leaves a chain that is whole. Erasing its events
// but not its case, or its case but not its events, is caught by the full
// walk's cross-check; erasing both is caught by a head held outside (each
// webhook carries the head of its event; the register holds the daily
// ones), and a rewritten tail the same way.
func TestErasedTailIsCaught(t *testing.T) {
	ctx := context.Background()
	exec := func(t *testing.T, db *store.DB, q string, args ...any) {
		t.Helper()
		if _, err := db.Writer().ExecContext(ctx, db.Writer().Rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		erase     func(t *testing.T, db *store.DB, tip *hotline.Tip, from int64)
		inside    string // what the walk says without outside heads ("" holds)
		rewritten bool
		intact    bool
	}{
		{"nothing erased", func(*testing.T, *store.DB, *hotline.Tip, int64) {}, "", false, true},
		{"events only", func(t *testing.T, db *store.DB, _ *hotline.Tip, from int64) {
			exec(t, db, `DELETE FROM ledger WHERE seq >= ?`, from)
		}, "has no event that opened it", false, false},
		{"case only", func(t *testing.T, db *store.DB, tip *hotline.Tip, _ int64) {
			exec(t, db, `DELETE FROM tips WHERE id = ?`, tip.ID)
		}, "no longer in the database", false, false},
		{"case and events", func(t *testing.T, db *store.DB, tip *hotline.Tip, from int64) {
			exec(t, db, `DELETE FROM ledger WHERE seq >= ?`, from)
			exec(t, db, `DELETE FROM tips WHERE id = ?`, tip.ID)
		}, "", false, false},
		{"case and events, tail rewritten", func(t *testing.T, db *store.DB, tip *hotline.Tip, from int64) {
			exec(t, db, `DELETE FROM ledger WHERE seq >= ?`, from)
			exec(t, db, `DELETE FROM tips WHERE id = ?`, tip.ID)
			exec(t, db, `UPDATE ledger_head SET seq = (SELECT MAX(seq) FROM ledger), hash = (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1) WHERE id = 1`)
			if err := db.Update(ctx, func(tx *store.Tx) error {
				return tx.AppendEvent(&hotline.Event{Kind: hotline.EventHeadRecorded, Detail: "cover"})
			}); err != nil {
				t.Fatal(err)
			}
		}, "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			s := mustSchool(t, db, "tail")
			for i := range 3 {
				fileCase(t, db, s, fmt.Sprintf("old%d", i))
			}
			if err := db.Update(ctx, func(tx *store.Tx) error { _, err := tx.RecordCheckpoint(); return err }); err != nil {
				t.Fatal(err)
			}
			// The report filed after the newest head; its opening event is
			// the head the bureau's platform received with "case.opened".
			tip, opened := fileCase(t, db, s, "erased")
			outside := ledger.Anchor{Seq: opened.Seq, Prefix: fmt.Sprintf("%x", opened.Hash)}
			// No check runs between the report and its erasure (a check
			// would record the point it reached, which vouches for it).
			tc.erase(t, db, tip, opened.Seq)

			r, err := db.VerifyLedgerTail(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.inside == "" && !r.OK():
				t.Fatalf("inside walk broke: %v", r.Break)
			case tc.inside != "" && (r.OK() || !strings.Contains(r.Break.Reason, tc.inside)):
				t.Fatalf("inside walk: got %v, want %q", r.Break, tc.inside)
			}
			if tc.inside != "" {
				// The outcome is recorded: the district page shows it.
				if v, err := db.LedgerVerified(ctx); err != nil || v.Break == nil {
					t.Fatalf("not recorded: %+v %v", v, err)
				}
				return
			}
			r, err = db.VerifyLedgerWith(ctx, []ledger.Anchor{outside})
			if err != nil {
				t.Fatal(err)
			}
			if tc.intact {
				if !r.OK() || r.Outside != nil || r.OutsideNewest != opened.Seq {
					t.Fatalf("intact: %+v", r)
				}
				return
			}
			want := "deleted from the end"
			if tc.rewritten {
				want = "rewritten"
			}
			if !r.OK() || r.Outside == nil || !strings.Contains(r.Outside.Reason, want) {
				t.Fatalf("outside head: got %+v (%v), want %q", r.Outside, r.Break, want)
			}
			// A head held outside that does not match is not recorded as a
			// break: a typo must not mark the ledger broken for everyone.
			if v, err := db.LedgerVerified(ctx); err != nil || v.Break != nil {
				t.Fatalf("outside break recorded: %+v %v", v, err)
			}
		})
	}
}
