package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestUpdateRunsClosureOnce proves the Update contract under group commit:
// every closure runs exactly once, whether it succeeds, fails, panics, or
// shares its transaction with a job that breaks the transaction itself;
// a job's writes are stored if and only if Update returned nil; its
// AfterCommit hooks run only then; and the ledger, whose head the writer
// caches across jobs, still verifies.
func TestUpdateRunsClosureOnce(t *testing.T) {
	const jobs = 300
	for _, tc := range []struct {
		name string
		// kind picks what job i does: "ok", "fail", "panic", "break"
		// (releases the store's savepoint itself, which makes the group's
		// transaction unusable) or "dup" (records a submission already
		// filed: on PostgreSQL the insert is sent late, and its refusal
		// reported by the job's release or commit).
		kind func(i int) string
	}{
		{"all succeed", func(int) string { return "ok" }},
		{"some fail", func(i int) string { return map[bool]string{true: "fail", false: "ok"}[i%3 == 0] }},
		{"some fail or panic", func(i int) string {
			switch i % 5 {
			case 0:
				return "fail"
			case 1:
				return "panic"
			}
			return "ok"
		}},
		{"some file a submission twice", func(i int) string {
			switch i % 4 {
			case 0:
				return "dup"
			case 1:
				return "fail"
			}
			return "ok"
		}},
		{"one breaks its group", func(i int) string {
			switch {
			case i%50 == 7:
				return "break"
			case i%4 == 0:
				return "fail"
			}
			return "ok"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := MustOpenDB(t)
			s := mustSchool(t, db, "once")
			// The submission "dup" jobs file again, with its case and event.
			err := db.Update(context.Background(), func(tx *store.Tx) error {
				tip := newTip(s.ID, "seed", false, time.Time{})
				if err := tx.InsertTip(tip, nil); err != nil {
					return err
				}
				if err := tx.AppendEvent(&hotline.Event{SchoolID: s.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReceived}); err != nil {
					return err
				}
				return tx.InsertSubmission([]byte("filed"), tip.ID, nil, time.Time{})
			})
			if err != nil {
				t.Fatal(err)
			}
			before := db.Stats()

			// A first job holds the writer until every caller is about to
			// queue its job, so that the others pile up and share commits.
			var ready sync.WaitGroup
			ready.Add(jobs)
			hold, holding := make(chan error, 1), make(chan struct{})
			go func() {
				hold <- db.Update(context.Background(), func(*store.Tx) error {
					close(holding)
					ready.Wait()
					time.Sleep(100 * time.Millisecond)
					return nil
				})
			}()

			runs := make([]atomic.Int32, jobs)
			afters := make([]atomic.Int32, jobs)
			errs := make([]error, jobs)
			var wg sync.WaitGroup
			for i := 0; i < jobs; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					kind := tc.kind(i)
					<-holding // the writer is busy: this job waits for a group
					ready.Done()
					errs[i] = db.Update(context.Background(), func(tx *store.Tx) error {
						runs[i].Add(1)
						tip := newTip(s.ID, fmt.Sprintf("u%03d", i), false, time.Time{})
						if err := tx.InsertTip(tip, nil); err != nil {
							return err
						}
						// A case and the event that opens it, as intake writes them
						// (the full walk checks that each case has one).
						if err := tx.AppendEvent(&hotline.Event{SchoolID: s.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventReceived, Detail: fmt.Sprintf("job=%d", i)}); err != nil {
							return err
						}
						tx.AfterCommit(func() { afters[i].Add(1) })
						switch kind {
						case "fail":
							return errors.New("job fails after its writes")
						case "panic":
							panic("job panics after its writes")
						case "dup":
							if err := tx.InsertSubmission([]byte("filed"), tip.ID, nil, time.Time{}); err != nil {
								return err
							}
						case "break":
							if _, err := tx.Exec(`RELEASE job`); err != nil {
								return err
							}
						}
						return nil
					})
				}()
			}
			wg.Wait()
			if err := <-hold; err != nil {
				t.Fatal(err)
			}

			tips, err := db.Tips(context.Background(), `WHERE school_id = ?`, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]bool{}
			for _, tip := range tips {
				stored[tip.UID] = true
			}
			ok, breaks := 0, tc.name == "one breaks its group"
			for i := 0; i < jobs; i++ {
				if n := runs[i].Load(); n != 1 {
					t.Errorf("job %d (%s): closure ran %d times, want 1", i, tc.kind(i), n)
				}
				switch kind := tc.kind(i); {
				case kind == "ok" && errs[i] != nil && !(breaks && errors.Is(errs[i], store.ErrGroupLost)):
					// Only a job that shared its transaction with one
					// that broke it may fail through no fault of its own.
					t.Errorf("job %d: %v", i, errs[i])
				case kind != "ok" && errs[i] == nil:
					t.Errorf("job %d (%s): no error", i, kind)
				case kind == "dup" && !errors.Is(errs[i], store.ErrSubmissionFiled):
					t.Errorf("job %d (dup): got %v, want ErrSubmissionFiled", i, errs[i])
				}
				uid := fmt.Sprintf("u%03d", i)
				if stored[uid] != (errs[i] == nil) {
					t.Errorf("job %d (%s): stored %v, err %v", i, tc.kind(i), stored[uid], errs[i])
				}
				if want := map[bool]int32{true: 1, false: 0}[errs[i] == nil]; afters[i].Load() != want {
					t.Errorf("job %d: AfterCommit ran %d times, want %d", i, afters[i].Load(), want)
				}
				if errs[i] == nil {
					ok++
				}
			}
			if ok == 0 {
				t.Fatal("no job succeeded")
			}
			res, err := db.VerifyLedger(context.Background())
			if err != nil || !res.OK() {
				t.Fatalf("ledger: %+v %v", res, err)
			}
			evs, err := db.Events(context.Background(), 0, 10*jobs)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != ok+1 {
				t.Fatalf("%d ledger events, want %d (one per stored job, and the seed's)", len(evs), ok+1)
			}
			st := db.Stats()
			if commits, ran := st.Commits-before.Commits, st.Jobs-before.Jobs; commits >= ran {
				t.Fatalf("no group commit happened (%d commits for %d jobs): the test proves nothing", commits, ran)
			}
		})
	}
}
