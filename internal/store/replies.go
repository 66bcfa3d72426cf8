package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"hotline/internal/hotline"
)

// SavedReply is one of a school's saved replies.
type SavedReply struct {
	ID        int64        `db:"id"`
	SchoolID  int64        `db:"school_id"`
	Lang      hotline.Lang `db:"lang"`
	Title     string       `db:"title"`
	Body      string       `db:"body"`
	CreatedBy int64        `db:"created_by"`
	UpdatedAt int64        `db:"updated_at"`
}

const savedReplyColumns = `id, school_id, lang, title, body, created_by, updated_at`

// SavedReplies lists a school's saved replies, Chinese first, by title.
func (db *DB) SavedReplies(ctx context.Context, schoolID int64) ([]*SavedReply, error) {
	var out []*SavedReply
	q := `SELECT ` + savedReplyColumns + ` FROM saved_replies WHERE school_id = ? ORDER BY CASE WHEN lang = 'zh' THEN 0 ELSE 1 END, title, id`
	if err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(q), schoolID); err != nil {
		return nil, fmt.Errorf("select saved replies: %w", err)
	}
	return out, nil
}

// SavedReply finds one saved reply of a school; another school's is not
// found.
func (db *DB) SavedReply(ctx context.Context, schoolID, id int64) (*SavedReply, error) {
	var r SavedReply
	q := `SELECT ` + savedReplyColumns + ` FROM saved_replies WHERE school_id = ? AND id = ?`
	err := db.reader.GetContext(ctx, &r, db.reader.Rebind(q), schoolID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, fmt.Errorf("select saved reply: %w", err)
	}
	return &r, nil
}

// SavedReplyForUpdate reads a school's saved reply in the transaction.
func (tx *Tx) SavedReplyForUpdate(schoolID, id int64) (*SavedReply, error) {
	var r SavedReply
	err := tx.GetContext(tx.c(), &r, tx.Rebind(`SELECT `+savedReplyColumns+` FROM saved_replies WHERE school_id = ? AND id = ?`), schoolID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &r, err
}

// CountSavedReplies counts a school's saved replies.
func (tx *Tx) CountSavedReplies(schoolID int64) (int, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT COUNT(*) FROM saved_replies WHERE school_id = ?`), schoolID)
	return n, err
}

// InsertSavedReply stores a new saved reply and sets its id.
func (tx *Tx) InsertSavedReply(r *SavedReply) error {
	r.UpdatedAt = micros(tx.now)
	err := tx.GetContext(tx.c(), &r.ID, tx.Rebind(`INSERT INTO saved_replies (school_id, lang, title, body, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`),
		r.SchoolID, string(r.Lang), r.Title, r.Body, r.CreatedBy, r.UpdatedAt)
	if err != nil {
		return fmt.Errorf("insert saved reply: %w", err)
	}
	return nil
}

// UpdateSavedReply changes a school's saved reply; another school's is not
// found.
func (tx *Tx) UpdateSavedReply(r *SavedReply) error {
	r.UpdatedAt = micros(tx.now)
	return tx.execOne(`UPDATE saved_replies SET lang = ?, title = ?, body = ?, updated_at = ? WHERE id = ? AND school_id = ?`,
		string(r.Lang), r.Title, r.Body, r.UpdatedAt, r.ID, r.SchoolID)
}

// DeleteSavedReply deletes a school's saved reply; another school's is not
// found.
func (tx *Tx) DeleteSavedReply(schoolID, id int64) error {
	return tx.execOne(`DELETE FROM saved_replies WHERE id = ? AND school_id = ?`, id, schoolID)
}
