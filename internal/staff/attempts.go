package staff

import (
	"context"
	"sync"
)

// attemptLocks lets one log-in attempt at a time per failure counter run
// from admission to outcome. The database counts each attempt before its
// derivation, so attempts sent at once cannot outrun the lock; running them
// one at a time as well means that a correct password, which takes its
// attempt back, is never refused for the owner's own attempts still in
// flight, and that queued guesses meet the lock the first ones set.
type attemptLocks struct {
	mu sync.Mutex
	m  map[string]*attemptLock
}

type attemptLock struct {
	ch      chan struct{} // holds a token while an attempt runs
	waiters int
}

// lock waits for key's turn (or ctx's end) and returns its release.
func (l *attemptLocks) lock(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*attemptLock{}
	}
	a := l.m[key]
	if a == nil {
		a = &attemptLock{ch: make(chan struct{}, 1)}
		l.m[key] = a
	}
	a.waiters++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		if a.waiters--; a.waiters == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case a.ch <- struct{}{}:
		return func() { <-a.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
