package store

import (
	"context"
	"database/sql"
	"time"
)

// OutboxStats is the state of the outbox of replies to Telegram, for
// metrics: how many wait and since when.
type OutboxStats struct {
	Len    int
	Oldest time.Time // zero when empty
}

// OutboxStats counts the waiting replies and finds the oldest. Ids grow
// with time, so the oldest is the first by id, found through the key.
func (db *DB) OutboxStats(ctx context.Context) (OutboxStats, error) {
	var row struct {
		N      int           `db:"n"`
		Oldest sql.NullInt64 `db:"oldest"`
	}
	err := db.reader.GetContext(ctx, &row, `SELECT COUNT(*) AS n, (SELECT created_at FROM outbox ORDER BY id LIMIT 1) AS oldest FROM outbox`)
	if err != nil {
		return OutboxStats{}, err
	}
	s := OutboxStats{Len: row.N}
	if row.Oldest.Valid {
		s.Oldest = fromMicros(row.Oldest.Int64)
	}
	return s, nil
}
