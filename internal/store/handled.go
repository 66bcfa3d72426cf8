package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// HandledTTL is how long a handled update's key is kept. Telegram keeps an
// unconfirmed update for 24 hours; a week is ample, and update ids may be
// reused after a week without updates. A web page resends within its
// session's day, and a mailbox form's token lives three hours.
const HandledTTL = 7 * 24 * time.Hour

// ErrAlreadyHandled fails a transaction run for an update whose key is
// already recorded: its effect was applied before (a redelivery).
var ErrAlreadyHandled = errors.New("store: update already handled")

// Idempotency is the key of one incoming update (a Telegram update id, a
// webhook delivery) carried in a context through the code that applies it.
// The first write transaction run with that context (DB.Update) records
// the key in the same transaction as its effect, or fails with
// ErrAlreadyHandled if it is there already; later transactions of the same
// handling run unguarded. The writes of one handling must therefore be
// sequential, as the dialog engine's are.
type Idempotency struct {
	Key string

	recorded atomic.Bool // committed by a transaction of this handling
	dup      atomic.Bool // a transaction found the key recorded before
}

type idemKey struct{}

// WithIdempotency returns ctx carrying a new Idempotency for key.
func WithIdempotency(ctx context.Context, key string) (context.Context, *Idempotency) {
	k := &Idempotency{Key: key}
	return context.WithValue(ctx, idemKey{}, k), k
}

// IdempotencyFrom returns the Idempotency in ctx, or nil.
func IdempotencyFrom(ctx context.Context) *Idempotency {
	k, _ := ctx.Value(idemKey{}).(*Idempotency)
	return k
}

// Recorded reports whether a transaction of this handling committed the key.
func (k *Idempotency) Recorded() bool { return k.recorded.Load() }

// Duplicate reports whether a transaction of this handling found the key
// recorded already: the update had been applied before, and what this
// handling computed must not be shown or sent.
func (k *Idempotency) Duplicate() bool { return k.dup.Load() }

// guard wraps a job so that it records the key first, unless an earlier
// transaction of the handling has.
func (k *Idempotency) guard(fn func(*Tx) error) func(*Tx) error {
	return func(tx *Tx) error {
		if k.recorded.Load() {
			return fn(tx)
		}
		if err := tx.MarkHandled(k.Key); err != nil {
			if errors.Is(err, ErrAlreadyHandled) {
				k.dup.Store(true)
			}
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		tx.AfterCommit(func() { k.recorded.Store(true) })
		return nil
	}
}

// MarkHandled records key as handled in this transaction, or returns
// ErrAlreadyHandled if it is recorded already. It also purges keys older
// than HandledTTL (an index range: cheap when there is nothing to purge).
func (tx *Tx) MarkHandled(key string) error {
	if _, err := tx.exec(`DELETE FROM handled_updates WHERE handled_at < ?`, micros(tx.now.Add(-HandledTTL))); err != nil {
		return err
	}
	res, err := tx.exec(`INSERT INTO handled_updates (key, handled_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, micros(tx.now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrAlreadyHandled
	}
	return nil
}

// Handled reports whether key is recorded as handled (and not yet purged).
func (db *DB) Handled(ctx context.Context, key string) (bool, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT COUNT(*) FROM handled_updates WHERE key = ? AND handled_at >= ?`), key, micros(db.Clock.Now().Add(-HandledTTL)))
	return n > 0, err
}
