package relay

import (
	"testing"
	"time"
)

func TestBackoffGrowsWithJitterAndCap(t *testing.T) {
	w := &Worker{BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute}
	w.init()
	for attempts, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		for range 50 {
			if got := w.backoff(attempts); got < want/2 || got > want {
				t.Fatalf("backoff(%d): got %s, want within [%s, %s]", attempts, got, want/2, want)
			}
		}
	}
	for _, attempts := range []int{9, 30, 1000} {
		if got := w.backoff(attempts); got < w.MaxBackoff/2 || got > w.MaxBackoff {
			t.Fatalf("backoff(%d): got %s, want capped near %s", attempts, got, w.MaxBackoff)
		}
	}
}
