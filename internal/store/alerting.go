package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"hotline/internal/hotline"
)

// Owners of an alert target.
const (
	OwnerStaff    = "staff"    // a staff member's own channel
	OwnerSchool   = "school"   // a school's group robot or webhook
	OwnerDistrict = "district" // a district's group robot or webhook
)

// AlertTarget is a destination someone linked for alerts. Its address and
// secret are only in Sealed (nil for Telegram and e-mail, whose addresses
// stay in the counselor's row).
type AlertTarget struct {
	ID          int64
	Owner       string
	CounselorID int64
	SchoolID    int64
	District    string
	Kind        string
	Sealed      []byte
	CreatedAt   time.Time
	// TestedAt is when the last test alert went out; VerifiedAt when a
	// test was acknowledged from its own link or code.
	TestedAt   time.Time
	VerifiedAt time.Time
	// FailedAt is the last failed send, with the vendor's code and a
	// reason safe to show; a later success clears it.
	FailedAt   time.Time
	FailCode   string
	FailReason string
}

// Verified reports whether a test over the target was acknowledged and no
// send failed since (verifying clears the failure).
func (t *AlertTarget) Verified() bool {
	return !t.VerifiedAt.IsZero() && t.FailedAt.IsZero()
}

type alertTargetRow struct {
	ID          int64         `db:"id"`
	Owner       string        `db:"owner"`
	CounselorID sql.NullInt64 `db:"counselor_id"`
	SchoolID    sql.NullInt64 `db:"school_id"`
	District    string        `db:"district"`
	Kind        string        `db:"kind"`
	Sealed      []byte        `db:"sealed"`
	CreatedAt   int64         `db:"created_at"`
	TestedAt    int64         `db:"tested_at"`
	VerifiedAt  int64         `db:"verified_at"`
	FailedAt    int64         `db:"failed_at"`
	FailCode    string        `db:"fail_code"`
	FailReason  string        `db:"fail_reason"`
}

const alertTargetColumns = `id, owner, counselor_id, school_id, district, kind, sealed, created_at, tested_at, verified_at, failed_at, fail_code, fail_reason`

func (r *alertTargetRow) target() *AlertTarget {
	return &AlertTarget{ID: r.ID, Owner: r.Owner, CounselorID: r.CounselorID.Int64, SchoolID: r.SchoolID.Int64, District: r.District,
		Kind: r.Kind, Sealed: r.Sealed, CreatedAt: fromMicros(r.CreatedAt), TestedAt: fromMicros(r.TestedAt),
		VerifiedAt: fromMicros(r.VerifiedAt), FailedAt: fromMicros(r.FailedAt), FailCode: r.FailCode, FailReason: r.FailReason}
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// AddAlertTarget inserts a target without its sealed address and sets
// t.ID: the caller seals the address bound to that id, then stores it with
// SetAlertTargetSealed in the same transaction.
func (tx *Tx) AddAlertTarget(t *AlertTarget) error {
	switch t.Owner {
	case OwnerStaff, OwnerSchool, OwnerDistrict:
	default:
		return fmt.Errorf("alert target: unknown owner %q", t.Owner)
	}
	t.CreatedAt = tx.now
	id, err := tx.insertID(`INSERT INTO alert_targets (owner, counselor_id, school_id, district, kind, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Owner, nullID(t.CounselorID), nullID(t.SchoolID), t.District, t.Kind, micros(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert alert target: %w", err)
	}
	t.ID = id
	return nil
}

// SetAlertTargetSealed stores a target's sealed address.
func (tx *Tx) SetAlertTargetSealed(id int64, sealed []byte) error {
	return tx.execOne(`UPDATE alert_targets SET sealed = ? WHERE id = ?`, sealed, id)
}

// ReplaceStaffTarget makes the staff member's one target of kind (Telegram,
// e-mail) new and untested: linking another chat or address must be tested
// again.
func (tx *Tx) ReplaceStaffTarget(counselorID int64, kind string) error {
	if err := tx.DeleteStaffTargets(counselorID, kind); err != nil {
		return err
	}
	return tx.AddAlertTarget(&AlertTarget{Owner: OwnerStaff, CounselorID: counselorID, Kind: kind})
}

// DeleteStaffTargets deletes a staff member's targets of kind.
func (tx *Tx) DeleteStaffTargets(counselorID int64, kind string) error {
	_, err := tx.exec(`DELETE FROM alert_targets WHERE counselor_id = ? AND kind = ?`, counselorID, kind)
	return err
}

// DeleteAlertTarget deletes a target; it is ErrNotFound unless the target
// exists and belongs to owner.
func (tx *Tx) DeleteAlertTarget(id int64, owner TargetOwner) error {
	where, args := owner.where()
	return tx.execOne(`DELETE FROM alert_targets WHERE id = ? AND `+where, append([]any{id}, args...)...)
}

// TargetOwner names whose targets a query is about: exactly one of its
// fields is set.
type TargetOwner struct {
	CounselorID int64
	SchoolID    int64 // a school's group targets (not its staff's)
	District    string
}

func (o TargetOwner) where() (string, []any) {
	switch {
	case o.CounselorID != 0:
		return `owner = 'staff' AND counselor_id = ?`, []any{o.CounselorID}
	case o.SchoolID != 0:
		return `owner = 'school' AND school_id = ?`, []any{o.SchoolID}
	default:
		return `owner = 'district' AND district = ?`, []any{o.District}
	}
}

// AlertTargetByID returns one target.
func (db *DB) AlertTargetByID(ctx context.Context, id int64) (*AlertTarget, error) {
	ts, err := findAlertTargets(ctx, db.reader, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	} else if len(ts) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ts[0], nil
}

// AlertTargets returns an owner's targets, oldest first.
func (db *DB) AlertTargets(ctx context.Context, owner TargetOwner) ([]*AlertTarget, error) {
	where, args := owner.where()
	return findAlertTargets(ctx, db.reader, `WHERE `+where+` ORDER BY id`, args...)
}

// SchoolAlertTargets returns every target that alerts about a school's
// cases can use: its staff's, its own groups', and its district's groups'
// and officers'.
func (db *DB) SchoolAlertTargets(ctx context.Context, schoolID int64, district string) ([]*AlertTarget, error) {
	return findAlertTargets(ctx, db.reader, `WHERE (owner = 'school' AND school_id = ?)
		OR (owner = 'staff' AND counselor_id IN (SELECT id FROM counselors WHERE school_id = ? OR (school_id IS NULL AND district = ? AND district <> '')))
		OR (owner = 'district' AND district = ? AND district <> '') ORDER BY id`, schoolID, schoolID, district, district)
}

// AllAlertTargets returns every target, for a readiness report over all
// schools at once.
func (db *DB) AllAlertTargets(ctx context.Context) ([]*AlertTarget, error) {
	return findAlertTargets(ctx, db.reader, `ORDER BY id`)
}

func findAlertTargets(ctx context.Context, q interface {
	SelectContext(context.Context, any, string, ...any) error
	Rebind(string) string
}, where string, args ...any) ([]*AlertTarget, error) {
	var rows []alertTargetRow
	if err := q.SelectContext(ctx, &rows, q.Rebind(`SELECT `+alertTargetColumns+` FROM alert_targets `+where), args...); err != nil {
		return nil, fmt.Errorf("select alert targets: %w", err)
	}
	out := make([]*AlertTarget, len(rows))
	for i := range rows {
		out[i] = rows[i].target()
	}
	return out, nil
}

// AlertTargetByID returns one target within the transaction.
func (tx *Tx) AlertTargetByID(id int64) (*AlertTarget, error) {
	ts, err := findAlertTargets(tx.c(), tx.Tx, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	} else if len(ts) == 0 {
		return nil, hotline.ErrNotFound
	}
	return ts[0], nil
}

// MarkTargetTested records that a test alert went out over a target.
func (tx *Tx) MarkTargetTested(id int64) error {
	return tx.execOne(`UPDATE alert_targets SET tested_at = ? WHERE id = ?`, micros(tx.now), id)
}

// MarkTargetVerified records that a test over the target was acknowledged
// from its own link or code: the target works.
func (tx *Tx) MarkTargetVerified(id int64) error {
	return tx.execOne(`UPDATE alert_targets SET verified_at = ?, failed_at = 0, fail_code = '', fail_reason = '' WHERE id = ?`, micros(tx.now), id)
}

// MarkTargetFailed records a failed send over a target, with a reason safe
// to show; MarkTargetSent clears it after a later success.
func (tx *Tx) MarkTargetFailed(id int64, code, reason string) error {
	_, err := tx.exec(`UPDATE alert_targets SET failed_at = ?, fail_code = ?, fail_reason = ? WHERE id = ?`, micros(tx.now), clip(code, 64), clip(reason, 200), id)
	return err
}

// MarkTargetSent clears a target's failure after a successful send.
func (tx *Tx) MarkTargetSent(id int64) error {
	_, err := tx.exec(`UPDATE alert_targets SET failed_at = 0, fail_code = '', fail_reason = '' WHERE id = ? AND failed_at <> 0`, id)
	return err
}

// clip bounds a vendor's code or reason before it is stored.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") // drops a rune cut in half
}

// ---- one-time links ----

// Purposes of alert tokens.
const (
	TokenAck  = "ack"  // "我来处理 / I'm on it": acknowledges a case
	TokenTest = "test" // confirms a test alert arrived over a target
)

// AlertToken is a one-time link of an alert; only its keyed hash is kept.
type AlertToken struct {
	MAC         []byte
	Purpose     string
	CounselorID int64 // whom the link was sent to (0: a group's test)
	TargetID    int64 // the target it went over
	TipID       int64 // the case (ack)
	SchoolID    int64 // the case's school, or the tested target's
	CodeMAC     []byte
	Tries       int
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      time.Time
}

type alertTokenRow struct {
	MAC         []byte `db:"token_mac"`
	Purpose     string `db:"purpose"`
	CounselorID int64  `db:"counselor_id"`
	TargetID    int64  `db:"target_id"`
	TipID       int64  `db:"tip_id"`
	SchoolID    int64  `db:"school_id"`
	CodeMAC     []byte `db:"code_mac"`
	Tries       int    `db:"tries"`
	CreatedAt   int64  `db:"created_at"`
	ExpiresAt   int64  `db:"expires_at"`
	UsedAt      int64  `db:"used_at"`
}

const alertTokenColumns = `token_mac, purpose, counselor_id, target_id, tip_id, school_id, code_mac, tries, created_at, expires_at, used_at`

func (r *alertTokenRow) token() *AlertToken {
	return &AlertToken{MAC: r.MAC, Purpose: r.Purpose, CounselorID: r.CounselorID, TargetID: r.TargetID, TipID: r.TipID, SchoolID: r.SchoolID,
		CodeMAC: r.CodeMAC, Tries: r.Tries, CreatedAt: fromMicros(r.CreatedAt), ExpiresAt: fromMicros(r.ExpiresAt), UsedAt: fromMicros(r.UsedAt)}
}

// AddAlertToken stores a one-time link's keyed hash.
func (tx *Tx) AddAlertToken(t *AlertToken) error {
	t.CreatedAt = tx.now
	_, err := tx.exec(`INSERT INTO alert_tokens (token_mac, purpose, counselor_id, target_id, tip_id, school_id, code_mac, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.MAC, t.Purpose, t.CounselorID, t.TargetID, t.TipID, t.SchoolID, t.CodeMAC, micros(t.CreatedAt), micros(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert alert token: %w", err)
	}
	return nil
}

// AlertTokenByMAC finds a token, used or not, expired or not: the page
// says which. ErrNotFound when unknown.
func (db *DB) AlertTokenByMAC(ctx context.Context, mac []byte) (*AlertToken, error) {
	var r alertTokenRow
	err := db.reader.GetContext(ctx, &r, db.reader.Rebind(`SELECT `+alertTokenColumns+` FROM alert_tokens WHERE token_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return r.token(), nil
}

// AlertTokenByMAC finds a token within the transaction.
func (tx *Tx) AlertTokenByMAC(mac []byte) (*AlertToken, error) {
	var r alertTokenRow
	err := tx.GetContext(tx.c(), &r, tx.Rebind(`SELECT `+alertTokenColumns+` FROM alert_tokens WHERE token_mac = ?`), mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return r.token(), nil
}

// UseAlertToken marks a token used; it returns false when it was used
// already (another click won the race).
func (tx *Tx) UseAlertToken(mac []byte) (bool, error) {
	res, err := tx.exec(`UPDATE alert_tokens SET used_at = ? WHERE token_mac = ? AND used_at = 0`, micros(tx.now), mac)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LatestTestToken returns the newest unused test token of a target.
func (tx *Tx) LatestTestToken(targetID int64) (*AlertToken, error) {
	var r alertTokenRow
	err := tx.GetContext(tx.c(), &r, tx.Rebind(`SELECT `+alertTokenColumns+` FROM alert_tokens WHERE target_id = ? AND purpose = 'test' AND used_at = 0 ORDER BY created_at DESC LIMIT 1`), targetID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return r.token(), nil
}

// CountTokenTry counts a wrong code against a test token.
func (tx *Tx) CountTokenTry(mac []byte) error {
	_, err := tx.exec(`UPDATE alert_tokens SET tries = tries + 1 WHERE token_mac = ?`, mac)
	return err
}

// DropTestTokens deletes a target's unused test tokens: a new test makes
// the older ones void.
func (tx *Tx) DropTestTokens(targetID int64) error {
	_, err := tx.exec(`DELETE FROM alert_tokens WHERE target_id = ? AND purpose = 'test' AND used_at = 0`, targetID)
	return err
}

// DeleteExpiredAlertTokens deletes tokens that expired before t.
func (tx *Tx) DeleteExpiredAlertTokens(t time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM alert_tokens WHERE expires_at < ?`, micros(t))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
