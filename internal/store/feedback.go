package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"hotline/internal/hotline"
)

// Kinds of urgency feedback counts.
const (
	// UrgencyFlagged counts tips flagged urgent at intake or by a later
	// reporter message, by the reason of the flag.
	UrgencyFlagged = "flagged"
	// UrgencyWrong counts raised flags a counselor cleared: false alarms.
	UrgencyWrong = "wrong"
	// UrgencyMissed counts tips nobody flagged that a counselor marked
	// urgent: misses.
	UrgencyMissed = "missed"

	// The safety question's counts, asked when the detector was unsure
	// (reason ""): how often it was asked, and each question's outcome —
	// answered yes, answered no, no answer, or overtaken by urgency.
	UrgencyAsked       = hotline.SafetyCountAsked
	UrgencyAnsweredYes = hotline.SafetyCountYes
	UrgencyAnsweredNo  = hotline.SafetyCountNo
	UrgencyNoAnswer    = hotline.SafetyCountNone
	UrgencyOvertaken   = hotline.SafetyCountOvertaken
)

// DistrictNoSchool is the district the safety question's counts of a
// draft whose school was never chosen are kept under: no district can
// claim them, and no district is named with a lone space (names are
// trimmed). They are shown to every district as the whole hotline's.
const DistrictNoSchool = " "

// UrgencyLabels returns the labels kept beside a tip's urgent flag: why it
// was raised ("" when never) and the counselor's feedback on it ("",
// UrgencyWrong or UrgencyMissed).
func (tx *Tx) UrgencyLabels(tipID int64) (reason, feedback string, err error) {
	var row struct {
		Reason   string `db:"urgent_reason"`
		Feedback string `db:"urgent_feedback"`
	}
	err = tx.GetContext(tx.c(), &row, tx.Rebind(`SELECT urgent_reason, urgent_feedback FROM tips WHERE id = ?`), tipID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", hotline.ErrNotFound
	}
	return row.Reason, row.Feedback, err
}

// UrgentReason returns why a tip's urgent flag was raised ("" when never),
// for the case page.
func (db *DB) UrgentReason(ctx context.Context, tipID int64) (string, error) {
	var reason string
	err := db.reader.GetContext(ctx, &reason, db.reader.Rebind(`SELECT urgent_reason FROM tips WHERE id = ?`), tipID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", hotline.ErrNotFound
	}
	return reason, err
}

// SetUrgencyLabels stores a tip's urgency labels (see UrgencyLabels).
func (tx *Tx) SetUrgencyLabels(tipID int64, reason, feedback string) error {
	_, err := tx.exec(`UPDATE tips SET urgent_reason = ?, urgent_feedback = ? WHERE id = ?`, reason, feedback, tipID)
	return err
}

// CountUrgency adds one to the district's count of kind and reason for the
// transaction's month, or, with undo, takes one away again: from this
// month's count, or the latest month that has one (a label undone after
// the month turned), so that counts never go below zero.
func (tx *Tx) CountUrgency(district, kind, reason string, undo bool) error {
	if !undo {
		return tx.execLate(nil, `INSERT INTO urgency_feedback (district, month, kind, reason, n) VALUES (?, ?, ?, ?, 1)
			ON CONFLICT (district, month, kind, reason) DO UPDATE SET n = urgency_feedback.n + 1`,
			district, tx.now.In(hotline.ChinaTime).Format("2006-01"), kind, reason)
	}
	var month string
	err := tx.GetContext(tx.c(), &month, tx.Rebind(`SELECT month FROM urgency_feedback
		WHERE district = ? AND kind = ? AND reason = ? AND n > 0 AND month <= ? ORDER BY month DESC LIMIT 1`),
		district, kind, reason, tx.now.In(hotline.ChinaTime).Format("2006-01"))
	if errors.Is(err, sql.ErrNoRows) {
		return nil // counted before counts were kept
	} else if err != nil {
		return err
	}
	_, err = tx.exec(`UPDATE urgency_feedback SET n = n - 1 WHERE district = ? AND month = ? AND kind = ? AND reason = ?`, district, month, kind, reason)
	return err
}

// UrgencyCount is one count of urgency feedback.
type UrgencyCount struct {
	Month  string `db:"month"` // YYYY-MM, China time
	Kind   string `db:"kind"`
	Reason string `db:"reason"`
	N      int    `db:"n"`
}

// UrgencyCounts returns a district's urgency feedback counts (every
// district's, summed, for ""), newest month first.
func (db *DB) UrgencyCounts(ctx context.Context, district string) ([]UrgencyCount, error) {
	q := `SELECT month, kind, reason, SUM(n) AS n FROM urgency_feedback`
	var args []any
	if district != "" {
		q += ` WHERE district = ?`
		args = append(args, district)
	}
	q += ` GROUP BY month, kind, reason HAVING SUM(n) > 0 ORDER BY month DESC, reason, kind`
	var out []UrgencyCount
	err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(q), args...)
	return out, err
}

// SetSafetyQuestion records that a safety question about the tip was asked
// at askedAt and waits for its answer until due.
func (tx *Tx) SetSafetyQuestion(tipID int64, due, askedAt time.Time) error {
	return tx.execOne(`UPDATE tips SET safety_due = ?, safety_asked_at = ? WHERE id = ?`, micros(due), micros(askedAt), tipID)
}

// ClearSafetyQuestion records that the tip's safety question was answered.
func (tx *Tx) ClearSafetyQuestion(tipID int64) error {
	return tx.execOne(`UPDATE tips SET safety_due = 0 WHERE id = ?`, tipID)
}

// MarkPossiblyUrgent marks a tip whose safety question went unanswered
// and clears the question.
func (tx *Tx) MarkPossiblyUrgent(tipID int64) error {
	return tx.execOne(`UPDATE tips SET possibly_urgent = ?, safety_due = 0 WHERE id = ?`, true, tipID)
}

// DueSafetyQuestions returns up to limit tips whose safety question went
// unanswered at before or earlier, oldest first.
func (db *DB) DueSafetyQuestions(ctx context.Context, before time.Time, limit int) ([]*hotline.Tip, error) {
	return findTips(ctx, db.rq, `WHERE safety_due != 0 AND safety_due <= ? ORDER BY safety_due LIMIT ?`, micros(before), limit)
}
