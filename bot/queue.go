package bot

import (
	"context"
	"sync"
)

// job is one update waiting for its chat's turn.
type job struct {
	chat int64
	run  func()
}

// chatQueue holds one chat's waiting updates in arrival order.
type chatQueue struct {
	chat    int64
	jobs    []job
	running bool // a worker owns the chat; nobody else may run its jobs
}

// queue keeps each chat's updates in order while different chats run in
// parallel on a fixed pool of workers. The library would otherwise run every
// update in its own goroutine, in no order: a reporter's "send" could
// overtake the text before it. It is bounded: when full, Push waits, which
// in turn stops fetching updates from Telegram (they stay there, safe).
type queue struct {
	mu      sync.Mutex
	space   *sync.Cond // signalled when a job leaves
	work    *sync.Cond // signalled when a chat becomes ready, or on close
	chats   map[int64]*chatQueue
	ready   []*chatQueue
	queued  int
	perChat int
	max     int
	closed  bool
	wg      sync.WaitGroup
}

func newQueue(workers, perChat, max int) *queue {
	q := &queue{chats: map[int64]*chatQueue{}, perChat: perChat, max: max}
	q.space = sync.NewCond(&q.mu)
	q.work = sync.NewCond(&q.mu)
	q.wg.Add(workers)
	for range workers {
		go q.worker()
	}
	return q
}

// Push queues j behind its chat's earlier jobs. It waits while the queue is
// full; it returns false if ctx ends first or the queue is closed.
func (q *queue) Push(ctx context.Context, j job) bool {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.space.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed || ctx.Err() != nil {
			return false
		}
		c := q.chats[j.chat]
		if q.queued < q.max && (c == nil || len(c.jobs) < q.perChat) {
			break
		}
		q.space.Wait()
	}
	c := q.chats[j.chat]
	if c == nil {
		c = &chatQueue{chat: j.chat}
		q.chats[j.chat] = c
	}
	c.jobs = append(c.jobs, j)
	q.queued++
	if !c.running && len(c.jobs) == 1 {
		q.ready = append(q.ready, c)
		q.work.Signal()
	}
	return true
}

// worker runs one job of a ready chat at a time, then puts the chat at the
// back of the line if it has more, so that one busy chat cannot starve the
// others.
func (q *queue) worker() {
	defer q.wg.Done()
	q.mu.Lock()
	for {
		for len(q.ready) == 0 {
			if q.closed {
				q.mu.Unlock()
				return
			}
			q.work.Wait()
		}
		c := q.ready[0]
		q.ready[0] = nil
		q.ready = q.ready[1:]
		c.running = true
		j := c.jobs[0]
		q.mu.Unlock()

		j.run()

		q.mu.Lock()
		c.jobs[0] = job{}
		c.jobs = c.jobs[1:]
		c.running = false
		q.queued--
		if len(c.jobs) > 0 {
			q.ready = append(q.ready, c)
			q.work.Signal()
		} else {
			delete(q.chats, c.chat)
		}
		q.space.Broadcast()
	}
}

// Close stops taking jobs and waits until every queued job has run.
func (q *queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.work.Broadcast()
	q.space.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
}

// Len returns how many jobs wait or run.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued
}
