package store

import (
	"context"
	"fmt"
	"time"
)

// RotaSlot is one line of a school's rota (值班表): a staff member on call
// first or second on some weekdays between two hours of the school's
// local time.
type RotaSlot struct {
	ID          int64 `db:"id"`
	SchoolID    int64 `db:"school_id"`
	CounselorID int64 `db:"counselor_id"`
	// Position is 1 for the first on call, 2 for the second.
	Position int `db:"position"`
	// Weekdays is a bit set of the days the slot starts on: bit 0 Monday
	// … bit 6 Sunday.
	Weekdays int `db:"weekdays"`
	// StartHour (0–23) and EndHour (1–24) in the school's zone; an end
	// not after the start runs through midnight into the next day.
	StartHour       int       `db:"start_hour"`
	EndHour         int       `db:"end_hour"`
	CreatedAtMicros int64     `db:"created_at"`
	CreatedAt       time.Time `db:"-"`
}

const rotaColumns = `id, school_id, counselor_id, position, weekdays, start_hour, end_hour, created_at`

// AddRotaSlot inserts a slot and sets its ID.
func (tx *Tx) AddRotaSlot(s *RotaSlot) error {
	s.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO rota_slots (school_id, counselor_id, position, weekdays, start_hour, end_hour, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.SchoolID, s.CounselorID, s.Position, s.Weekdays, s.StartHour, s.EndHour, micros(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert rota slot: %w", err)
	}
	s.ID = id
	return nil
}

// DeleteRotaSlot deletes a slot of a school; ErrNotFound if the school has
// no such slot.
func (tx *Tx) DeleteRotaSlot(schoolID, id int64) error {
	return tx.execOne(`DELETE FROM rota_slots WHERE id = ? AND school_id = ?`, id, schoolID)
}

// RotaSlots returns a school's rota (every school's when schoolID is 0),
// in the order it reads: by position, then start hour.
func (db *DB) RotaSlots(ctx context.Context, schoolID int64) ([]*RotaSlot, error) {
	q, args := `SELECT `+rotaColumns+` FROM rota_slots`, []any{}
	if schoolID != 0 {
		q += ` WHERE school_id = ?`
		args = append(args, schoolID)
	}
	var out []*RotaSlot
	if err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(q+` ORDER BY school_id, position, start_hour, id`), args...); err != nil {
		return nil, fmt.Errorf("select rota: %w", err)
	}
	for _, s := range out {
		s.CreatedAt = fromMicros(s.CreatedAtMicros)
	}
	return out, nil
}

// AllCounselors returns every staff member of every school and district,
// for a readiness report over all schools at once.
func (db *DB) AllCounselors(ctx context.Context) ([]*CounselorRecord, error) {
	return findCounselors(ctx, db.reader, db.reader.Rebind, `ORDER BY id`)
}

// LadderMinutes returns the minutes between two rungs of the ladder that a
// district set (0: not set, the default applies).
func (db *DB) LadderMinutes(ctx context.Context, district string) (int, error) {
	var n []int
	if err := db.reader.SelectContext(ctx, &n, db.reader.Rebind(`SELECT ladder_minutes FROM district_settings WHERE district = ?`), district); err != nil {
		return 0, fmt.Errorf("ladder minutes: %w", err)
	}
	if len(n) == 0 {
		return 0, nil
	}
	return n[0], nil
}

// SetLadderMinutes saves the minutes between two rungs a district wants
// (0: the default).
func (tx *Tx) SetLadderMinutes(district string, minutes int) error {
	_, err := tx.exec(`INSERT INTO district_settings (district, ladder_minutes, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (district) DO UPDATE SET ladder_minutes = excluded.ladder_minutes, updated_at = excluded.updated_at`, district, minutes, micros(tx.now))
	return err
}

// AlertKey returns a shared key sealed under the server key, or nil when
// none was stored yet.
func (db *DB) AlertKey(ctx context.Context, name string) ([]byte, error) {
	var sealed [][]byte
	if err := db.reader.SelectContext(ctx, &sealed, db.reader.Rebind(`SELECT sealed FROM alert_keys WHERE name = ?`), name); err != nil {
		return nil, fmt.Errorf("alert key: %w", err)
	}
	if len(sealed) == 0 {
		return nil, nil
	}
	return sealed[0], nil
}

// PutAlertKey stores a shared sealed key unless one of that name exists
// (another node's came first); it returns the one stored.
func (tx *Tx) PutAlertKey(name string, sealed []byte) ([]byte, error) {
	if _, err := tx.exec(`INSERT INTO alert_keys (name, sealed, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, sealed, micros(tx.now)); err != nil {
		return nil, err
	}
	var out []byte
	err := tx.GetContext(tx.c(), &out, tx.Rebind(`SELECT sealed FROM alert_keys WHERE name = ?`), name)
	return out, err
}
