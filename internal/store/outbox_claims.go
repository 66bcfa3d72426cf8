package store

import (
	"fmt"
	"time"
)

// ClaimOutboxHeads claims, for node until the lease ends, the oldest reply
// of each chat that is due by dueBy, not held and not claimed by a lease
// still running, and returns them. Only a chat's oldest reply is ever
// claimed, and a claim is cleared only by its reply's outcome (sent and
// deleted, rescheduled, held), so two nodes never send one chat's replies
// at once and a chat's order holds across nodes. The heads are locked
// with the dialect's skip-locked clause: a node claiming at the same
// moment passes over them instead of waiting.
func (tx *Tx) ClaimOutboxHeads(node string, dueBy time.Time, lease time.Duration, limit int) ([]*OutboxItem, error) {
	lock := tx.db.dialect.skipLocked("o")
	now := micros(tx.now)
	var items []*OutboxItem
	err := tx.SelectContext(tx.c(), &items, tx.Rebind(`SELECT o.id, o.message_id, o.chat_mac, o.payload_sealed, o.attempts, o.next_attempt_at, o.created_at
		FROM outbox o WHERE o.id IN (SELECT MIN(id) FROM outbox GROUP BY chat_mac) AND o.held_at = 0 AND o.next_attempt_at <= ? AND o.claimed_until <= ?
		ORDER BY o.next_attempt_at, o.id LIMIT ?`+lock), micros(dueBy), now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	until := micros(tx.now.Add(lease))
	for _, it := range items {
		if _, err := tx.exec(`UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?`, node, until, it.ID); err != nil {
			return nil, fmt.Errorf("claim outbox: %w", err)
		}
	}
	return items, nil
}

// ReleaseOutbox clears a node's claim on a reply it did not try after all.
func (tx *Tx) ReleaseOutbox(id int64, node string) error {
	_, err := tx.exec(`UPDATE outbox SET claimed_by = '', claimed_until = 0 WHERE id = ? AND claimed_by = ?`, id, node)
	return err
}
