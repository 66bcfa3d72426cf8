package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// lockNamespace is the first key of the two-key advisory locks LockKey
// takes ("hl"): apart from the store's and the cluster's one-key locks.
const lockNamespace = 0x686c

// keyLocks is the pool of connections that hold LockKey's locks, opened
// on first use: apart from the read pool, so that holders waiting for a
// read can never starve it.
type keyLocks struct {
	once sync.Once
	pool *sql.DB
	err  error
}

var keyLockPools sync.Map // *DB → *keyLocks

// LockKey serialises, across every node on the database, the work done
// under key (a keyed hash, e.g. of a reporter's chat) until unlock is
// called: on PostgreSQL by a transaction advisory lock on a connection of
// its own, which a node's death releases; on SQLite, where one process is
// the only node, it does nothing (the caller's in-process lock suffices).
// Keys are cut to 32 bits: two keys sharing them are serialised too, which
// costs only a wait.
func (db *DB) LockKey(ctx context.Context, key []byte) (unlock func(), err error) {
	if db.Engine() != Postgres {
		return func() {}, nil
	}
	if len(key) < 4 {
		return nil, fmt.Errorf("lock key: key too short")
	}
	v, _ := keyLockPools.LoadOrStore(db, &keyLocks{})
	kl := v.(*keyLocks)
	kl.once.Do(func() {
		cfg, err := pgx.ParseConfig(db.DSN)
		if err != nil {
			kl.err = err
			return
		}
		kl.pool = sqlOpenPG(cfg)
		kl.pool.SetMaxOpenConns(64)
		kl.pool.SetMaxIdleConns(8)
	})
	if kl.err != nil {
		return nil, fmt.Errorf("lock key: %w", kl.err)
	}
	tx, err := kl.pool.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("lock key: %w", err)
	}
	id := int32(binary.BigEndian.Uint32(key[:4]))
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, ?)`, lockNamespace, id); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("lock key: %w", err)
	}
	return func() { tx.Rollback() }, nil
}

// closeKeyLocks closes LockKey's pool of db, if it was opened.
func (db *DB) closeKeyLocks() {
	if v, ok := keyLockPools.LoadAndDelete(db); ok {
		if kl := v.(*keyLocks); kl.pool != nil {
			kl.pool.Close()
		}
	}
}
