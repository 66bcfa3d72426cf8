package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OutboxItem is one reply waiting to be delivered to a reporter's chat. The
// payload (chat id and text) is sealed under the server key.
type OutboxItem struct {
	ID            int64         `db:"id"`
	MessageID     sql.NullInt64 `db:"message_id"`
	ChatMAC       []byte        `db:"chat_mac"`
	PayloadSealed []byte        `db:"payload_sealed"`
	Attempts      int           `db:"attempts"`
	NextAttemptAt int64         `db:"next_attempt_at"`
	CreatedAt     int64         `db:"created_at"`
}

// Enqueue adds an item to the outbox, due now.
func (tx *Tx) Enqueue(item *OutboxItem) error {
	item.CreatedAt = micros(tx.now)
	if item.NextAttemptAt == 0 {
		item.NextAttemptAt = item.CreatedAt
	}
	id, err := tx.insertID(qEnqueue,
		item.MessageID, item.ChatMAC, item.PayloadSealed, item.NextAttemptAt, item.CreatedAt)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	item.ID = id
	return nil
}

// OutboxHeads returns, for each chat with waiting items, its oldest item if
// that one is due at now and not held: per-chat order means a chat's later
// items wait for its first.
func (db *DB) OutboxHeads(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error) {
	var items []*OutboxItem
	err := db.reader.SelectContext(ctx, &items, db.reader.Rebind(`SELECT o.id, o.message_id, o.chat_mac, o.payload_sealed, o.attempts, o.next_attempt_at, o.created_at
		FROM outbox o WHERE o.id IN (SELECT MIN(id) FROM outbox GROUP BY chat_mac) AND o.held_at = 0 AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?`), micros(now), limit)
	return items, err
}

// NextOutboxAttempt returns when the earliest waiting head that is not held
// is due (or, when another node's claim on it runs longer, its lease ends),
// or zero.
func (db *DB) NextOutboxAttempt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := db.reader.GetContext(ctx, &next, `SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END) FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox GROUP BY chat_mac) AND held_at = 0`)
	if err != nil || !next.Valid {
		return time.Time{}, err
	}
	return fromMicros(next.Int64), nil
}

// OutboxLen counts waiting items, held ones included.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM outbox`)
	return n, err
}

// DeleteOutbox removes a delivered (or abandoned) item.
func (tx *Tx) DeleteOutbox(id int64) error {
	_, err := tx.exec(`DELETE FROM outbox WHERE id = ?`, id)
	return err
}

// RescheduleOutbox counts a failed attempt and sets the next one.
func (tx *Tx) RescheduleOutbox(id int64, next time.Time) error {
	_, err := tx.exec(`UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, claimed_by = '', claimed_until = 0 WHERE id = ?`, micros(next), id)
	return err
}

// DeferOutbox sets an item's next attempt without counting a failure (the
// channel asked to wait, 429): the channel answered, so the count of
// earlier failures starts again.
func (tx *Tx) DeferOutbox(id int64, next time.Time) error {
	_, err := tx.exec(`UPDATE outbox SET attempts = 0, next_attempt_at = ?, claimed_by = '', claimed_until = 0 WHERE id = ?`, micros(next), id)
	return err
}

// ResetOutboxBackoff makes every item that is backing off after failed
// attempts due now, with its count of failures cleared: the channel works
// again. Items waiting for a 429's retry_after (no failure counted) and
// held items keep their time. It returns how many items it moved.
func (tx *Tx) ResetOutboxBackoff() (int64, error) {
	res, err := tx.exec(`UPDATE outbox SET attempts = 0, next_attempt_at = ? WHERE attempts > 0 AND held_at = 0 AND next_attempt_at > ?`, micros(tx.now), micros(tx.now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// HoldOutbox holds every waiting item of a chat (it blocked the bot): held
// items are not sent until ReviveChat puts them back in the queue.
func (tx *Tx) HoldOutbox(chatMAC []byte) error {
	_, err := tx.exec(`UPDATE outbox SET held_at = ?, attempts = 0, claimed_by = '', claimed_until = 0 WHERE chat_mac = ? AND held_at = 0`, micros(tx.now), chatMAC)
	return err
}

// HoldOutboxItem holds one waiting item: a reply written for a chat that
// blocked the bot waits, with the replies held before it, for its reporter
// to write again (ReviveChat).
func (tx *Tx) HoldOutboxItem(id int64) error {
	_, err := tx.exec(`UPDATE outbox SET held_at = ?, attempts = 0, claimed_by = '', claimed_until = 0 WHERE id = ?`, micros(tx.now), id)
	return err
}

// DropHeldOutbox deletes the items held since before t (the reporter never
// came back: a reply must not wait, readable by the server, for ever); their
// messages stay undeliverable. It returns how many it deleted.
func (tx *Tx) DropHeldOutbox(t time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM outbox WHERE held_at > 0 AND held_at < ?`, micros(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// OutboxByChat lists a chat's waiting items in order.
func (tx *Tx) OutboxByChat(chatMAC []byte) ([]*OutboxItem, error) {
	var items []*OutboxItem
	err := tx.SelectContext(tx.c(), &items, tx.Rebind(`SELECT id, message_id, chat_mac, payload_sealed, attempts, next_attempt_at, created_at FROM outbox WHERE chat_mac = ? ORDER BY id`), chatMAC)
	return items, err
}
