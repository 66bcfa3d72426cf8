package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// openStatuses is the SQL list of statuses that still need work.
const openStatuses = `('new', 'acknowledged', 'investigating')`

// TipsPastDue returns tips with a deadline that has passed at now and has
// not been recorded as missed yet: an open tip unacknowledged, unanswered,
// unassessed or without its next action in time, or a district report
// (first or follow-up) not made, whatever the status. The NOT EXISTS
// clauses keep the set small once misses are recorded.
func (db *DB) TipsPastDue(ctx context.Context, now time.Time) ([]*hotline.Tip, error) {
	n := micros(now)
	// The id subquery reads small index ranges: tips_queue per school and
	// urgency (queue_due is its third column; no index of its own, which
	// every tip write would pay for; CROSS JOIN keeps schools outer in
	// SQLite, a plain join in PostgreSQL), and tips_district_due; the
	// conditions then decide exactly.
	return findTips(ctx, db.reader, `WHERE id IN (SELECT t.id FROM schools s CROSS JOIN tips t WHERE t.school_id = s.id AND t.urgent IN (?, ?) AND t.queue_due < ?
		UNION SELECT id FROM tips WHERE district_due > 0 AND district_due < ?) AND (
		(status IN `+openStatuses+` AND ack_due > 0 AND ack_due < ? AND acknowledged_at = 0
			AND NOT EXISTS (SELECT 1 FROM deadline_misses m WHERE m.tip_id = tips.id AND m.kind = 'ack' AND m.due = tips.ack_due))
		OR (status IN `+openStatuses+` AND reply_due > 0 AND reply_due < ? AND first_reply_at = 0
			AND NOT EXISTS (SELECT 1 FROM deadline_misses m WHERE m.tip_id = tips.id AND m.kind = 'reply' AND m.due = tips.reply_due))
		OR (status IN `+openStatuses+` AND assess_due > 0 AND assess_due < ? AND severity = 'unassessed'
			AND NOT EXISTS (SELECT 1 FROM deadline_misses m WHERE m.tip_id = tips.id AND m.kind = 'assess' AND m.due = tips.assess_due))
		OR (status IN `+openStatuses+` AND progress_due > 0 AND progress_due < ?
			AND NOT EXISTS (SELECT 1 FROM deadline_misses m WHERE m.tip_id = tips.id AND m.kind = 'progress' AND m.due = tips.progress_due))
		OR (district_due > 0 AND district_due < ? AND (',' || steps || ',') NOT LIKE '%,district_report,%'
			AND NOT EXISTS (SELECT 1 FROM deadline_misses m WHERE m.tip_id = tips.id AND m.kind IN ('district', 'followup') AND m.due = tips.district_due)))
		ORDER BY id`, 1, 0, n, n, n, n, n, n, n)
}

// RecordDeadlineMiss records that a deadline passed; it returns false when
// it was recorded before, so that each deadline fires once.
func (tx *Tx) RecordDeadlineMiss(tipID int64, kind string, due time.Time) (bool, error) {
	res, err := tx.ExecContext(tx.c(), tx.Rebind(`INSERT INTO deadline_misses (tip_id, kind, due, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		tipID, kind, micros(due), micros(tx.now))
	if err != nil {
		return false, fmt.Errorf("record deadline miss: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeadlineMiss is a deadline that passed undone.
type DeadlineMiss struct {
	TipID      int64     `db:"tip_id"`
	Kind       string    `db:"kind"`
	Due        time.Time `db:"-"`
	RecordedAt time.Time `db:"-"`
}

// DeadlineMisses lists the recorded misses of the given schools' tips (all
// when schoolIDs is empty), oldest first.
func (db *DB) DeadlineMisses(ctx context.Context, schoolIDs []int64) ([]*DeadlineMiss, error) {
	var rows []struct {
		TipID      int64  `db:"tip_id"`
		Kind       string `db:"kind"`
		Due        int64  `db:"due"`
		RecordedAt int64  `db:"recorded_at"`
		SchoolID   int64  `db:"school_id"`
	}
	if err := db.reader.SelectContext(ctx, &rows, `SELECT m.tip_id, m.kind, m.due, m.recorded_at, t.school_id FROM deadline_misses m JOIN tips t ON t.id = m.tip_id ORDER BY m.due, m.tip_id`); err != nil {
		return nil, fmt.Errorf("select deadline misses: %w", err)
	}
	want := map[int64]bool{}
	for _, id := range schoolIDs {
		want[id] = true
	}
	var out []*DeadlineMiss
	for _, r := range rows {
		if len(want) > 0 && !want[r.SchoolID] {
			continue
		}
		out = append(out, &DeadlineMiss{TipID: r.TipID, Kind: r.Kind, Due: fromMicros(r.Due), RecordedAt: fromMicros(r.RecordedAt)})
	}
	return out, nil
}

// UrgentUnacknowledged returns urgent open tips nobody has acknowledged yet,
// for paging staff.
func (db *DB) UrgentUnacknowledged(ctx context.Context) ([]*hotline.Tip, error) {
	return findTips(ctx, db.reader, `WHERE urgent = ? AND acknowledged_at = 0 AND status = 'new' ORDER BY id`, true)
}

// Alert is an alert owed to staff: who (audience) about which tip and why.
// It never holds content; the text is composed from metadata when sent.
type Alert struct {
	ID        int64  `db:"id"`
	Key       string `db:"key"`
	SchoolID  int64  `db:"school_id"`
	TipID     int64  `db:"tip_id"`
	Audience  string `db:"audience"`
	Reason    string `db:"reason"`
	Attempts  int    `db:"attempts"`
	CreatedAt int64  `db:"created_at"`
	SentAt    int64  `db:"sent_at"`
}

// QueueAlert stores an alert unless one with the same key exists; it
// returns whether it was new.
func (tx *Tx) QueueAlert(a *Alert) (bool, error) {
	a.CreatedAt = micros(tx.now)
	res, err := tx.ExecContext(tx.c(), tx.Rebind(`INSERT INTO alerts (key, school_id, tip_id, audience, reason, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`),
		a.Key, a.SchoolID, a.TipID, a.Audience, a.Reason, a.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("queue alert: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PendingAlerts returns alerts not yet sent that have been tried fewer than
// maxAttempts times, oldest first.
func (db *DB) PendingAlerts(ctx context.Context, maxAttempts, limit int) ([]*Alert, error) {
	var as []*Alert
	err := db.reader.SelectContext(ctx, &as, `SELECT id, key, school_id, tip_id, audience, reason, attempts, created_at, sent_at FROM alerts WHERE sent_at = 0 AND attempts < ? ORDER BY id LIMIT ?`, maxAttempts, limit)
	return as, err
}

// AlertsByTip lists a tip's alerts, for tests and the case timeline.
func (db *DB) AlertsByTip(ctx context.Context, tipID int64) ([]*Alert, error) {
	var as []*Alert
	err := db.reader.SelectContext(ctx, &as, `SELECT id, key, school_id, tip_id, audience, reason, attempts, created_at, sent_at FROM alerts WHERE tip_id = ? ORDER BY id`, tipID)
	return as, err
}

// FinishAlert records one attempt at an alert and, if sent, when.
func (tx *Tx) FinishAlert(id int64, sent bool) error {
	var sentAt int64
	if sent {
		sentAt = micros(tx.now)
	}
	return tx.execOne(`UPDATE alerts SET attempts = attempts + 1, sent_at = ? WHERE id = ?`, sentAt, id)
}

// CreateLinkCode stores the HMAC of a one-time Telegram link code; a
// counselor's older codes are dropped, so only the newest works.
func (tx *Tx) CreateLinkCode(mac []byte, counselorID int64, expires time.Time) error {
	if _, err := tx.ExecContext(tx.c(), tx.Rebind(`DELETE FROM link_codes WHERE counselor_id = ? OR expires_at < ?`), counselorID, micros(tx.now)); err != nil {
		return err
	}
	_, err := tx.ExecContext(tx.c(), tx.Rebind(`INSERT INTO link_codes (code_mac, counselor_id, expires_at) VALUES (?, ?, ?)`), mac, counselorID, micros(expires))
	return err
}

// TakeLinkCode consumes a link code: it returns the counselor it was made
// for and deletes it, or ErrNotFound when it is unknown or expired.
func (tx *Tx) TakeLinkCode(mac []byte) (int64, error) {
	var row struct {
		CounselorID int64 `db:"counselor_id"`
		ExpiresAt   int64 `db:"expires_at"`
	}
	err := tx.GetContext(tx.c(), &row, tx.Rebind(`SELECT counselor_id, expires_at FROM link_codes WHERE code_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, hotline.ErrNotFound
	} else if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(tx.c(), tx.Rebind(`DELETE FROM link_codes WHERE code_mac = ?`), mac); err != nil {
		return 0, err
	}
	if row.ExpiresAt < micros(tx.now) {
		return 0, hotline.ErrNotFound
	}
	return row.CounselorID, nil
}

// Followup is a follow-up report (续报) owed to the district.
type Followup struct {
	TipID      int64
	Due        time.Time
	TriggerSeq int64
	ReportedAt time.Time
}

// AddFollowup records that a follow-up report is due.
func (tx *Tx) AddFollowup(tipID int64, due time.Time, triggerSeq int64) error {
	_, err := tx.ExecContext(tx.c(), tx.Rebind(`INSERT INTO district_followups (tip_id, due, trigger_seq, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		tipID, micros(due), triggerSeq, micros(tx.now))
	return err
}

// CompleteFollowups marks a tip's pending follow-ups reported.
func (tx *Tx) CompleteFollowups(tipID int64) error {
	_, err := tx.ExecContext(tx.c(), tx.Rebind(`UPDATE district_followups SET reported_at = ? WHERE tip_id = ? AND reported_at = 0`), micros(tx.now), tipID)
	return err
}

// IsFollowupDue reports whether due is the due time of a follow-up of the
// tip (rather than of the first district report).
func (tx *Tx) IsFollowupDue(tipID int64, due time.Time) (bool, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT COUNT(*) FROM district_followups WHERE tip_id = ? AND due = ?`), tipID, micros(due))
	return n > 0, err
}

// Followups lists a tip's follow-ups, oldest first.
func (db *DB) Followups(ctx context.Context, tipID int64) ([]*Followup, error) {
	var rows []struct {
		TipID      int64 `db:"tip_id"`
		Due        int64 `db:"due"`
		TriggerSeq int64 `db:"trigger_seq"`
		ReportedAt int64 `db:"reported_at"`
	}
	if err := db.reader.SelectContext(ctx, &rows, `SELECT tip_id, due, trigger_seq, reported_at FROM district_followups WHERE tip_id = ? ORDER BY due`, tipID); err != nil {
		return nil, err
	}
	out := make([]*Followup, len(rows))
	for i, r := range rows {
		out[i] = &Followup{TipID: r.TipID, Due: fromMicros(r.Due), TriggerSeq: r.TriggerSeq, ReportedAt: fromMicros(r.ReportedAt)}
	}
	return out, nil
}

// Cursor returns a named scheduler cursor (0 when unset).
func (tx *Tx) Cursor(name string) (int64, error) {
	var v int64
	err := tx.GetContext(tx.c(), &v, tx.Rebind(`SELECT value FROM oversight_state WHERE name = ?`), name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// SetCursor saves a named scheduler cursor.
func (tx *Tx) SetCursor(name string, v int64) error {
	_, err := tx.ExecContext(tx.c(), tx.Rebind(`INSERT INTO oversight_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, v)
	return err
}

// EventsOfKinds returns events after seq of the given kinds, in order, at
// most limit, within the transaction.
func (tx *Tx) EventsOfKinds(afterSeq int64, kinds []hotline.EventKind, limit int) ([]*hotline.Event, error) {
	q := `WHERE seq > ? AND kind IN (`
	args := []any{afterSeq}
	for i, k := range kinds {
		if i > 0 {
			q += ", "
		}
		q += "?"
		args = append(args, string(k))
	}
	q += `) ORDER BY seq LIMIT ?`
	args = append(args, limit)
	return findEvents(tx.c(), tx.Tx, q, args...)
}

// LastEventSeq returns the newest ledger sequence number (0 when empty).
func (tx *Tx) LastEventSeq() (int64, error) {
	var v sql.NullInt64
	err := tx.GetContext(tx.c(), &v, `SELECT MAX(seq) FROM ledger`)
	return v.Int64, err
}

// TipEventSeq returns the seq of a tip's latest event of kind (0 if none).
func (tx *Tx) TipEventSeq(tipID int64, kind hotline.EventKind) (int64, error) {
	var v sql.NullInt64
	err := tx.GetContext(tx.c(), &v, tx.Rebind(`SELECT MAX(seq) FROM ledger WHERE tip_id = ? AND kind = ?`), tipID, string(kind))
	return v.Int64, err
}

// TipLastEventSeq returns the seq of a tip's newest event (0 if none).
func (tx *Tx) TipLastEventSeq(tipID int64) (int64, error) {
	var v sql.NullInt64
	err := tx.GetContext(tx.c(), &v, tx.Rebind(`SELECT MAX(seq) FROM ledger WHERE tip_id = ?`), tipID)
	return v.Int64, err
}

// TipsResolvedBefore returns a school's resolved or closed tips whose
// content is not purged and that were resolved before t (retention).
func (db *DB) TipsResolvedBefore(ctx context.Context, schoolID int64, t time.Time) ([]*hotline.Tip, error) {
	return findTips(ctx, db.reader, `WHERE school_id = ? AND status IN ('resolved', 'closed') AND purged = ? AND resolved_at > 0 AND resolved_at <= ? ORDER BY id`, schoolID, false, micros(t))
}

// TipsOfSchools returns every tip of the given schools (statistics and the
// summary report read metadata only).
func (db *DB) TipsOfSchools(ctx context.Context, schoolIDs []int64) ([]*hotline.Tip, error) {
	if len(schoolIDs) == 0 {
		return nil, nil
	}
	q := `WHERE school_id IN (`
	args := make([]any, len(schoolIDs))
	for i, id := range schoolIDs {
		if i > 0 {
			q += ", "
		}
		q += "?"
		args[i] = id
	}
	return findTips(ctx, db.reader, q+`) ORDER BY id`, args...)
}

// HasLedgerHead reports whether day already has a recorded head.
func (tx *Tx) HasLedgerHead(day string) (bool, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT COUNT(*) FROM ledger_heads WHERE day = ?`), day)
	return n > 0, err
}

// LastEventSeq returns the newest ledger sequence number (0 when empty).
func (db *DB) LastEventSeq(ctx context.Context) (int64, error) {
	var v sql.NullInt64
	err := db.reader.GetContext(ctx, &v, `SELECT MAX(seq) FROM ledger`)
	return v.Int64, err
}
