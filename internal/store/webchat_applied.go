package store

// The web chat's durable memory of what it has done, without content: the
// client message ids each chat session applied, and the mailbox form
// tokens that filed a report. A retry (a frame resent after a restart, a
// form posted twice) finds its mark and is answered without being applied
// again.

import (
	"context"
	"fmt"
	"time"
)

// WebchatAppliedTTL is how long a session's applied message ids are kept:
// longer than any page waits to resend, short enough to hold little.
const WebchatAppliedTTL = 24 * time.Hour

// MarkWebchatApplied records that the session (a keyed MAC of its token)
// applied the client message id. Marking twice is not an error. Call it in
// the transaction of the effect where there is one, so the two commit
// together.
func (tx *Tx) MarkWebchatApplied(sessionMAC []byte, clientID string) error {
	if _, err := tx.exec(`INSERT INTO webchat_applied (session_mac, client_id, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		sessionMAC, clientID, micros(tx.now)); err != nil {
		return fmt.Errorf("mark webchat applied: %w", err)
	}
	return nil
}

// MarkWebchatApplied records an applied client message id in a
// transaction of its own, for effects whose transaction is out of reach.
func (db *DB) MarkWebchatApplied(ctx context.Context, sessionMAC []byte, clientID string) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.MarkWebchatApplied(sessionMAC, clientID) })
}

// WebchatApplied reports whether the session applied the client message id.
func (db *DB) WebchatApplied(ctx context.Context, sessionMAC []byte, clientID string) (bool, error) {
	var n int
	if err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT COUNT(*) FROM webchat_applied WHERE session_mac = ? AND client_id = ?`),
		sessionMAC, clientID); err != nil {
		return false, fmt.Errorf("webchat applied: %w", err)
	}
	return n > 0, nil
}

// UseFormToken records that the form token (a keyed MAC of it) was used,
// until it expires. It reports false if it had been used already.
func (tx *Tx) UseFormToken(tokenMAC []byte, expires time.Time) (fresh bool, err error) {
	res, err := tx.exec(`INSERT INTO form_tokens_used (token_mac, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING`,
		tokenMAC, micros(expires))
	if err != nil {
		return false, fmt.Errorf("use form token: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// UseFormToken records a used form token in a transaction of its own.
func (db *DB) UseFormToken(ctx context.Context, tokenMAC []byte, expires time.Time) (fresh bool, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		fresh, err = tx.UseFormToken(tokenMAC, expires)
		return err
	})
	return fresh, err
}

// FormTokenUsed reports whether the form token was used.
func (db *DB) FormTokenUsed(ctx context.Context, tokenMAC []byte) (bool, error) {
	var n int
	if err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT COUNT(*) FROM form_tokens_used WHERE token_mac = ?`), tokenMAC); err != nil {
		return false, fmt.Errorf("form token used: %w", err)
	}
	return n > 0, nil
}

// PurgeWebchatApplied deletes applied message ids older than
// WebchatAppliedTTL and form tokens past their expiry, and returns how
// many rows went.
func (db *DB) PurgeWebchatApplied(ctx context.Context) (int64, error) {
	var n int64
	err := db.Update(ctx, func(tx *Tx) error {
		for _, q := range []struct {
			sql string
			arg int64
		}{
			{`DELETE FROM webchat_applied WHERE applied_at < ?`, micros(tx.now.Add(-WebchatAppliedTTL))},
			{`DELETE FROM form_tokens_used WHERE expires_at < ?`, micros(tx.now)},
		} {
			res, err := tx.exec(q.sql, q.arg)
			if err != nil {
				return fmt.Errorf("purge webchat applied: %w", err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}
