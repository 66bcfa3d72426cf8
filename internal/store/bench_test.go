package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// BenchmarkGroupCommit measures Update with concurrent callers, each job
// appending one ledger event, so that the cost of the per-job savepoints
// of a group commit shows beside the commit itself. It reports µs per job
// and how many jobs shared a commit.
func BenchmarkGroupCommit(b *testing.B) {
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", n), func(b *testing.B) {
			db := MustOpenDB(b)
			s := mustSchool(b, db, "bench")
			var next atomic.Int64
			before := db.Stats()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < n; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						err := db.Update(context.Background(), func(tx *store.Tx) error {
							return tx.AppendEvent(&hotline.Event{SchoolID: s.ID, Kind: hotline.EventHeadRecorded, Detail: "bench"})
						})
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			after := db.Stats()
			b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N), "µs/job")
			b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(max(1, after.Commits-before.Commits)), "jobs/commit")
		})
	}
}
