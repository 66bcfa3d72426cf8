package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

// SealedMessage is a message as stored: sealed bodies only.
type SealedMessage struct {
	ID                  int64              `db:"id"`
	UID                 string             `db:"uid"`
	TipID               int64              `db:"tip_id"`
	Author              hotline.AuthorKind `db:"author"`
	CounselorID         sql.NullInt64      `db:"counselor_id"`
	BodySealed          []byte             `db:"body_sealed"`
	ReporterSealed      []byte             `db:"reporter_sealed"`
	DistrictSealed      []byte             `db:"district_sealed"`
	PhotoSealed         []byte             `db:"photo_sealed"`
	PhotoReporterSealed []byte             `db:"photo_reporter_sealed"`
	PhotoDistrictSealed []byte             `db:"photo_district_sealed"`
	Delivery            hotline.Delivery   `db:"delivery"`
	CreatedAt           int64              `db:"created_at"`
	// SealVersion is the HPKE info label version of every ciphertext of
	// the message (vault.InfoV1 for rows older than the column).
	SealVersion int `db:"seal_version"`
}

const messageColumns = `id, uid, tip_id, author, counselor_id, body_sealed, reporter_sealed, district_sealed, photo_sealed, photo_reporter_sealed, photo_district_sealed, delivery, created_at, seal_version`

// Message returns the clear metadata of a stored message (no body).
func (m *SealedMessage) Message() *hotline.Message {
	return &hotline.Message{ID: m.ID, UID: m.UID, TipID: m.TipID, Author: m.Author, CounselorID: m.CounselorID.Int64,
		HasPhoto: m.PhotoSealed != nil, Delivery: m.Delivery, CreatedAt: fromMicros(m.CreatedAt)}
}

// InsertMessage stores a sealed message.
func (tx *Tx) InsertMessage(m *SealedMessage) error {
	if m.SealVersion == 0 {
		// Without its label version the message could not be opened.
		return fmt.Errorf("insert message: no seal version")
	}
	if m.CreatedAt == 0 {
		m.CreatedAt = micros(tx.now)
	}
	id, err := tx.insertID(qInsertMessage,
		m.UID, m.TipID, string(m.Author), m.CounselorID, nullBytes(m.BodySealed), nullBytes(m.ReporterSealed), nullBytes(m.DistrictSealed),
		nullBytes(m.PhotoSealed), nullBytes(m.PhotoReporterSealed), nullBytes(m.PhotoDistrictSealed), string(m.Delivery), m.CreatedAt, m.SealVersion)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	m.ID = id
	return nil
}

// AddMessage is InsertMessage for a caller that does not read m.ID before
// the transaction commits (a new tip's messages): where statements are
// held (see late), the insert is sent late and m.ID is set when it is.
func (tx *Tx) AddMessage(m *SealedMessage) error {
	if m.SealVersion == 0 {
		return fmt.Errorf("insert message: no seal version")
	}
	if m.CreatedAt == 0 {
		m.CreatedAt = micros(tx.now)
	}
	return tx.insertIDLate(&m.ID, func(err error) error { return fmt.Errorf("insert message: %w", err) }, qInsertMessage,
		m.UID, m.TipID, string(m.Author), m.CounselorID, nullBytes(m.BodySealed), nullBytes(m.ReporterSealed), nullBytes(m.DistrictSealed),
		nullBytes(m.PhotoSealed), nullBytes(m.PhotoReporterSealed), nullBytes(m.PhotoDistrictSealed), string(m.Delivery), m.CreatedAt, m.SealVersion)
}

// SetDelivery records where a reply stands on its way to the reporter.
func (tx *Tx) SetDelivery(messageID int64, d hotline.Delivery) error {
	return tx.execOne(`UPDATE messages SET delivery = ? WHERE id = ?`, string(d), messageID)
}

// SetDistrictSealed stores the district's copy of a message (escalation).
func (tx *Tx) SetDistrictSealed(messageID int64, body, photo []byte) error {
	return tx.execOne(`UPDATE messages SET district_sealed = ?, photo_district_sealed = ? WHERE id = ?`, nullBytes(body), nullBytes(photo), messageID)
}

// PurgeContent deletes every sealed body and photo of a tip (retention); the
// rows and their metadata stay so that statistics and the ledger hold.
func (tx *Tx) PurgeContent(tipID int64) error {
	_, err := tx.exec(`UPDATE messages SET body_sealed = NULL, reporter_sealed = NULL, district_sealed = NULL, photo_sealed = NULL, photo_reporter_sealed = NULL, photo_district_sealed = NULL WHERE tip_id = ?`, tipID)
	return err
}

func findMessages(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]*SealedMessage, error) {
	var rows []*SealedMessage
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+messageColumns+` FROM messages `+where, args...); err != nil {
		return nil, fmt.Errorf("select messages: %w", err)
	}
	return rows, nil
}

// Messages returns a tip's thread in order, sealed.
func (db *DB) Messages(ctx context.Context, tipID int64) ([]*SealedMessage, error) {
	return findMessages(ctx, db.rq, `WHERE tip_id = ? ORDER BY id`, tipID)
}

// MessagesAfter returns a tip's messages after the message id afterID.
func (db *DB) MessagesAfter(ctx context.Context, tipID, afterID int64) ([]*SealedMessage, error) {
	return findMessages(ctx, db.rq, `WHERE tip_id = ? AND id > ? ORDER BY id`, tipID, afterID)
}

// Messages returns a tip's thread within the transaction.
func (tx *Tx) Messages(tipID int64) ([]*SealedMessage, error) {
	return findMessages(tx.c(), tx.Tx, `WHERE tip_id = ? ORDER BY id`, tipID)
}

// MessageByUID finds one sealed message.
func (db *DB) MessageByUID(ctx context.Context, uid string) (*SealedMessage, error) {
	ms, err := findMessages(ctx, db.rq, `WHERE uid = ? LIMIT 1`, uid)
	if err != nil {
		return nil, err
	} else if len(ms) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ms[0], nil
}

// MessageByID finds one sealed message within the transaction.
func (tx *Tx) MessageByID(id int64) (*SealedMessage, error) {
	ms, err := findMessages(tx.c(), tx.Tx, `WHERE id = ? LIMIT 1`, id)
	if err != nil {
		return nil, err
	} else if len(ms) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ms[0], nil
}

// MessageBodies returns a tip's messages with their school-sealed bodies
// only (no photos, no other copies): what a search reads, without loading
// megabytes of sealed photos it would never open.
func (db *DB) MessageBodies(ctx context.Context, tipID int64) ([]*SealedMessage, error) {
	var rows []*SealedMessage
	q := `SELECT id, uid, tip_id, author, counselor_id, body_sealed, delivery, created_at, seal_version FROM messages WHERE tip_id = ? ORDER BY id`
	if err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), tipID); err != nil {
		return nil, fmt.Errorf("select message bodies: %w", err)
	}
	return rows, nil
}
