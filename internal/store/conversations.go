package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"hotline/internal/hotline"
)

// ConversationMeta is what is kept in clear beside a sealed conversation so
// that the dialog sweeper finds the states it must act on without opening
// them all: a time and a flag, never content.
type ConversationMeta struct {
	// UrgentSince is when an unsent draft to a known school turned urgent;
	// zero when it is not urgent.
	UrgentSince time.Time
	// Draft says the state holds an unsent draft, or an automatically sent
	// report its reporter has not been told of yet.
	Draft bool
	// AskDue is when the safety question about the draft goes unanswered;
	// zero when none waits.
	AskDue time.Time
}

// PutConversation saves a reporter conversation in progress, sealed by the
// caller under the server key, with its clear metadata. A Telegram chat's
// key is its chat HMAC.
func (tx *Tx) PutConversation(keyMAC, sealed []byte, meta ConversationMeta) error {
	draft := 0
	if meta.Draft {
		draft = 1
	}
	return tx.execLate(nil, qPutConversation, keyMAC, sealed, micros(tx.now), micros(meta.UrgentSince), draft, micros(meta.AskDue))
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

// SavedConversation is one sealed conversation state and its key HMAC.
type SavedConversation struct {
	KeyMAC []byte `db:"key_mac"`
	Sealed []byte `db:"state_sealed"`
}

// DueConversations returns, oldest first, up to limit conversations the
// sweeper must act on: drafts urgent since urgentBefore or earlier, drafts
// whose safety question went unanswered at askBefore or earlier, and
// drafts (or untold automatic sends) last touched before staleBefore.
func (db *DB) DueConversations(ctx context.Context, urgentBefore, askBefore, staleBefore time.Time, limit int) ([]SavedConversation, error) {
	var out []SavedConversation
	err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(`SELECT key_mac, state_sealed FROM conversations
		WHERE (urgent_since != 0 AND urgent_since <= ?) OR (ask_due != 0 AND ask_due <= ?) OR (draft = ? AND updated_at < ?)
		ORDER BY updated_at LIMIT ?`), micros(urgentBefore), micros(askBefore), true, micros(staleBefore), limit)
	return out, err
}

// DeleteConversation forgets a conversation.
func (tx *Tx) DeleteConversation(keyMAC []byte) error {
	_, err := tx.exec(`DELETE FROM conversations WHERE key_mac = ?`, keyMAC)
	return err
}
