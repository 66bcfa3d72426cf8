package webchat

import (
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst saved up.
// It is small on purpose: one lives in every connection.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newBucket(rate float64, burst int, now func() time.Time) *bucket {
	b := &bucket{}
	b.init(rate, burst, now)
	return b
}

func (b *bucket) init(rate float64, burst int, now func() time.Time) {
	b.rate, b.burst, b.tokens, b.now = rate, float64(burst), float64(burst), now
	b.last = now()
}

// allow takes a token if there is one.
func (b *bucket) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	b.tokens += t.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
