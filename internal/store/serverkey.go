package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeyRecord is the server key's fingerprint as the database recorded it
// at the key's first use.
type KeyRecord struct {
	Fingerprint string
	RecordedAt  time.Time
}

// ServerKeyRecord returns the recorded fingerprint, or nil when none is
// recorded yet (a new database, or one from before fingerprints).
func (db *DB) ServerKeyRecord(ctx context.Context) (*KeyRecord, error) {
	var row struct {
		Fingerprint string `db:"fingerprint"`
		RecordedAt  int64  `db:"recorded_at"`
	}
	err := db.reader.GetContext(ctx, &row, `SELECT fingerprint, recorded_at FROM server_key WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("server key record: %w", err)
	}
	return &KeyRecord{Fingerprint: row.Fingerprint, RecordedAt: fromMicros(row.RecordedAt)}, nil
}

// RecordServerKey records fingerprint as the database's server key unless
// one is recorded already, and returns the record that holds afterwards:
// of nodes starting at once with different keys, the first to commit wins
// and the others see its fingerprint, not theirs.
func (db *DB) RecordServerKey(ctx context.Context, fingerprint string) (*KeyRecord, error) {
	err := db.Update(ctx, func(tx *Tx) error {
		_, err := tx.exec(`INSERT INTO server_key (id, fingerprint, recorded_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING`, fingerprint, micros(tx.now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record server key: %w", err)
	}
	return db.ServerKeyRecord(ctx)
}

// HasData reports whether the database holds anything sealed or looked up
// under a server key: a district, a school or a report. A database with
// none may take a new key (hotline init); one with any must keep its own.
func (db *DB) HasData(ctx context.Context) (bool, error) {
	for _, table := range []string{"districts", "schools", "tips"} {
		var n int
		if err := db.reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM (SELECT 1 FROM `+table+` LIMIT 1) AS t`); err != nil {
			return false, fmt.Errorf("has data: %w", err)
		}
		if n > 0 {
			return true, nil
		}
	}
	return false, nil
}
