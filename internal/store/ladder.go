package store

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// States of a ladder.
const (
	LadderClimbing     = "climbing"     // the next rung is paged at NextAt
	LadderTop          = "top"          // the last rung was paged; nobody acknowledged yet
	LadderAcknowledged = "acknowledged" // someone acknowledged: it stopped
	LadderEnded        = "ended"        // the case stopped being new and urgent otherwise
)

// Ladder is the escalation ladder of one urgent case.
type Ladder struct {
	TipID       int64
	SchoolID    int64
	Rung        int       // the rung paged last; 0 before the first
	State       string    // LadderClimbing, ...
	NextAt      time.Time // when the next rung is due (zero once stopped)
	StartedAt   time.Time // when the case became urgent
	FirstSentAt time.Time // the first alert a vendor accepted
	AckedAt     time.Time
	AckedBy     int64 // the staff member who acknowledged (0: not known)
	Metered     bool  // its time to acknowledgement was counted
	UpdatedAt   time.Time
}

// Open reports whether the ladder still waits for an acknowledgement.
func (l *Ladder) Open() bool { return l.State == LadderClimbing || l.State == LadderTop }

type ladderRow struct {
	TipID       int64  `db:"tip_id"`
	SchoolID    int64  `db:"school_id"`
	Rung        int    `db:"rung"`
	State       string `db:"state"`
	NextAt      int64  `db:"next_at"`
	StartedAt   int64  `db:"started_at"`
	FirstSentAt int64  `db:"first_sent_at"`
	AckedAt     int64  `db:"acked_at"`
	AckedBy     int64  `db:"acked_by"`
	Metered     bool   `db:"metered"`
	UpdatedAt   int64  `db:"updated_at"`
}

const ladderColumns = `tip_id, school_id, rung, state, next_at, started_at, first_sent_at, acked_at, acked_by, metered, updated_at`

func (r *ladderRow) ladder() *Ladder {
	return &Ladder{TipID: r.TipID, SchoolID: r.SchoolID, Rung: r.Rung, State: r.State, NextAt: fromMicros(r.NextAt), StartedAt: fromMicros(r.StartedAt),
		FirstSentAt: fromMicros(r.FirstSentAt), AckedAt: fromMicros(r.AckedAt), AckedBy: r.AckedBy, Metered: r.Metered, UpdatedAt: fromMicros(r.UpdatedAt)}
}

type selecter interface {
	SelectContext(context.Context, any, string, ...any) error
	Rebind(string) string
}

func findLadders(ctx context.Context, q selecter, where string, args ...any) ([]*Ladder, error) {
	var rows []ladderRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+ladderColumns+` FROM ladders `+where), args...); err != nil {
		return nil, fmt.Errorf("select ladders: %w", err)
	}
	out := make([]*Ladder, len(rows))
	for i := range rows {
		out[i] = rows[i].ladder()
	}
	return out, nil
}

// StartLadder starts a case's ladder, due at once, unless it has one; a
// ladder that ended without an acknowledgement (the urgent flag was
// cleared) starts again from its first rung. It returns whether it
// started.
func (tx *Tx) StartLadder(tipID, schoolID int64, startedAt time.Time) (bool, error) {
	l, err := tx.LadderByTip(tipID)
	switch {
	case hotline.ErrorCode(err) == hotline.ENOTFOUND:
		_, err := tx.exec(`INSERT INTO ladders (tip_id, school_id, rung, state, next_at, started_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, ?)`,
			tipID, schoolID, LadderClimbing, micros(tx.now), micros(startedAt), micros(tx.now))
		return err == nil, err
	case err != nil:
		return false, err
	case l.State != LadderEnded:
		return false, nil
	}
	err = tx.execOne(`UPDATE ladders SET rung = 0, state = ?, next_at = ?, started_at = ?, first_sent_at = 0, updated_at = ? WHERE tip_id = ?`,
		LadderClimbing, micros(tx.now), micros(startedAt), micros(tx.now), tipID)
	return err == nil, err
}

// UrgentWithoutLadder returns urgent open cases nobody acknowledged whose
// ladder is not running (none yet, or one that ended when the urgent flag
// was cleared), for the scheduler to start.
func (db *DB) UrgentWithoutLadder(ctx context.Context) ([]*hotline.Tip, error) {
	return findTips(ctx, db.reader, `WHERE urgent = ? AND acknowledged_at = 0 AND status = 'new'
		AND NOT EXISTS (SELECT 1 FROM ladders l WHERE l.tip_id = tips.id AND l.state <> ?) ORDER BY id`, true, LadderEnded)
}

// LadderByTip returns a case's ladder within the transaction.
func (tx *Tx) LadderByTip(tipID int64) (*Ladder, error) {
	ls, err := findLadders(tx.c(), tx.Tx, `WHERE tip_id = ?`, tipID)
	if err != nil {
		return nil, err
	} else if len(ls) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ls[0], nil
}

// LadderByTip returns a case's ladder.
func (db *DB) LadderByTip(ctx context.Context, tipID int64) (*Ladder, error) {
	ls, err := findLadders(ctx, db.reader, `WHERE tip_id = ?`, tipID)
	if err != nil {
		return nil, err
	} else if len(ls) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ls[0], nil
}

// LaddersDue returns climbing ladders whose next rung is due at now.
func (db *DB) LaddersDue(ctx context.Context, now time.Time) ([]*Ladder, error) {
	return findLadders(ctx, db.reader, `WHERE state = ? AND next_at <= ? ORDER BY next_at, tip_id`, LadderClimbing, micros(now))
}

// OpenLadders returns the ladders still waiting for an acknowledgement
// (of the given schools; all when none is given).
func (db *DB) OpenLadders(ctx context.Context, schoolIDs ...int64) ([]*Ladder, error) {
	where, args := `WHERE state IN (?, ?)`, []any{LadderClimbing, LadderTop}
	if len(schoolIDs) > 0 {
		where += ` AND school_id IN (` + placeholders(len(schoolIDs)) + `)`
		for _, id := range schoolIDs {
			args = append(args, id)
		}
	}
	return findLadders(ctx, db.reader, where+` ORDER BY started_at`, args...)
}

// UnmeteredLadders returns stopped ladders whose time to acknowledgement
// has not been counted yet.
func (db *DB) UnmeteredLadders(ctx context.Context) ([]*Ladder, error) {
	return findLadders(ctx, db.reader, `WHERE state = ? AND metered = ? ORDER BY tip_id LIMIT 500`, LadderAcknowledged, false)
}

// MarkLadderMetered records that a ladder's time to acknowledgement was
// counted; it returns false when another pass counted it first.
func (tx *Tx) MarkLadderMetered(tipID int64) (bool, error) {
	res, err := tx.exec(`UPDATE ladders SET metered = ? WHERE tip_id = ? AND metered = ?`, true, tipID, false)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ClimbLadder records that rung was paged and when the next one is due
// (zero next: it was the last, the ladder waits at the top).
func (tx *Tx) ClimbLadder(tipID int64, rung int, next time.Time) error {
	state := LadderClimbing
	if next.IsZero() {
		state = LadderTop
	}
	return tx.execOne(`UPDATE ladders SET rung = ?, state = ?, next_at = ?, updated_at = ? WHERE tip_id = ? AND state IN (?, ?)`,
		rung, state, micros(next), micros(tx.now), tipID, LadderClimbing, LadderTop)
}

// HurryLadder makes a climbing ladder's next rung due at once if rung is
// its current one: that rung reached nobody. It returns whether it did.
func (tx *Tx) HurryLadder(tipID int64, rung int) (bool, error) {
	res, err := tx.exec(`UPDATE ladders SET next_at = ?, updated_at = ? WHERE tip_id = ? AND rung = ? AND state = ? AND next_at > ?`,
		micros(tx.now), micros(tx.now), tipID, rung, LadderClimbing, micros(tx.now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LadderFirstSent records the first alert of a ladder a vendor accepted;
// it returns true only the first time.
func (tx *Tx) LadderFirstSent(tipID int64) (bool, error) {
	res, err := tx.exec(`UPDATE ladders SET first_sent_at = ? WHERE tip_id = ? AND first_sent_at = 0`, micros(tx.now), tipID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// StopLadder stops a case's ladder, if it has one still open: state
// LadderAcknowledged with who acknowledged, or LadderEnded. Pending sends
// of the case are cancelled in the same transaction, so that nothing more
// goes out once it commits.
func (tx *Tx) StopLadder(tipID int64, state string, by int64) error {
	acked := int64(0)
	if state == LadderAcknowledged {
		acked = micros(tx.now)
	}
	if _, err := tx.exec(`UPDATE ladders SET state = ?, next_at = 0, acked_at = ?, acked_by = ?, updated_at = ? WHERE tip_id = ? AND state IN (?, ?)`,
		state, acked, by, micros(tx.now), tipID, LadderClimbing, LadderTop); err != nil {
		return err
	}
	_, err := tx.exec(`UPDATE alert_sends SET state = ?, done_at = ? WHERE tip_id = ? AND rung > 0 AND state = ?`, SendCancelled, micros(tx.now), tipID, SendPending)
	return err
}

// ---- send attempts ----

// States of a send.
const (
	SendPending   = "pending"   // decided, not yet tried
	SendSent      = "sent"      // the vendor accepted it
	SendFailed    = "failed"    // it failed for a reason that may pass (network, server); Reason says why
	SendRefused   = "refused"   // refused for good (bad key, refused number, no account); Reason says why
	SendNobody    = "nobody"    // the rung had nobody to page
	SendCancelled = "cancelled" // the case was acknowledged before it went
)

// AlertSend is one alert to one target (or a rung with nobody), content-free.
type AlertSend struct {
	ID              int64     `db:"id"`
	SchoolID        int64     `db:"school_id"`
	TipID           int64     `db:"tip_id"`
	Rung            int       `db:"rung"`     // 0: not a ladder alert
	AlertID         int64     `db:"alert_id"` // the deadline alert (alerts row), or 0
	CounselorID     int64     `db:"counselor_id"`
	TargetID        int64     `db:"target_id"`
	Kind            string    `db:"kind"`
	State           string    `db:"state"`
	Code            string    `db:"code"`
	Reason          string    `db:"reason"`
	CreatedAtMicros int64     `db:"created_at"`
	DoneAtMicros    int64     `db:"done_at"`
	CreatedAt       time.Time `db:"-"`
	DoneAt          time.Time `db:"-"`
}

const sendColumns = `id, school_id, tip_id, rung, alert_id, counselor_id, target_id, kind, state, code, reason, created_at, done_at`

func findSends(ctx context.Context, q selecter, where string, args ...any) ([]*AlertSend, error) {
	var out []*AlertSend
	if err := q.SelectContext(ctx, &out, q.Rebind(`SELECT `+sendColumns+` FROM alert_sends `+where), args...); err != nil {
		return nil, fmt.Errorf("select alert sends: %w", err)
	}
	for _, s := range out {
		s.CreatedAt, s.DoneAt = fromMicros(s.CreatedAtMicros), fromMicros(s.DoneAtMicros)
	}
	return out, nil
}

// AddAlertSend records a send to make (state SendPending) or a rung with
// nobody (SendNobody), and sets its ID.
func (tx *Tx) AddAlertSend(s *AlertSend) error {
	s.CreatedAt = tx.now
	if s.State != SendPending {
		s.DoneAt = tx.now
	}
	id, err := tx.insertID(`INSERT INTO alert_sends (school_id, tip_id, rung, alert_id, counselor_id, target_id, kind, state, code, reason, created_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.SchoolID, s.TipID, s.Rung, s.AlertID, s.CounselorID, s.TargetID, s.Kind, s.State, clip(s.Code, 64), clip(s.Reason, 200), micros(s.CreatedAt), micros(s.DoneAt))
	if err != nil {
		return fmt.Errorf("insert alert send: %w", err)
	}
	s.ID = id
	return nil
}

// FinishSend records how a pending send went; it returns false when the
// send was no longer pending (cancelled by an acknowledgement meanwhile).
func (tx *Tx) FinishSend(id int64, state, code, reason string) (bool, error) {
	res, err := tx.exec(`UPDATE alert_sends SET state = ?, code = ?, reason = ?, done_at = ? WHERE id = ? AND state = ?`,
		state, clip(code, 64), clip(reason, 200), micros(tx.now), id, SendPending)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PendingSends returns ladder sends not yet tried, oldest first.
func (db *DB) PendingSends(ctx context.Context, limit int) ([]*AlertSend, error) {
	return findSends(ctx, db.reader, `WHERE state = ? ORDER BY id LIMIT ?`, SendPending, limit)
}

// SendsOfTip returns a case's sends, oldest first.
func (db *DB) SendsOfTip(ctx context.Context, tipID int64) ([]*AlertSend, error) {
	return findSends(ctx, db.reader, `WHERE tip_id = ? ORDER BY id`, tipID)
}

// SendsOfAlert returns the sends of a deadline alert.
func (db *DB) SendsOfAlert(ctx context.Context, alertID int64) ([]*AlertSend, error) {
	return findSends(ctx, db.reader, `WHERE alert_id = ? ORDER BY id`, alertID)
}

// FailedSends returns the failed sends and rungs with nobody of the given
// schools since t, newest first, at most limit: what the school admin and
// the district are shown.
func (db *DB) FailedSends(ctx context.Context, schoolIDs []int64, since time.Time, limit int) ([]*AlertSend, error) {
	if len(schoolIDs) == 0 {
		return nil, nil
	}
	args := []any{SendFailed, SendRefused, SendNobody, micros(since)}
	for _, id := range schoolIDs {
		args = append(args, id)
	}
	args = append(args, limit)
	return findSends(ctx, db.reader, `WHERE state IN (?, ?, ?) AND created_at >= ? AND school_id IN (`+placeholders(len(schoolIDs))+`) ORDER BY id DESC LIMIT ?`, args...)
}

// RungOutcome counts a ladder rung's personal sends: still pending, and
// accepted by a vendor. Group sends (counselor 0) do not count: a group
// may be muted at night, so it reaches nobody in particular.
func (tx *Tx) RungOutcome(tipID int64, rung int) (pending, sent int, err error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	if err := tx.SelectContext(tx.c(), &rows, tx.Rebind(`SELECT state, COUNT(*) AS n FROM alert_sends WHERE tip_id = ? AND rung = ? AND counselor_id <> 0 GROUP BY state`), tipID, rung); err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		switch r.State {
		case SendPending:
			pending = r.N
		case SendSent:
			sent = r.N
		}
	}
	return pending, sent, nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, 0, 3*n)
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}
