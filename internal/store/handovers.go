package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// Handover is a district officer's one-time hand-over of a school to an
// admin. Only the SHA-256 hash of its token is stored.
type Handover struct {
	ID         int64  `db:"id"`
	District   string `db:"district"`
	SchoolID   int64  `db:"school_id"` // 0: the school is made when it is accepted
	Code       string `db:"code"`
	Name       string `db:"name"`
	NameEN     string `db:"name_en"`
	TokenHash  []byte `db:"token_hash"`
	CreatedBy  int64  `db:"created_by"`
	CreatedAt  int64  `db:"created_at"`
	ExpiresAt  int64  `db:"expires_at"`
	AcceptedAt int64  `db:"accepted_at"`
	RevokedAt  int64  `db:"revoked_at"`
	AdminID    int64  `db:"admin_id"`
}

// Open reports whether the hand-over can still be accepted at now.
func (h *Handover) Open(now time.Time) bool {
	return h.AcceptedAt == 0 && h.RevokedAt == 0 && h.ExpiresAt > micros(now)
}

// Expires is when the hand-over link stops working.
func (h *Handover) Expires() time.Time { return fromMicros(h.ExpiresAt) }

// Created is when the hand-over was started.
func (h *Handover) Created() time.Time { return fromMicros(h.CreatedAt) }

// Accepted is when its admin accepted it (zero: not yet).
func (h *Handover) Accepted() time.Time {
	if h.AcceptedAt == 0 {
		return time.Time{}
	}
	return fromMicros(h.AcceptedAt)
}

const handoverColumns = `id, district, school_id, code, name, name_en, token_hash, created_by, created_at, expires_at, accepted_at, revoked_at, admin_id`

// InsertHandover records a new hand-over. Starting one for a school revokes
// its earlier open ones in the same write, so only the newest link works.
// A new school's code must be free: neither a school's nor that of another
// district's school still waiting for its admin.
func (tx *Tx) InsertHandover(h *Handover) error {
	h.Code = NormalizeCode(h.Code)
	if !ValidCode(h.Code) {
		return hotline.Errorf(hotline.EINVALID, "学校代码只能包含小写字母、数字和连字符（2–32 个字符）。", "A school code is 2–32 lower-case letters, digits or hyphens.")
	}
	if h.SchoolID == 0 {
		if _, err := tx.SchoolByCode(h.Code); err == nil {
			return hotline.Errorf(hotline.ECONFLICT, "这个学校代码已被使用。", "That school code is taken.")
		} else if hotline.ErrorCode(err) != hotline.ENOTFOUND {
			return err
		}
		var other string
		err := tx.GetContext(tx.c(), &other, tx.Rebind(`SELECT district FROM school_handovers WHERE code = ? AND school_id = 0 AND accepted_at = 0 AND revoked_at = 0 LIMIT 1`), h.Code)
		if err == nil && other != h.District {
			return hotline.Errorf(hotline.ECONFLICT, "这个学校代码已被使用。", "That school code is taken.")
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("handover code: %w", err)
		}
	}
	if _, err := tx.exec(`UPDATE school_handovers SET revoked_at = ? WHERE code = ? AND district = ? AND accepted_at = 0 AND revoked_at = 0`, micros(tx.now), h.Code, h.District); err != nil {
		return fmt.Errorf("revoke handovers: %w", err)
	}
	h.CreatedAt = micros(tx.now)
	id, err := tx.insertID(`INSERT INTO school_handovers (district, school_id, code, name, name_en, token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		h.District, h.SchoolID, h.Code, h.Name, h.NameEN, h.TokenHash, h.CreatedBy, h.CreatedAt, h.ExpiresAt)
	if err != nil {
		return fmt.Errorf("insert handover: %w", err)
	}
	h.ID = id
	return nil
}

// WithdrawPending revokes the open hand-overs of a district's school that
// no admin has accepted yet, and reports whether there was one: the school
// is gone from the tracker and its code free again.
func (tx *Tx) WithdrawPending(district, code string) (bool, error) {
	res, err := tx.exec(`UPDATE school_handovers SET revoked_at = ? WHERE district = ? AND code = ? AND school_id = 0 AND accepted_at = 0 AND revoked_at = 0`, micros(tx.now), district, NormalizeCode(code))
	if err != nil {
		return false, fmt.Errorf("withdraw handovers: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// HandoverByToken finds a hand-over by its token's hash in the transaction.
func (tx *Tx) HandoverByToken(hash []byte) (*Handover, error) {
	var h Handover
	err := tx.GetContext(tx.c(), &h, tx.Rebind(`SELECT `+handoverColumns+` FROM school_handovers WHERE token_hash = ?`), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &h, err
}

// HandoverByToken finds a hand-over by its token's hash.
func (db *DB) HandoverByToken(ctx context.Context, hash []byte) (*Handover, error) {
	var h Handover
	err := db.reader.GetContext(ctx, &h, db.reader.Rebind(`SELECT `+handoverColumns+` FROM school_handovers WHERE token_hash = ?`), hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &h, err
}

// AcceptHandover marks a hand-over used by admin, and a new school's
// hand-over as belonging to the school now made.
func (tx *Tx) AcceptHandover(id, schoolID, adminID int64) error {
	res, err := tx.exec(`UPDATE school_handovers SET accepted_at = ?, admin_id = ?, school_id = ? WHERE id = ? AND accepted_at = 0 AND revoked_at = 0`, micros(tx.now), adminID, schoolID, id)
	if err != nil {
		return fmt.Errorf("accept handover: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errHandoverUsed
	}
	if schoolID != 0 {
		// Earlier links of a new school now name it too, for its history.
		_, err = tx.exec(`UPDATE school_handovers SET school_id = ? WHERE school_id = 0 AND code = (SELECT code FROM school_handovers WHERE id = ?)`, schoolID, id)
	}
	return err
}

var errHandoverUsed = hotline.Errorf(hotline.ECONFLICT, "这个交接链接已经用过或已作废。", "This hand-over link has been used or withdrawn.")

// Handovers lists a district's hand-overs, newest first.
func (db *DB) Handovers(ctx context.Context, district string) ([]*Handover, error) {
	var hs []*Handover
	err := db.reader.SelectContext(ctx, &hs, db.reader.Rebind(`SELECT `+handoverColumns+` FROM school_handovers WHERE district = ? ORDER BY id DESC`), district)
	return hs, err
}

// PendingSchool is whether code names a school a district has added whose
// admin has not accepted its hand-over yet.
func (db *DB) PendingSchool(ctx context.Context, code string) (bool, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT COUNT(*) FROM school_handovers WHERE code = ? AND school_id = 0 AND revoked_at = 0`), NormalizeCode(code))
	return n > 0, err
}

// RecordWidgetSeen notes that the widget ran on a page of origin on day,
// once per school, origin and day.
func (db *DB) RecordWidgetSeen(ctx context.Context, schoolID int64, origin, day string) error {
	return db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO widget_seen (school_id, origin, day, first_at) VALUES (?, ?, ?, ?) ON CONFLICT (school_id, origin, day) DO NOTHING`, schoolID, origin, day, micros(tx.now))
		return err
	})
}

// WidgetSeen is one school's origin and the last day the widget was seen
// there.
type WidgetSeen struct {
	SchoolID int64  `db:"school_id"`
	Origin   string `db:"origin"`
	LastDay  string `db:"last_day"`
}

// WidgetSeenSince lists, per school and origin, the last day since the
// given day (YYYY-MM-DD) the widget was seen.
func (db *DB) WidgetSeenSince(ctx context.Context, sinceDay string) ([]*WidgetSeen, error) {
	var out []*WidgetSeen
	err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(`SELECT school_id, origin, MAX(day) AS last_day FROM widget_seen WHERE day >= ? GROUP BY school_id, origin`), sinceDay)
	return out, err
}
