package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"hotline/internal/hotline"
)

// PutConversation saves a reporter conversation in progress, sealed by the
// caller under the server key. A Telegram chat's key is its chat HMAC.
func (tx *Tx) PutConversation(keyMAC, sealed []byte) error {
	_, err := tx.exec(qPutConversation, keyMAC, sealed, micros(tx.now))
	return err
}

// Conversation loads a saved conversation, or ErrNotFound.
func (db *DB) Conversation(ctx context.Context, keyMAC []byte) ([]byte, error) {
	var b []byte
	err := db.reader.GetContext(ctx, &b, db.reader.Rebind(`SELECT state_sealed FROM conversations WHERE key_mac = ?`), keyMAC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return b, err
}

// DeleteConversation forgets a conversation.
func (tx *Tx) DeleteConversation(keyMAC []byte) error {
	_, err := tx.exec(`DELETE FROM conversations WHERE key_mac = ?`, keyMAC)
	return err
}

// DeleteConversationsBefore drops abandoned drafts last touched before t.
func (tx *Tx) DeleteConversationsBefore(t time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM conversations WHERE updated_at < ?`, micros(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
