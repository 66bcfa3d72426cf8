package store

import (
	"context"
	"database/sql"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxStmts bounds the writer's statement cache: the store's write
// statements are a few dozen fixed strings, but a caller building SQL with
// a variable shape must not grow it without end.
const maxStmts = 256

// stmt returns the writer's prepared statement for query, or nil when it
// is not prepared yet: it is then noted and prepared after the current
// commit (prepareMissed), because the one writer connection is busy with
// the transaction now. So every write statement, not only the hot ones
// prepared at open, is parsed about once per process rather than once per
// transaction. Only the writer goroutine calls these (Tx.exec runs inside
// a commit), so the maps need no lock.
func (db *DB) stmt(query string) *sql.Stmt {
	if st, ok := db.stmts[query]; ok {
		return st
	}
	if len(db.stmts)+len(db.missed) < maxStmts {
		if db.missed == nil {
			db.missed = map[string]bool{}
		}
		db.missed[query] = true
	}
	return nil
}

// prepareMissed prepares the statements a commit ran unprepared, while the
// writer connection is free between transactions. A statement that does
// not prepare (it failed in its transaction too) is left unprepared.
func (db *DB) prepareMissed() {
	for q := range db.missed {
		delete(db.missed, q)
		if st, err := db.writer.PrepareContext(context.Background(), db.writer.Rebind(q)); err == nil {
			db.stmts[q] = st
		}
	}
}

// readCache runs read queries through statements prepared once on the read
// pool (database/sql prepares each on a pooled connection when first used
// there and keeps it), so that the reads every page view and every reply
// sync make (a tip by receipt or uid, a thread's newest messages) are not
// parsed again each time: on a busy 2-core machine the parsing was a
// larger share of a reply's way to the page than the reads themselves.
// It implements sqlx.QueryerContext; queries are written with ? and
// rebound for the pool's driver.
type readCache struct {
	db    *sqlx.DB
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
}

func (c *readCache) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	c.mu.Lock()
	st, ok := c.stmts[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := c.db.PreparexContext(ctx, c.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		st.Close()
		return old, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sqlx.Stmt{}
	}
	if len(c.stmts) < maxStmts {
		c.stmts[query] = st
	}
	return st, nil
}

func (c *readCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *readCache) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryxContext(ctx, args...)
}

func (c *readCache) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		// sqlx.Row carries its error; let the pool report it the same way.
		return c.db.QueryRowxContext(ctx, c.db.Rebind(query), args...)
	}
	return st.QueryRowxContext(ctx, args...)
}

func (c *readCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
