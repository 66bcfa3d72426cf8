package webchat

import (
	"time"

	"golang.org/x/time/rate"
)

// bucket is a token bucket: rate tokens a second, at most burst saved up,
// full at the start. It wraps golang.org/x/time/rate and asks it with the
// server's clock, so tests that move Server.Now move the limits too. One
// lives in every connection.
type bucket struct {
	lim *rate.Limiter
	now func() time.Time
}

func newBucket(r float64, burst int, now func() time.Time) *bucket {
	b := &bucket{}
	b.init(r, burst, now)
	return b
}

func (b *bucket) init(r float64, burst int, now func() time.Time) {
	b.lim, b.now = rate.NewLimiter(rate.Limit(r), burst), now
}

// allow takes a token if there is one.
func (b *bucket) allow() bool {
	return b.lim.AllowN(b.now(), 1)
}
