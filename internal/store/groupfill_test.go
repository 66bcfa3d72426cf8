package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hotline/internal/store"
)

// The writer runs an announced job as soon as it has it, and takes the
// next one into the same commit while announced jobs are on their way.
// Here the second job is only handed to the writer after the first one
// has run: a writer that waited for the whole group before running any
// job could never commit both at once.
func TestGroupRunsJobsWhileOthersAreComing(t *testing.T) {
	db := MustOpenDB(t)
	s := mustSchool(t, db, "gf")
	db.MaxLinger = time.Minute // each wait is still bounded by the gap
	shared := false
	for attempt := 0; attempt < 20 && !shared; attempt++ {
		ctxA, arriveA := db.Expect(context.Background())
		ctxB, arriveB := db.Expect(context.Background())
		ranA := make(chan struct{})
		errA := make(chan error, 1)
		before := db.Stats()
		go func() {
			defer arriveA()
			errA <- db.Update(ctxA, func(tx *store.Tx) error {
				close(ranA)
				return tx.InsertTip(newTip(s.ID, fmt.Sprintf("a%d", attempt), false, time.Time{}), nil)
			})
		}()
		select {
		case <-ranA:
		case <-time.After(time.Minute):
			t.Fatal("the first job did not run while the second was announced")
		}
		err := db.Update(ctxB, func(tx *store.Tx) error {
			return tx.InsertTip(newTip(s.ID, fmt.Sprintf("b%d", attempt), false, time.Time{}), nil)
		})
		arriveB()
		if err != nil {
			t.Fatal(err)
		}
		if err := <-errA; err != nil {
			t.Fatal(err)
		}
		shared = db.Stats().Commits-before.Commits == 1
	}
	if !shared {
		t.Fatal("a job that arrived while its group was open never joined the group's commit")
	}
}

// In a group that grows job by job, a job that fails rolls back alone,
// before and after others joined it.
func TestGrowingGroupFailsJobsAlone(t *testing.T) {
	db := MustOpenDB(t)
	s := mustSchool(t, db, "gg")
	db.MaxLinger = time.Minute
	const n = 6
	ctxs := make([]context.Context, n)
	arrives := make([]func(), n)
	for i := range n {
		ctxs[i], arrives[i] = db.Expect(context.Background())
	}
	errs := make([]error, n)
	dones := make([]chan struct{}, n)
	for i := range n {
		// One after the other: each job is queued once the one before
		// it has been answered or has run.
		ran := make(chan struct{})
		done := make(chan struct{})
		dones[i] = done
		go func() {
			defer close(done)
			defer arrives[i]()
			errs[i] = db.Update(ctxs[i], func(tx *store.Tx) error {
				close(ran)
				if err := tx.InsertTip(newTip(s.ID, fmt.Sprintf("g%d", i), false, time.Time{}), nil); err != nil {
					return err
				}
				if i%2 == 1 {
					return errors.New("job fails after its insert")
				}
				return nil
			})
		}()
		select {
		case <-ran:
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("job %d did not run", i)
		}
	}
	for _, done := range dones {
		<-done
	}
	tips, err := db.Tips(context.Background(), `WHERE school_id = ?`, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tips) != n/2 {
		t.Fatalf("got %d tips, want %d", len(tips), n/2)
	}
	for i, err := range errs {
		if (i%2 == 1) != (err != nil) {
			t.Fatalf("job %d: err = %v", i, err)
		}
	}
}
