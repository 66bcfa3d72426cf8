package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// District is a district education bureau with its own key pair: escalated
// cases are also sealed to it.
type District struct {
	ID              int64     `db:"id"`
	Name            string    `db:"name"`
	PublicKey       []byte    `db:"public_key"`
	RecoveryWrapped []byte    `db:"recovery_wrapped"`
	CreatedAtMicros int64     `db:"created_at"`
	CreatedAt       time.Time `db:"-"`
}

// CreateDistrict inserts a district with its public key and the private key
// wrapped under its recovery key.
func (tx *Tx) CreateDistrict(d *District) error {
	d.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO districts (name, public_key, recovery_wrapped, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		d.Name, d.PublicKey, d.RecoveryWrapped, micros(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert district: %w", err)
	}
	d.ID = id
	return nil
}

// DistrictByName finds a district; sql.ErrNoRows becomes (nil, nil).
func (db *DB) DistrictByName(ctx context.Context, name string) (*District, error) {
	var d District
	err := db.reader.GetContext(ctx, &d, db.reader.Rebind(`SELECT id, name, public_key, recovery_wrapped, created_at FROM districts WHERE name = ?`), name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	d.CreatedAt = fromMicros(d.CreatedAtMicros)
	return &d, nil
}

// DistrictKey returns a district's public key, or nil when the district has
// no key pair yet.
func (db *DB) DistrictKey(ctx context.Context, name string) ([]byte, error) {
	d, err := db.DistrictByName(ctx, name)
	if err != nil || d == nil {
		return nil, err
	}
	return d.PublicKey, nil
}

// parseCaseDeadlines reads a district's stored deadlines with the defaults
// filled in; a district without settings (no row) gets the defaults.
func parseCaseDeadlines(raw sql.NullString) (hotline.CaseDeadlines, error) {
	var d hotline.CaseDeadlines
	if raw.Valid && raw.String != "" {
		if err := json.Unmarshal([]byte(raw.String), &d); err != nil {
			return d, fmt.Errorf("district deadlines: %w", err)
		}
	}
	return d.WithDefaults(), nil
}

// qCaseDeadlines reads a school's district deadlines: one primary-key
// read and one join.
const qCaseDeadlines = `SELECT d.deadlines FROM schools s LEFT JOIN district_settings d ON d.district = s.district WHERE s.id = ?`

// CaseDeadlines returns the case deadlines of a school's district, with
// the defaults filled in: one primary-key read in the transaction that
// sets a deadline, through the writer's prepared statement.
func (tx *Tx) CaseDeadlines(schoolID int64) (hotline.CaseDeadlines, error) {
	var raw sql.NullString
	err := tx.queryRow(qCaseDeadlines, schoolID).Scan(&raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return hotline.CaseDeadlines{}, fmt.Errorf("district deadlines: %w", err)
	}
	return parseCaseDeadlines(raw)
}

// CaseDeadlines is Tx.CaseDeadlines from the read pool, for a write that
// reads them before its transaction (a new tip, with its school): a
// change racing the read applies from the next action on the case, as
// every change of the deadlines does.
func (db *DB) CaseDeadlines(ctx context.Context, schoolID int64) (hotline.CaseDeadlines, error) {
	var raw sql.NullString
	err := db.rq.QueryRowxContext(ctx, qCaseDeadlines, schoolID).Scan(&raw)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return hotline.CaseDeadlines{}, fmt.Errorf("district deadlines: %w", err)
	}
	return parseCaseDeadlines(raw)
}

// DistrictDeadlines returns a district's case deadlines as set (zero
// fields: the default applies), for its settings page.
func (db *DB) DistrictDeadlines(ctx context.Context, district string) (hotline.CaseDeadlines, error) {
	var raw string
	var d hotline.CaseDeadlines
	err := db.reader.GetContext(ctx, &raw, db.reader.Rebind(`SELECT deadlines FROM district_settings WHERE district = ?`), district)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	} else if err != nil {
		return d, fmt.Errorf("district deadlines: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return d, fmt.Errorf("district deadlines: %w", err)
	}
	return d, nil
}

// SetDistrictDeadlines saves a district's case deadlines. They apply from
// the next action on each case; deadlines already running keep their date.
func (tx *Tx) SetDistrictDeadlines(district string, d hotline.CaseDeadlines) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = tx.exec(`INSERT INTO district_settings (district, deadlines, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (district) DO UPDATE SET deadlines = excluded.deadlines, updated_at = excluded.updated_at`, district, string(b), micros(tx.now))
	return err
}

// DistrictNames lists the districts that have been added, by name.
func (db *DB) DistrictNames(ctx context.Context) ([]string, error) {
	var names []string
	err := db.reader.SelectContext(ctx, &names, `SELECT name FROM districts ORDER BY name`)
	return names, err
}
