package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/cluster"
	"hotline/internal/hotline"
	"hotline/internal/live"
	"hotline/internal/pgtest"
	"hotline/internal/store"
)

func TestMain(m *testing.M) {
	cluster.Poll = 200 * time.Millisecond
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

type node struct {
	db     *store.DB
	broker *live.Broker
	c      *cluster.Cluster
	cancel context.CancelFunc
}

func start(t *testing.T, dsn string) *node {
	t.Helper()
	db, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	n := &node{db: db, broker: live.NewBroker(), cancel: cancel}
	n.c = cluster.New(db, n.broker, nil)
	if err := n.c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.c.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("listener not ready")
	}
	return n
}

// thisDatabase keeps a pg_locks query to the test's database: advisory
// locks of the same key are taken in other databases of a shared server
// by tests running beside these.
const thisDatabase = `database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// waitFor polls cond until it holds; it bounds nothing but a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leaders(ns ...*node) (n int, who *node) {
	for _, x := range ns {
		if x.c.IsLeader() {
			n++
			who = x
		}
	}
	return n, who
}

// TestLeaderMoves: of three nodes exactly one leads; when it goes away
// (its lock connection closes, as a killed process's does) another takes
// over, and a node whose lock connection is cut by the server steps down.
func TestLeaderMoves(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b, c := start(t, dsn), start(t, dsn), start(t, dsn)
	waitFor(t, "one leader", func() bool { n, _ := leaders(a, b, c); return n == 1 })
	_, first := leaders(a, b, c)
	started, stopped := make(chan struct{}), make(chan struct{})
	go first.c.Lead(context.Background(), "test", func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		close(stopped)
	})
	<-started
	first.cancel()
	<-stopped // the led work ends with the lead
	waitFor(t, "the old leader steps down", func() bool { return !first.c.IsLeader() })
	rest := []*node{}
	for _, x := range []*node{a, b, c} {
		if x != first {
			rest = append(rest, x)
		}
	}
	waitFor(t, "another leader", func() bool { n, _ := leaders(rest...); return n == 1 })
	_, second := leaders(rest...)

	// The server cuts the leader's lock connection: it must stop leading
	// (it can no longer know it holds the lock) and someone leads again.
	var pids []int64
	if err := second.db.Reader().Select(&pids, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ? AND `+thisDatabase, int64(cluster.LockLeader&0xffffffff)); err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 {
		t.Fatalf("%d holders of the leader lock, want 1", len(pids))
	}
	admin, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Writer().Exec(`SELECT pg_terminate_backend(?)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a leader after the cut", func() bool {
		n, _ := leaders(rest...)
		var holders int
		admin.Reader().Get(&holders, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = ? AND `+thisDatabase, int64(cluster.LockLeader&0xffffffff))
		return n == 1 && holders == 1
	})
}

// TestNoticesOnCommitOnly: a notice sent in a transaction reaches every
// node's broker once it commits, and never when it rolls back.
func TestNoticesOnCommitOnly(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b := start(t, dsn), start(t, dsn)
	sub := b.broker.SubscribeAll()
	defer sub.Cancel()
	own := a.broker.SubscribeAll()
	defer own.Cancel()
	ctx := context.Background()
	errNo := errors.New("no")
	err := a.db.Update(ctx, func(tx *store.Tx) error {
		if err := store.NotifyOnCommit(tx, a.c, hotline.Change{Kind: hotline.ChangeNewTip, SchoolID: 1, TipUID: "rolled-back"}); err != nil {
			return err
		}
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Fatal(err)
	}
	if err := a.db.Update(ctx, func(tx *store.Tx) error {
		return store.NotifyOnCommit(tx, a.c, hotline.Change{Kind: hotline.ChangeReply, SchoolID: 1, TipUID: "committed", Urgent: true})
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*live.Subscription{sub, own} {
		select {
		case c := <-s.C:
			if c.TipUID != "committed" || c.Kind != hotline.ChangeReply || !c.Urgent || c.SchoolID != 1 {
				t.Fatalf("got %+v, want the committed notice", c)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no notice")
		}
	}
	// Outside a transaction too.
	a.c.Notify(hotline.Change{Kind: hotline.ChangeDelivery, TipUID: "after"})
	select {
	case c := <-sub.C:
		if c.TipUID != "after" {
			t.Fatalf("got %+v", c)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no notice")
	}
}

// TestSQLiteSingleNode: on SQLite the node leads at once and notices go to
// its own broker after commit.
func TestSQLiteSingleNode(t *testing.T) {
	n := start(t, filepath.Join(t.TempDir(), "h.db"))
	if !n.c.IsLeader() {
		t.Fatal("the only node does not lead")
	}
	sub := n.broker.SubscribeAll()
	defer sub.Cancel()
	errNo := errors.New("no")
	n.db.Update(context.Background(), func(tx *store.Tx) error {
		store.NotifyOnCommit(tx, n.c, hotline.Change{Kind: hotline.ChangeNewTip, TipUID: "rolled-back"})
		return errNo
	})
	n.db.Update(context.Background(), func(tx *store.Tx) error {
		return store.NotifyOnCommit(tx, n.c, hotline.Change{Kind: hotline.ChangeNewTip, TipUID: "committed"})
	})
	if c := <-sub.C; c.TipUID != "committed" {
		t.Fatalf("got %+v", c)
	}
	led := make(chan struct{})
	go n.c.Lead(context.Background(), "x", func(ctx context.Context) { close(led); <-ctx.Done() })
	<-led
}

// TestKeyLockAcrossNodes: a chat's lock taken on one node holds another
// node's events of that chat until it is released, or its node dies.
func TestKeyLockAcrossNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a, b := start(t, dsn), start(t, dsn)
	ctx := context.Background()
	key := []byte("chat-mac-0123456789")
	unlock, err := a.db.LockKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan string, 4)
	go func() {
		un, err := b.db.LockKey(ctx, key)
		if err != nil {
			events <- "error: " + err.Error()
			return
		}
		events <- "b in"
		un()
	}()
	// Another key is not held up.
	other, err := b.db.LockKey(ctx, []byte("another-chat-mac"))
	if err != nil {
		t.Fatal(err)
	}
	other()
	time.Sleep(300 * time.Millisecond) // room for a broken lock to let b in
	events <- "a done"
	unlock()
	if first, second := <-events, <-events; first != "a done" || second != "b in" {
		t.Fatalf("order %q, %q: b ran while a held the chat", first, second)
	}

	// A holder whose node dies (its connection is gone) releases the lock.
	if _, err := a.db.LockKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		un, err := b.db.LockKey(ctx, key)
		if err == nil {
			un()
		}
		got <- err
	}()
	var pids []int64
	if err := b.db.Reader().Select(&pids, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ? AND `+thisDatabase, 0x686c); err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 {
		t.Fatalf("%d holders, want 1", len(pids))
	}
	if _, err := b.db.Writer().Exec(`SELECT pg_terminate_backend(?)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
