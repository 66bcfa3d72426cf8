package vault

import (
	"context"
	"sync"
)

// kdfPool bounds the argon2id derivations that run at once. Waiters are
// served in order, except that those marked first (a log-in from a
// browser the account knows, see First) go ahead of every other waiter:
// a flood of guesses from new browsers, however long its queue, never
// keeps the staff out of the browsers they used before.
type kdfPool struct {
	mu          sync.Mutex
	free        int
	first, rest []chan struct{} // waiters in order; a closed channel is a granted slot
}

func newKDFPool(n int) *kdfPool { return &kdfPool{free: n} }

// acquire waits for a slot or ctx's end.
func (p *kdfPool) acquire(ctx context.Context, first bool) error {
	p.mu.Lock()
	if p.free > 0 && len(p.first) == 0 && (first || len(p.rest) == 0) {
		p.free--
		p.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	if first {
		p.first = append(p.first, ch)
	} else {
		p.rest = append(p.rest, ch)
	}
	p.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		removed := remove(&p.first, ch) || remove(&p.rest, ch)
		p.mu.Unlock()
		if !removed {
			// The slot was granted as ctx ended: pass it on.
			p.release()
		}
		return ctx.Err()
	}
}

// release hands the slot to the next waiter, first ones first.
func (p *kdfPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range []*[]chan struct{}{&p.first, &p.rest} {
		if len(*q) > 0 {
			ch := (*q)[0]
			*q = (*q)[1:]
			close(ch)
			return
		}
	}
	p.free++
}

func remove(q *[]chan struct{}, ch chan struct{}) bool {
	for i, c := range *q {
		if c == ch {
			*q = append((*q)[:i], (*q)[i+1:]...)
			return true
		}
	}
	return false
}

type firstKey struct{}

// First marks ctx's password derivations to go ahead of every other
// caller waiting for the argon2id pool. Staff log-ins from a browser the
// account knows use it; nothing a stranger can send should.
func First(ctx context.Context) context.Context { return context.WithValue(ctx, firstKey{}, true) }

func isFirst(ctx context.Context) bool { v, _ := ctx.Value(firstKey{}).(bool); return v }
