package relay

import "sync/atomic"

// Stats counts delivery attempts since the worker started, by outcome:
// no chat, no content.
type Stats struct {
	Delivered int64
	// Failures by kind: a row that cannot be opened, a chat that blocked
	// the bot, a reply the channel refused, a rate limit, and anything
	// else (retried with backoff).
	Unopenable  int64
	Unreachable int64
	Rejected    int64
	RateLimited int64
	Transient   int64
}

// counters are the running counts behind Stats.
type counters struct {
	delivered, unopenable, unreachable, rejected, rateLimited, transient atomic.Int64
}

// Stats returns the counts since the worker started.
func (w *Worker) Stats() Stats {
	c := &w.counters
	return Stats{
		Delivered:   c.delivered.Load(),
		Unopenable:  c.unopenable.Load(),
		Unreachable: c.unreachable.Load(),
		Rejected:    c.rejected.Load(),
		RateLimited: c.rateLimited.Load(),
		Transient:   c.transient.Load(),
	}
}
