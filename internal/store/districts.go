package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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
	res, err := tx.exec(`INSERT INTO districts (name, public_key, recovery_wrapped, created_at) VALUES (?, ?, ?, ?)`,
		d.Name, d.PublicKey, d.RecoveryWrapped, micros(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert district: %w", err)
	}
	d.ID, err = res.LastInsertId()
	return err
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
