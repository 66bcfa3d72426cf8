package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/store"
)

func appendEvents(tb testing.TB, db *store.DB, schoolID int64, n int) {
	tb.Helper()
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.AppendEvent(&hotline.Event{SchoolID: schoolID, Kind: hotline.EventHeadRecorded, Detail: fmt.Sprintf("n=%d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func mustCheck(tb testing.TB, db *store.DB, limit int64) *store.LedgerCheck {
	tb.Helper()
	c, err := db.CheckLedger(context.Background(), limit)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func tamper(tb testing.TB, db *store.DB, q string, args ...any) {
	tb.Helper()
	if _, err := db.Writer().Exec(q, args...); err != nil {
		tb.Fatal(err)
	}
}

// TestCheckLedgerIsIncremental follows the verified point: a check reads
// what is new and moves the point, durably; an edit behind the point is the
// full walk's to find, and once found it stays reported until a full walk
// finds the chain whole again; a forged new event, a cut tail or a rewritten
// head is caught by the cheap check.
func TestCheckLedgerIsIncremental(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	s := mustSchool(t, db, "inc")

	if c := mustCheck(t, db, 0); !c.OK() || c.Count != 0 || c.Pending != 0 {
		t.Fatalf("empty ledger: %+v", c.Result)
	}
	appendEvents(t, db, s.ID, 10)
	if c := mustCheck(t, db, 0); !c.OK() || c.Count != 10 {
		t.Fatalf("10 events: %+v", c.Result)
	}
	// The point survives a restart.
	db.Close()
	if db, err = store.Open(pgtest.DB(t, path)); err != nil {
		t.Fatal(err)
	}
	at, err := db.LedgerVerified(ctx)
	if err != nil || at.Seq != 10 || at.CheckedAt.IsZero() || !at.FullAt.IsZero() {
		t.Fatalf("verified point after reopen: %+v %v", at, err)
	}

	// A limit leaves the rest for the next check.
	appendEvents(t, db, s.ID, 25)
	if c := mustCheck(t, db, 10); !c.OK() || c.Count != 20 || c.Pending != 15 {
		t.Fatalf("limited check: %+v pending %d", c.Result, c.Pending)
	}
	if c := mustCheck(t, db, 0); !c.OK() || c.Count != 35 || c.Pending != 0 {
		t.Fatalf("rest: %+v pending %d", c.Result, c.Pending)
	}

	// An edit behind the point: the cheap check does not walk back there,
	// the full walk does, and the break is kept.
	tamper(t, db, `UPDATE ledger SET detail = 'forged' WHERE seq = 3`)
	if c := mustCheck(t, db, 0); !c.OK() {
		t.Fatalf("the cheap check walked back: %+v", c.Result)
	}
	if res, err := db.VerifyLedger(ctx); err != nil || res.OK() || res.Break.Seq != 3 {
		t.Fatalf("full walk: %+v %v", res, err)
	}
	if c := mustCheck(t, db, 0); c.OK() || c.Break.Seq != 3 {
		t.Fatalf("break forgotten: %+v", c.Result)
	}
	tamper(t, db, `UPDATE ledger SET detail = 'n=2' WHERE seq = 3`)
	if c := mustCheck(t, db, 0); c.OK() {
		t.Fatal("a break was cleared without a full walk")
	}
	if res, err := db.VerifyLedger(ctx); err != nil || !res.OK() || res.Count != 35 {
		t.Fatalf("full walk after repair: %+v %v", res, err)
	}
	if at, _ := db.LedgerVerified(ctx); at.Seq != 35 || at.FullAt.IsZero() || at.Break != nil {
		t.Fatalf("after a full walk: %+v", at)
	}
	if c := mustCheck(t, db, 0); !c.OK() || c.Count != 35 {
		t.Fatalf("after repair: %+v", c.Result)
	}

	for _, tc := range []struct {
		name  string
		sql   []string
		where int64
	}{
		{"forged new event", []string{`UPDATE ledger SET detail = 'forged' WHERE seq = 37`}, 37},
		{"cut tail", []string{`DELETE FROM ledger WHERE seq > 30`}, 35},
		{"rewritten last verified event", []string{`UPDATE ledger SET hash = ? WHERE seq = 35`}, 35},
		{"rewritten head", []string{`UPDATE ledger_heads SET hash = ? WHERE seq = 35`}, 35},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each case starts from a copy of the verified database.
			var copyDSN string
			if pgtest.OnPostgres() {
				// A template copy, which wants the source closed.
				db.Close()
				copyDSN = pgtest.Clone(t, db.DSN)
				if db, err = store.Open(db.DSN); err != nil {
					t.Fatal(err)
				}
			} else {
				copyDSN = filepath.Join(t.TempDir(), "h.db")
				if err := db.Backup(ctx, copyDSN); err != nil {
					t.Fatal(err)
				}
			}
			cp, err := store.Open(copyDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer cp.Close()
			if err := cp.Update(ctx, func(tx *store.Tx) error { _, _, err := tx.RecordLedgerHead("2026-03-01"); return err }); err != nil {
				t.Fatal(err)
			}
			appendEvents(t, cp, s.ID, 5)
			for _, q := range tc.sql {
				if strings.Contains(q, "?") {
					tamper(t, cp, q, make([]byte, 32))
				} else {
					tamper(t, cp, q)
				}
			}
			c := mustCheck(t, cp, 0)
			if c.OK() || c.Break.Seq != tc.where {
				t.Fatalf("got %+v, want a break at %d", c.Result, tc.where)
			}
			if c2 := mustCheck(t, cp, 0); c2.OK() || c2.Break.Seq != tc.where || !strings.Contains(c2.Break.Reason, c.Break.Reason) {
				t.Fatalf("second check: %+v", c2.Result)
			}
		})
	}
}
