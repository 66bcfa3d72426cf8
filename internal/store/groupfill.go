package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit that fills. Callers that seal or encode before Update
// announce their job first (Expect); when the writer starts a batch and
// announced jobs are still on their way, it waits for them a little
// (MaxLinger at most) instead of committing the few that happen to be
// queued, so that one fsync carries everyone who was already working on a
// write. A caller alone never waits: nothing else is announced.

// DefaultMaxLinger is how long the writer waits, at most, for announced
// jobs in one batch; each wait for the next of them is bounded by lingerGap.
// Announced jobs arrive at the pace their callers seal (on a loaded 2-core
// machine 16 sealers take a few milliseconds in all); a caller that stalls
// (a photo being re-encoded) holds the others up by lingerGap at most.
const DefaultMaxLinger = 5 * time.Millisecond

const lingerGap = 2 * time.Millisecond

type expectKey struct{}

type expectation struct {
	once sync.Once
	db   *DB
}

func (e *expectation) arrive() {
	e.once.Do(func() { e.db.coming.Add(-1) })
}

// Expect announces a job that will reach Update soon, and returns ctx to
// pass to that Update, and a function to call when the job will not come
// (an early error) — calling it after the Update is harmless. Update marks
// the job arrived as soon as it is queued.
func (db *DB) Expect(ctx context.Context) (context.Context, func()) {
	e := &expectation{db: db}
	db.coming.Add(1)
	return context.WithValue(ctx, expectKey{}, e), e.arrive
}

// arrived marks the job of ctx as queued, if it was announced.
func arrived(ctx context.Context) {
	if e, _ := ctx.Value(expectKey{}).(*expectation); e != nil {
		e.arrive()
	}
}

// announced reports whether the job of ctx was announced (Expect).
func announced(ctx context.Context) bool {
	_, ok := ctx.Value(expectKey{}).(*expectation)
	return ok
}

// fill adds to batch every job already queued, then, if the batch carries
// an announced job, waits for more while announced jobs are on their way,
// or while the batch has fewer announced jobs than the last one had: the callers just answered are likely sealing
// their next job and have not announced it yet (a busy intake's submitters
// come back). Each wait for the next job is bounded by lingerGap, all of
// them by MaxLinger; when a wait runs out, the next batch expects fewer.
func (db *DB) fill(batch []*job) []*job {
	var end time.Time
	expected := 0
	for _, j := range batch {
		if j.expected {
			expected++
		}
	}
	defer func() { db.lastExpected = expected }()
	for len(batch) < db.MaxBatch {
		select {
		case j := <-db.jobs:
			batch = append(batch, j)
			if j.expected {
				expected++
			}
			continue
		default:
		}
		// Only a batch that carries an announced job waits: a reply (not
		// announced) that starts a batch is committed at once.
		if db.MaxLinger <= 0 || expected == 0 || (db.coming.Load() <= 0 && expected >= db.lastExpected) {
			return batch
		}
		now := time.Now()
		if end.IsZero() {
			end = now.Add(db.MaxLinger)
		}
		wait := min(lingerGap, end.Sub(now))
		if wait <= 0 {
			return batch
		}
		t := time.NewTimer(wait)
		select {
		case j := <-db.jobs:
			t.Stop()
			batch = append(batch, j)
			if j.expected {
				expected++
			}
		case <-t.C:
			return batch
		case <-db.closing:
			t.Stop()
			return batch
		}
	}
	return batch
}

// comingJobs is the number of announced jobs not queued yet.
type comingJobs = atomic.Int64
