package webchat

import (
	"testing"
	"time"
)

// TestBucketRateAndBurst: a fresh bucket holds its burst, refills at its
// rate on the server's clock, never above the burst, and a clock that steps
// back gives nothing.
func TestBucketRateAndBurst(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	b := newBucket(2, 3, func() time.Time { return now })
	take := func() int {
		n := 0
		for b.allow() {
			n++
		}
		return n
	}
	if got := take(); got != 3 {
		t.Fatalf("fresh bucket allowed %d, want the burst 3", got)
	}
	now = now.Add(time.Second)
	if got := take(); got != 2 {
		t.Fatalf("after 1s at 2/s allowed %d, want 2", got)
	}
	now = now.Add(time.Hour)
	if got := take(); got != 3 {
		t.Fatalf("after an hour allowed %d, want the burst 3", got)
	}
	now = now.Add(-time.Minute)
	if got := take(); got != 0 {
		t.Fatalf("after the clock stepped back allowed %d, want 0", got)
	}
	now = now.Add(time.Minute + 500*time.Millisecond)
	if got := take(); got != 1 {
		t.Fatalf("0.5s past the last take allowed %d, want 1", got)
	}

	var zero bucket
	zero.init(0, 1, func() time.Time { return now })
	if !zero.allow() || zero.allow() {
		t.Fatal("a zero-rate bucket must allow its burst once, then nothing")
	}
}
