package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

// MarkViewed records that a counselor opened a case at at. A later view
// replaces an earlier one; an earlier one never replaces a later one.
func (tx *Tx) MarkViewed(counselorID, tipID int64, at time.Time) error {
	_, err := tx.exec(`INSERT INTO tip_views (counselor_id, tip_id, viewed_at) VALUES (?, ?, ?)
		ON CONFLICT (counselor_id, tip_id) DO UPDATE SET viewed_at = excluded.viewed_at WHERE excluded.viewed_at > tip_views.viewed_at`,
		counselorID, tipID, micros(at))
	if err != nil {
		return fmt.Errorf("mark viewed: %w", err)
	}
	return nil
}

// ViewTimes returns when a counselor last opened each of the tips; tips
// never opened are absent.
func (db *DB) ViewTimes(ctx context.Context, counselorID int64, tipIDs []int64) (map[int64]time.Time, error) {
	out := make(map[int64]time.Time, len(tipIDs))
	if len(tipIDs) == 0 {
		return out, nil
	}
	query, args, err := sqlx.In(`SELECT tip_id, viewed_at FROM tip_views WHERE counselor_id = ? AND tip_id IN (?)`, counselorID, tipIDs)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		TipID    int64 `db:"tip_id"`
		ViewedAt int64 `db:"viewed_at"`
	}
	if err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("select views: %w", err)
	}
	for _, r := range rows {
		out[r.TipID] = fromMicros(r.ViewedAt)
	}
	return out, nil
}

// UnreadCount counts a school's open tips whose reporter wrote after the
// counselor last opened them (or that the counselor never opened).
func (db *DB) UnreadCount(ctx context.Context, counselorID, schoolID int64) (int, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT COUNT(*) FROM tips t
		LEFT JOIN tip_views v ON v.tip_id = t.id AND v.counselor_id = ?
		WHERE t.school_id = ? AND t.status IN ('new', 'acknowledged', 'investigating')
		AND t.last_reporter_at > COALESCE(v.viewed_at, 0)`), counselorID, schoolID)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// Unread reports whether a tip has news for a counselor who last viewed it
// at viewed (zero: never).
func Unread(t *hotline.Tip, viewed time.Time) bool {
	return !t.LastReporterAt.IsZero() && t.LastReporterAt.After(viewed)
}
