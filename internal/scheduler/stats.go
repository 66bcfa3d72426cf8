package scheduler

import (
	"sync/atomic"
	"time"
)

// SchedulerStats is what operations may see of the scheduler: whether its
// passes run and keep up, and how many deadlines were missed. No school,
// no case.
type SchedulerStats struct {
	Passes         int64
	FailedPasses   int64
	LastPassEnd    time.Time     // zero before the first pass
	LastPass       time.Duration // how long the last pass took
	TotalPass      time.Duration // how long every pass took, together
	DeadlineMisses int64         // recorded by passes since start
}

// schedulerCounters are the running counts behind Stats.
type schedulerCounters struct {
	passes, failed, misses atomic.Int64
	lastEnd, lastDur       atomic.Int64 // unix nanoseconds, nanoseconds
	totalDur               atomic.Int64 // nanoseconds
}

func (c *schedulerCounters) pass(start time.Time, err error) {
	end := time.Now()
	c.passes.Add(1)
	if err != nil {
		c.failed.Add(1)
	}
	c.lastDur.Store(int64(end.Sub(start)))
	c.totalDur.Add(int64(end.Sub(start)))
	c.lastEnd.Store(end.UnixNano())
}

// Stats returns the counts since the scheduler started. Times are the
// machine's, not the database clock's.
func (sc *Scheduler) Stats() SchedulerStats {
	c := &sc.counters
	s := SchedulerStats{
		Passes:         c.passes.Load(),
		FailedPasses:   c.failed.Load(),
		LastPass:       time.Duration(c.lastDur.Load()),
		TotalPass:      time.Duration(c.totalDur.Load()),
		DeadlineMisses: c.misses.Load(),
	}
	if ns := c.lastEnd.Load(); ns != 0 {
		s.LastPassEnd = time.Unix(0, ns)
	}
	return s
}
