package store

import (
	"context"
	"database/sql"
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
