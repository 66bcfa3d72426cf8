// Package cluster is what several `hotline serve` nodes on one database
// share beyond the tables: who leads (the store's NodeLock, held on a
// connection of its own, so the leader role moves within seconds when its
// node dies) and a bus of content-free change notices (the store's
// Notify and Listen, sent inside the writing transaction so they fire only
// on commit). How is the store's dialect's business: on PostgreSQL an
// advisory lock and LISTEN/NOTIFY; on SQLite there is one node, which
// always leads, and notices stay in the process.
//
// A notice carries what hotline.Change carries (a kind, a school id, a
// tip's and a message's random uid, the urgency flag): never content, never
// a chat id. It never logs a payload.
package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/live"
	"hotline/internal/store"
)

// Channel is the notification channel of change notices.
const Channel = "hotline_changes"

// LockLeader is the key of the NodeLock the leader holds ("hotline" 02;
// the store's migration lock is 01).
const LockLeader int64 = 0x686f746c696e6502

// Poll is how often a follower tries to take the lead, and the leader
// checks that its lock connection is alive.
var Poll = time.Second

// Cluster is this node's membership: its bus and its bid for the lead.
type Cluster struct {
	DB     *store.DB
	Broker *live.Broker // where notices from every node are delivered
	Logger *slog.Logger

	running atomic.Bool // Run has started listening
	leader  atomic.Bool

	mu       sync.Mutex
	leadChan chan struct{} // closed and replaced on every change of role
	ready    chan struct{} // closed once the listener is listening
	readyMu  sync.Once
}

var (
	_ hotline.Notifier = (*Cluster)(nil)
	_ store.TxNotifier = (*Cluster)(nil)
)

// New returns the cluster of db; Run starts it.
func New(db *store.DB, broker *live.Broker, logger *slog.Logger) *Cluster {
	if logger == nil {
		logger = slog.Default()
	}
	return &Cluster{DB: db, Broker: broker, Logger: logger, leadChan: make(chan struct{}), ready: make(chan struct{})}
}

// notice is a Change on the wire.
type notice struct {
	Kind    hotline.ChangeKind `json:"k"`
	School  int64              `json:"s,omitempty"`
	Tip     string             `json:"t,omitempty"`
	Message string             `json:"m,omitempty"`
	Urgent  bool               `json:"u,omitempty"`
}

func encode(c hotline.Change) string {
	b, _ := json.Marshal(notice{Kind: c.Kind, School: c.SchoolID, Tip: c.TipUID, Message: c.MessageUID, Urgent: c.Urgent})
	return string(b)
}

func decode(s string) (hotline.Change, bool) {
	var n notice
	if json.Unmarshal([]byte(s), &n) != nil || n.Kind == "" {
		return hotline.Change{}, false
	}
	return hotline.Change{Kind: n.Kind, SchoolID: n.School, TipUID: n.Tip, MessageUID: n.Message, Urgent: n.Urgent}, true
}

// NotifyTx publishes c when tx commits, to every node (this one hears it
// back through its listener). Before Run, this process has no listener:
// the notice also goes to its own broker after the commit.
func (c *Cluster) NotifyTx(tx *store.Tx, ch hotline.Change) error {
	if !c.running.Load() {
		tx.AfterCommit(func() { c.Broker.Notify(ch) })
	}
	return tx.Notify(Channel, encode(ch))
}

// Notify publishes c now, for work that has committed already (a
// delivery's outcome recorded by its own transaction).
func (c *Cluster) Notify(ch hotline.Change) {
	if !c.running.Load() { // not a server (a command): no listener hears it
		c.Broker.Notify(ch)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.DB.Notify(ctx, Channel, encode(ch)); err != nil {
		// The notice is a hint; pages and workers also poll.
		c.Logger.Warn("cluster: notify", "err", err)
		c.Broker.Notify(ch)
	}
}

// Run starts the listener and the bid for the lead, until ctx ends. It
// makes the first bid before it returns: a node that finds the lead free
// (as the only node on SQLite always does) leads at once.
func (c *Cluster) Run(ctx context.Context) error {
	ready := c.DB.Listen(ctx, store.Listener{
		Channel: Channel,
		Deliver: func(payload string) {
			if ch, ok := decode(payload); ok {
				c.Broker.Notify(ch)
			}
		},
		// Notices sent while the listener was away are lost: their
		// subscribers poll too (the relay, the scheduler) or re-read on
		// the next.
		Lost:  func(err error) { c.Logger.Warn("cluster: listener lost; reconnecting", "err", err) },
		Retry: Poll,
	})
	c.running.Store(true)
	go func() {
		<-ready
		c.readyMu.Do(func() { close(c.ready) })
	}()
	lock := c.DB.NodeLock(LockLeader)
	c.bid(ctx, lock)
	go c.elect(ctx, lock)
	return nil
}

// Ready is closed once notices from other nodes are being received.
func (c *Cluster) Ready() <-chan struct{} { return c.ready }

// elect bids for the lead every Poll. The lock lives as long as its
// connection: when the leader's process dies, its connection closes and
// the lock is free, and another node takes it at its next try.
func (c *Cluster) elect(ctx context.Context, lock store.NodeLock) {
	defer c.setLeader(ctx, false)
	defer lock.Close()
	t := time.NewTicker(Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.bid(ctx, lock)
	}
}

// bid takes the lead if it is free, or checks that the leader still holds
// it. A leader that cannot reach the database gives up the role at once,
// since it can no longer know that it holds the lock.
func (c *Cluster) bid(ctx context.Context, lock store.NodeLock) {
	cctx, cancel := context.WithTimeout(ctx, 5*Poll)
	defer cancel()
	var got bool
	var err error
	if c.leader.Load() {
		err = lock.Check(cctx)
		got = err == nil
	} else {
		got, err = lock.TryLock(cctx)
	}
	c.setLeader(ctx, got && err == nil)
}

// IsLeader reports whether this node leads now.
func (c *Cluster) IsLeader() bool { return c.leader.Load() }

// Changed returns a channel closed at the next change of role.
func (c *Cluster) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leadChan
}

// Lead runs fn whenever this node leads, with a context that ends when it
// stops leading (or parent ends), until parent ends; fn must return soon
// after its context ends. It returns once parent has ended and fn has
// returned.
func (c *Cluster) Lead(parent context.Context, name string, fn func(ctx context.Context)) {
	for parent.Err() == nil {
		ch := c.Changed()
		if !c.leader.Load() {
			select {
			case <-parent.Done():
				return
			case <-ch:
			}
			continue
		}
		ctx, cancel := context.WithCancel(parent)
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.Logger.Info("cluster: leading", "part", name)
			fn(ctx)
		}()
		select {
		case <-ch:
		case <-parent.Done():
		}
		// Lost the lead (or it flapped: fn starts again from the top).
		cancel()
		<-done
		c.Logger.Info("cluster: stopped leading", "part", name)
	}
}

func (c *Cluster) setLeader(ctx context.Context, on bool) {
	if c.leader.Swap(on) == on {
		return
	}
	if on {
		c.Logger.Info("cluster: this node leads")
	} else if ctx.Err() == nil {
		c.Logger.Warn("cluster: this node lost the lead")
	}
	c.mu.Lock()
	close(c.leadChan)
	c.leadChan = make(chan struct{})
	c.mu.Unlock()
}
