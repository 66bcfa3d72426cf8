// Package cluster is what several `hotline serve` nodes on one PostgreSQL
// share beyond the tables: who leads (a session advisory lock held on a
// dedicated connection, so the leader role moves within seconds when its
// node dies) and a bus of content-free change notices (LISTEN/NOTIFY, sent
// inside the writing transaction so they fire only on commit). On SQLite
// there is one node: it always leads, and notices stay in the process.
//
// A notice carries what hotline.Change carries (a kind, a school id, a
// tip's and a message's random uid, the urgency flag): never content, never
// a chat id. It never logs a payload.
package cluster

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"hotline/internal/hotline"
	"hotline/internal/live"
	"hotline/internal/store"
)

// Channel is the PostgreSQL notification channel of change notices.
const Channel = "hotline_changes"

// LockLeader is the advisory lock key the leader holds ("hotline" 02; the
// store's migration lock is 01).
const LockLeader int64 = 0x686f746c696e6502

// Poll is how often a follower tries to take the lead, and the leader
// checks that its lock connection is alive.
var Poll = time.Second

// Cluster is this node's membership: its bus and its bid for the lead.
type Cluster struct {
	DB     *store.DB
	Broker *live.Broker // where notices from every node are delivered
	Logger *slog.Logger

	pg     bool
	pool   *sql.DB // notices sent outside a transaction (PostgreSQL)
	leader atomic.Bool

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
	c := &Cluster{DB: db, Broker: broker, Logger: logger, pg: db.Engine() == store.Postgres, leadChan: make(chan struct{}), ready: make(chan struct{})}
	return c
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

// NotifyTx publishes c when tx commits: on PostgreSQL by pg_notify inside
// tx, to every node (this one hears it back through its listener); on
// SQLite to this process's broker after the commit.
func (c *Cluster) NotifyTx(tx *store.Tx, ch hotline.Change) error {
	if !c.pg {
		tx.AfterCommit(func() { c.Broker.Notify(ch) })
		return nil
	}
	return tx.PGNotify(Channel, encode(ch))
}

// Notify publishes c now, for work that has committed already (a
// delivery's outcome recorded by its own transaction).
func (c *Cluster) Notify(ch hotline.Change) {
	if !c.pg || c.pool == nil { // SQLite, or not running (a command, not a server)
		c.Broker.Notify(ch)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.pool.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, encode(ch)); err != nil {
		// The notice is a hint; pages and workers also poll.
		c.Logger.Warn("cluster: notify", "err", err)
		c.Broker.Notify(ch)
	}
}

// Run starts the listener and the bid for the lead, until ctx ends. On
// SQLite this node leads at once.
func (c *Cluster) Run(ctx context.Context) error {
	if !c.pg {
		c.readyMu.Do(func() { close(c.ready) })
		c.setLeader(ctx, true)
		go func() {
			<-ctx.Done()
			c.setLeader(ctx, false)
		}()
		return nil
	}
	cfg, err := pgx.ParseConfig(c.DB.DSN)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.pool = stdlib.OpenDB(*cfg)
	c.pool.SetMaxOpenConns(2)
	go func() {
		<-ctx.Done()
		c.pool.Close()
	}()
	go c.listen(ctx, cfg)
	go c.elect(ctx, cfg)
	return nil
}

// Ready is closed once notices from other nodes are being received.
func (c *Cluster) Ready() <-chan struct{} { return c.ready }

// listen delivers every node's notices to the broker, reconnecting after
// a lost connection. Notices sent while it was away are lost: their
// subscribers poll too (the relay, the scheduler) or re-read on the next.
func (c *Cluster) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	for ctx.Err() == nil {
		err := c.listenOnce(ctx, cfg)
		if ctx.Err() != nil {
			return
		}
		c.Logger.Warn("cluster: listener lost; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(Poll):
		}
	}
}

func (c *Cluster) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	c.readyMu.Do(func() { close(c.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if ch, ok := decode(n.Payload); ok {
			c.Broker.Notify(ch)
		}
	}
}

// elect bids for the lead every Poll on a connection of its own. The lock
// lives as long as that connection: when the leader's process dies, its
// connection closes and PostgreSQL releases the lock, and another node
// takes it at its next try. A leader that cannot reach PostgreSQL gives up
// the role at once, since it can no longer know that it holds the lock.
func (c *Cluster) elect(ctx context.Context, cfg *pgx.ConnConfig) {
	defer c.setLeader(ctx, false)
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	t := time.NewTicker(Poll)
	defer t.Stop()
	for {
		if conn == nil {
			cctx, cancel := context.WithTimeout(ctx, 5*Poll)
			conn, _ = pgx.ConnectConfig(cctx, cfg)
			cancel()
		}
		if conn != nil {
			cctx, cancel := context.WithTimeout(ctx, 3*Poll)
			var got bool
			var err error
			if c.leader.Load() {
				err = conn.Ping(cctx)
				got = err == nil
			} else {
				err = conn.QueryRow(cctx, `SELECT pg_try_advisory_lock($1)`, LockLeader).Scan(&got)
			}
			cancel()
			if err != nil {
				conn.Close(context.Background())
				conn = nil
				got = false
			}
			c.setLeader(ctx, got)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
