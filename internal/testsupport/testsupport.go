// Package testsupport holds what tests across the repository share: a
// clock they move by hand, a buffer many goroutines log into, and the
// opening of a test database on the engine of the run (SQLite or
// PostgreSQL, see internal/pgtest). Only tests import it.
package testsupport

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hotline/internal/pgtest"
	"hotline/internal/store"
)

// Clock is a clock that stands still until the test sets or moves it;
// safe for concurrent use, as the code under test reads it from its own
// goroutines.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// SyncBuffer is a bytes.Buffer that many goroutines may write (a logger's
// output) while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// OpenStore opens a fresh, migrated database on the engine of the run and
// closes it when the test ends: a SQLite file in a temp dir, or a
// PostgreSQL database of its own.
func OpenStore(tb testing.TB) *store.DB {
	tb.Helper()
	return OpenStoreAt(tb, filepath.Join(tb.TempDir(), "hotline.db"))
}

// OpenStoreAt is OpenStore for the SQLite file path (on PostgreSQL, the
// database that stands for path in this test: opening the same path again
// reopens the same database, as a restart does).
func OpenStoreAt(tb testing.TB, path string) *store.DB {
	tb.Helper()
	db, err := store.Open(pgtest.DB(tb, path))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// EnvBenchSmall, set to 1, makes benchmarks seed a small data set: CI runs
// every benchmark once that way (make bench-smoke), so that a broken
// benchmark fails there, while people measuring get the full size.
const EnvBenchSmall = "HOTLINE_BENCH_SMALL"

// BenchSize is full, or small when EnvBenchSmall is set.
func BenchSize(full, small int) int {
	if os.Getenv(EnvBenchSmall) == "1" {
		return small
	}
	return full
}
