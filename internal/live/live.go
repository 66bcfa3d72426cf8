// Package live fans out content-free change notices (a tip of school S
// changed) to the pages and chat sessions that show them. It is in-memory,
// for one process; several instances on PostgreSQL would carry the same
// notices over LISTEN/NOTIFY.
package live

import (
	"sync"

	"hotline/internal/hotline"
)

// Broker delivers changes to subscribers of a school or of one tip.
type Broker struct {
	mu      sync.Mutex
	next    int
	schools map[int64]map[int]chan hotline.Change
	tips    map[string]map[int]chan hotline.Change
	all     map[int]chan hotline.Change
}

var _ hotline.Notifier = (*Broker)(nil)

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{schools: map[int64]map[int]chan hotline.Change{}, tips: map[string]map[int]chan hotline.Change{}, all: map[int]chan hotline.Change{}}
}

// Subscription is a stream of changes; Cancel ends it.
type Subscription struct {
	C      <-chan hotline.Change
	cancel func()
}

// Cancel stops the subscription and closes its channel.
func (s *Subscription) Cancel() { s.cancel() }

// SubscribeSchool streams changes of a school's tips.
func (b *Broker) SubscribeSchool(schoolID int64) *Subscription {
	return b.subscribe(func(id int, ch chan hotline.Change) func() {
		if b.schools[schoolID] == nil {
			b.schools[schoolID] = map[int]chan hotline.Change{}
		}
		b.schools[schoolID][id] = ch
		return func() {
			delete(b.schools[schoolID], id)
			if len(b.schools[schoolID]) == 0 {
				delete(b.schools, schoolID)
			}
		}
	})
}

// SubscribeTip streams changes of one tip (a reporter's open chat page).
func (b *Broker) SubscribeTip(uid string) *Subscription {
	return b.subscribe(func(id int, ch chan hotline.Change) func() {
		if b.tips[uid] == nil {
			b.tips[uid] = map[int]chan hotline.Change{}
		}
		b.tips[uid][id] = ch
		return func() {
			delete(b.tips[uid], id)
			if len(b.tips[uid]) == 0 {
				delete(b.tips, uid)
			}
		}
	})
}

// SubscribeAll streams every change (district views, alerting).
func (b *Broker) SubscribeAll() *Subscription {
	return b.subscribe(func(id int, ch chan hotline.Change) func() {
		b.all[id] = ch
		return func() { delete(b.all, id) }
	})
}

func (b *Broker) subscribe(add func(int, chan hotline.Change) func()) *Subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	ch := make(chan hotline.Change, 64)
	remove := add(b.next, ch)
	var once sync.Once
	return &Subscription{C: ch, cancel: func() {
		once.Do(func() {
			b.mu.Lock()
			remove()
			b.mu.Unlock()
			close(ch)
		})
	}}
}

// Notify delivers c to its subscribers without blocking: a subscriber that
// is too slow misses notices, and re-reads state on the next one.
func (b *Broker) Notify(c hotline.Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	send := func(m map[int]chan hotline.Change) {
		for _, ch := range m {
			select {
			case ch <- c:
			default:
			}
		}
	}
	send(b.schools[c.SchoolID])
	send(b.tips[c.TipUID])
	send(b.all)
}
