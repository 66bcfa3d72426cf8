package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit that fills. Callers that seal or encode before Update
// announce their job first (Expect); when the writer has run the jobs of
// a group and announced jobs are still on their way, it waits for them a
// little (MaxLinger at most) before committing, instead of committing the
// few that happened to be queued, so that one fsync carries everyone who
// was already working on a write. A caller alone never waits: nothing
// else is announced.

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

// group is the batch of one commit as it grows: the writer runs each job
// as soon as it has it, and takes the next one while announced jobs are
// on their way. So the writer's statements run while the other callers
// are still sealing, instead of after a wait for all of them.
type group struct {
	db       *DB
	jobs     []*job
	expected int       // announced jobs among jobs
	end      time.Time // the linger's deadline, once it has started
}

func (db *DB) newGroup(first *job) *group {
	g := &group{db: db}
	g.add(first)
	return g
}

func (g *group) add(j *job) {
	g.jobs = append(g.jobs, j)
	if j.expected {
		g.expected++
	}
}

// lingers reports whether the group should wait for another job: only a
// group that carries an announced job waits (a reply that starts a group
// is committed at once), while announced jobs are on their way, or while
// it has fewer announced jobs than the last group had (the callers just
// answered are likely sealing their next job and have not announced it
// yet: a busy intake's submitters come back).
func (g *group) lingers() bool {
	db := g.db
	return db.MaxLinger > 0 && g.expected > 0 && (db.coming.Load() > 0 || g.expected < db.lastExpected)
}

// grows reports whether the group may take more than the jobs it has: a
// job run alone needs no savepoint.
func (g *group) grows() bool {
	if len(g.jobs) > 1 {
		return true
	}
	select {
	case j := <-g.db.jobs:
		g.add(j)
		return true
	default:
	}
	return g.lingers()
}

// next returns the group's next job, once the ones it has have run: one
// already queued, or, while the group lingers, the next to arrive. Each
// wait is bounded by lingerGap, all of them by MaxLinger; nil ends the
// group.
func (g *group) next() *job {
	db := g.db
	if len(g.jobs) >= db.MaxBatch {
		return nil
	}
	select {
	case j := <-db.jobs:
		g.add(j)
		return j
	default:
	}
	if !g.lingers() {
		return nil
	}
	now := time.Now()
	if g.end.IsZero() {
		g.end = now.Add(db.MaxLinger)
	}
	wait := min(lingerGap, g.end.Sub(now))
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case j := <-db.jobs:
		g.add(j)
		return j
	case <-t.C:
	case <-db.closing:
	}
	return nil
}

// comingJobs is the number of announced jobs not queued yet.
type comingJobs = atomic.Int64
