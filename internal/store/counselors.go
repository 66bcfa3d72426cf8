package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
)

type counselorRow struct {
	ID                 int64         `db:"id"`
	SchoolID           sql.NullInt64 `db:"school_id"`
	District           string        `db:"district"`
	Username           string        `db:"username"`
	DisplayName        string        `db:"display_name"`
	Role               string        `db:"role"`
	Active             bool          `db:"active"`
	MustChangePassword bool          `db:"must_change_password"`
	WrappedKey         []byte        `db:"wrapped_key"`
	TOTPSealed         []byte        `db:"totp_sealed"`
	FailedLogins       int           `db:"failed_logins"`
	LockedUntil        int64         `db:"locked_until"`
	OnCall             bool          `db:"on_call"`
	TelegramMAC        []byte        `db:"telegram_mac"`
	TelegramSealed     []byte        `db:"telegram_sealed"`
	EmailSealed        []byte        `db:"email_sealed"`
	DutyHead           bool          `db:"duty_head"`
	CreatedAt          int64         `db:"created_at"`
}

const counselorColumns = `id, school_id, district, username, display_name, role, active, must_change_password, wrapped_key, totp_sealed, failed_logins, locked_until, on_call, telegram_mac, telegram_sealed, email_sealed, duty_head, created_at`

// CounselorRecord is a counselor with the secrets the log-in and alerting
// code needs: the wrapped school key, throttling state, linked channels.
type CounselorRecord struct {
	hotline.Counselor
	WrappedKey   []byte
	FailedLogins int
	LockedUntil  int64 // unix micros
	// OnCall is, for school staff, the school-wide fallback on call at
	// every hour the rota leaves empty; for a district officer, the
	// district's duty officer (区教育局值班), the ladder's last rung.
	OnCall bool
	// DutyHead marks the school's head (校长/德育主任), the ladder's
	// fourth rung: a duty beside the role.
	DutyHead       bool
	TelegramMAC    []byte
	TelegramSealed []byte
	EmailSealed    []byte
}

func (r *counselorRow) record() *CounselorRecord {
	return &CounselorRecord{
		Counselor: hotline.Counselor{
			ID: r.ID, SchoolID: r.SchoolID.Int64, District: r.District, Username: r.Username, DisplayName: r.DisplayName,
			Role: hotline.Role(r.Role), Active: r.Active, MustChangePassword: r.MustChangePassword, TOTPSecretSealed: r.TOTPSealed,
			CreatedAt: fromMicros(r.CreatedAt),
		},
		WrappedKey: r.WrappedKey, FailedLogins: r.FailedLogins, LockedUntil: r.LockedUntil, OnCall: r.OnCall, DutyHead: r.DutyHead,
		TelegramMAC: r.TelegramMAC, TelegramSealed: r.TelegramSealed, EmailSealed: r.EmailSealed,
	}
}

// CreateCounselor inserts a counselor with the school (or district) key
// wrapped under their one-time password.
func (tx *Tx) CreateCounselor(c *hotline.Counselor, wrappedKey []byte) error {
	if !c.Role.Valid() {
		return hotline.Errorf(hotline.EINVALID, "角色无效。", "Invalid role.")
	}
	if c.Username == "" || len(c.Username) > 64 {
		return hotline.Errorf(hotline.EINVALID, "用户名需为 1–64 个字符。", "A username is 1–64 characters.")
	}
	var school sql.NullInt64
	if c.SchoolID != 0 {
		school = sql.NullInt64{Int64: c.SchoolID, Valid: true}
	}
	c.CreatedAt = tx.now
	c.Active = true
	id, err := tx.insertID(`INSERT INTO counselors (school_id, district, username, display_name, role, active, must_change_password, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		school, c.District, c.Username, c.DisplayName, string(c.Role), true, c.MustChangePassword, wrappedKey, micros(c.CreatedAt))
	if err != nil {
		if tx.isUnique(err) {
			return hotline.Errorf(hotline.ECONFLICT, "这个用户名已被使用。", "That username is taken.")
		}
		return fmt.Errorf("insert counselor: %w", err)
	}
	c.ID = id
	return nil
}

func findCounselors(ctx context.Context, q sqlx.QueryerContext, rebind func(string) string, where string, args ...any) ([]*CounselorRecord, error) {
	var rows []counselorRow
	if err := sqlx.SelectContext(ctx, q, &rows, rebind(`SELECT `+counselorColumns+` FROM counselors `+where), args...); err != nil {
		return nil, fmt.Errorf("select counselors: %w", err)
	}
	out := make([]*CounselorRecord, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

func findCounselor(ctx context.Context, q sqlx.QueryerContext, rebind func(string) string, where string, args ...any) (*CounselorRecord, error) {
	cs, err := findCounselors(ctx, q, rebind, where+` LIMIT 1`, args...)
	if err != nil {
		return nil, err
	} else if len(cs) == 0 {
		return nil, hotline.ErrNotFound
	}
	return cs[0], nil
}

// CounselorByUsername finds a counselor by username.
func (db *DB) CounselorByUsername(ctx context.Context, username string) (*CounselorRecord, error) {
	return findCounselor(ctx, db.reader, db.reader.Rebind, `WHERE username = ?`, username)
}

// CounselorByID finds a counselor by id.
func (db *DB) CounselorByID(ctx context.Context, id int64) (*CounselorRecord, error) {
	return findCounselor(ctx, db.reader, db.reader.Rebind, `WHERE id = ?`, id)
}

// CounselorByID finds a counselor by id within the transaction.
func (tx *Tx) CounselorByID(id int64) (*CounselorRecord, error) {
	return findCounselor(tx.c(), tx.Tx, tx.Rebind, `WHERE id = ?`, id)
}

// CounselorByTelegram finds the staff member who linked a Telegram chat.
func (db *DB) CounselorByTelegram(ctx context.Context, mac []byte) (*CounselorRecord, error) {
	return findCounselor(ctx, db.reader, db.reader.Rebind, `WHERE telegram_mac = ? AND active = ?`, mac, true)
}

// Counselors lists a school's staff (schoolID 0: district officers of district).
func (db *DB) Counselors(ctx context.Context, schoolID int64, district string) ([]*CounselorRecord, error) {
	if schoolID == 0 {
		return findCounselors(ctx, db.reader, db.reader.Rebind, `WHERE school_id IS NULL AND district = ? ORDER BY username`, district)
	}
	return findCounselors(ctx, db.reader, db.reader.Rebind, `WHERE school_id = ? ORDER BY username`, schoolID)
}

// SetWrappedKey replaces a counselor's wrapped key, e.g. after a password
// change, and clears or sets the one-time-password flag. Once committed,
// the old wrapped key is scrubbed from the database file and its WAL
// (scrub.go), so the old password unwraps nothing in a copy of either.
func (tx *Tx) SetWrappedKey(counselorID int64, wrapped []byte, mustChange bool) error {
	if err := tx.execOne(`UPDATE counselors SET wrapped_key = ?, must_change_password = ?, failed_logins = 0, locked_until = 0 WHERE id = ? AND active = ?`, wrapped, mustChange, counselorID, true); err != nil {
		return err
	}
	tx.scrubKeysAfterCommit()
	return nil
}

// DeactivateCounselor deletes a counselor's wrapped key: without it their
// password opens nothing, whatever else happens. Once committed, the key
// is scrubbed from the database file and its WAL too (scrub.go). Their
// alert channels and rota slots go too: alerts must not reach someone who
// left, and the hours they covered show as a hole in the rota.
func (tx *Tx) DeactivateCounselor(counselorID int64) error {
	if err := tx.execOne(`UPDATE counselors SET active = ?, wrapped_key = NULL, telegram_mac = NULL, telegram_sealed = NULL, email_sealed = NULL, on_call = ?, duty_head = ? WHERE id = ?`, false, false, false, counselorID); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM alert_targets WHERE counselor_id = ?`, `DELETE FROM rota_slots WHERE counselor_id = ?`} {
		if _, err := tx.exec(q, counselorID); err != nil {
			return err
		}
	}
	tx.scrubKeysAfterCommit()
	return nil
}

// RecordLoginFailure counts a failed log-in and sets when the next try is allowed.
func (tx *Tx) RecordLoginFailure(counselorID int64, lockedUntil int64) error {
	return tx.execOne(`UPDATE counselors SET failed_logins = failed_logins + 1, locked_until = ? WHERE id = ?`, lockedUntil, counselorID)
}

// RecordLoginSuccess resets the failure count.
func (tx *Tx) RecordLoginSuccess(counselorID int64) error {
	return tx.execOne(`UPDATE counselors SET failed_logins = 0, locked_until = 0 WHERE id = ?`, counselorID)
}

// SetTOTP stores (sealed) or clears a counselor's TOTP secret.
func (tx *Tx) SetTOTP(counselorID int64, sealed []byte) error {
	return tx.execOne(`UPDATE counselors SET totp_sealed = ? WHERE id = ?`, sealed, counselorID)
}

// SetOnCall puts a counselor on or off the school's on-call rota.
func (tx *Tx) SetOnCall(counselorID int64, on bool) error {
	return tx.execOne(`UPDATE counselors SET on_call = ? WHERE id = ?`, on, counselorID)
}

// SetDutyHead marks a staff member as (or no longer as) the school's head
// (校长/德育主任), the ladder's fourth rung.
func (tx *Tx) SetDutyHead(counselorID int64, on bool) error {
	return tx.execOne(`UPDATE counselors SET duty_head = ? WHERE id = ?`, on, counselorID)
}

// SetTelegram links (or with nil, unlinks) a staff member's Telegram chat for alerts.
func (tx *Tx) SetTelegram(counselorID int64, mac, sealed []byte) error {
	if mac != nil {
		// A chat alerts one staff member only.
		if _, err := tx.exec(`UPDATE counselors SET telegram_mac = NULL, telegram_sealed = NULL WHERE telegram_mac = ?`, mac); err != nil {
			return err
		}
	}
	return tx.execOne(`UPDATE counselors SET telegram_mac = ?, telegram_sealed = ? WHERE id = ?`, mac, sealed, counselorID)
}

// SetEmail stores a staff member's sealed e-mail address for alerts.
func (tx *Tx) SetEmail(counselorID int64, sealed []byte) error {
	return tx.execOne(`UPDATE counselors SET email_sealed = ? WHERE id = ?`, sealed, counselorID)
}

func (tx *Tx) execOne(query string, args ...any) error {
	res, err := tx.exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return hotline.ErrNotFound
	}
	return nil
}
