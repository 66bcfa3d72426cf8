package store

import (
	"context"
	"fmt"
	"time"
)

// LoginCounter says which failure count a log-in attempt is charged to.
// Each is counted and locked on its own, so that one kind of guessing
// cannot reset or exhaust another's budget.
type LoginCounter struct {
	CounselorID int64
	// Device is the MAC of a known device's cookie token: the password
	// step from that browser has its own count, and so has its second
	// factor (with TOTP). Nil means the account's count, shared by every
	// browser it does not know.
	Device []byte
	// TOTP selects the second factor's count.
	TOTP bool
	// Name, when set, is the MAC of a username that no active account
	// has: its failures are counted like an account's (CounselorID and
	// the rest are ignored).
	Name []byte
}

// counterTarget is where a counter lives: its table, its columns and the
// filter of its row.
type counterTarget struct {
	table, failures, locked, failedAt, where string
	args                                     []any
}

func (c LoginCounter) target() counterTarget {
	switch {
	case c.Name != nil:
		return counterTarget{"login_unknown", "failures", "locked_until", "failed_at", "name_mac = ?", []any{c.Name}}
	case c.TOTP && c.Device != nil:
		return counterTarget{"counselor_devices", "totp_failures", "totp_locked_until", "totp_failed_at", "counselor_id = ? AND mac = ?", []any{c.CounselorID, c.Device}}
	case c.TOTP:
		return counterTarget{"login_totp", "failures", "locked_until", "failed_at", "counselor_id = ?", []any{c.CounselorID}}
	case c.Device != nil:
		return counterTarget{"counselor_devices", "failures", "locked_until", "failed_at", "counselor_id = ? AND mac = ?", []any{c.CounselorID, c.Device}}
	default:
		return counterTarget{"counselors", "failed_logins", "locked_until", "failed_at", "id = ?", []any{c.CounselorID}}
	}
}

func (tx *Tx) ensureTOTPRow(counselorID int64) error {
	_, err := tx.exec(`INSERT INTO login_totp (counselor_id) VALUES (?) ON CONFLICT (counselor_id) DO NOTHING`, counselorID)
	return err
}

// AdmitLoginAttempt counts an attempt against c before it is evaluated,
// unless c is locked, and then locks c for delay(n), n being the new count.
// A count whose last failure is older than forget starts again at 1.
// Counting first, in the write transaction, means that attempts sent in
// parallel are admitted one after the other against a fresh count: none
// reads a stale lock, none overwrites a longer one. It reports false,
// counting nothing, while c is locked (or a device row is missing).
func (tx *Tx) AdmitLoginAttempt(c LoginCounter, delay func(n int) time.Duration, forget time.Duration) (bool, error) {
	switch {
	case c.Name != nil:
		if _, err := tx.exec(`INSERT INTO login_unknown (name_mac) VALUES (?) ON CONFLICT (name_mac) DO NOTHING`, c.Name); err != nil {
			return false, fmt.Errorf("unknown name row: %w", err)
		}
	case c.TOTP && c.Device == nil:
		if err := tx.ensureTOTPRow(c.CounselorID); err != nil {
			return false, fmt.Errorf("totp row: %w", err)
		}
	}
	t := c.target()
	now := micros(tx.now)
	res, err := tx.exec(`UPDATE `+t.table+` SET `+t.failures+` = CASE WHEN `+t.failedAt+` < ? THEN 1 ELSE `+t.failures+` + 1 END, `+t.failedAt+` = ?
		WHERE `+t.where+` AND `+t.locked+` <= ?`, append([]any{micros(tx.now.Add(-forget)), now}, append(t.args, now)...)...)
	if err != nil {
		return false, fmt.Errorf("admit log-in attempt: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		return false, nil
	}
	var n int
	if err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT `+t.failures+` FROM `+t.table+` WHERE `+t.where), t.args...); err != nil {
		return false, fmt.Errorf("read log-in failures: %w", err)
	}
	if d := delay(n); d > 0 {
		if _, err := tx.exec(`UPDATE `+t.table+` SET `+t.locked+` = ? WHERE `+t.where, append([]any{micros(tx.now.Add(d))}, t.args...)...); err != nil {
			return false, fmt.Errorf("lock log-in: %w", err)
		}
	}
	return true, nil
}

// RefundLoginAttempt takes back one admitted attempt that turned out right
// (a correct password whose second factor is still to come): it does not
// count as a failure. A lock it set stays until it runs out.
func (tx *Tx) RefundLoginAttempt(c LoginCounter) error {
	t := c.target()
	_, err := tx.exec(`UPDATE `+t.table+` SET `+t.failures+` = `+t.failures+` - 1 WHERE `+t.where+` AND `+t.failures+` > 0`, t.args...)
	return err
}

// ClearLoginFailures resets c after a complete log-in.
func (tx *Tx) ClearLoginFailures(c LoginCounter) error {
	t := c.target()
	_, err := tx.exec(`UPDATE `+t.table+` SET `+t.failures+` = 0, `+t.locked+` = 0 WHERE `+t.where, t.args...)
	return err
}

// TouchLoginCounter writes c's last failure time again: the write that a
// failed log-in at an unknown name makes where a real account's failure
// writes its audit entry, so that the two take alike.
func (tx *Tx) TouchLoginCounter(c LoginCounter) error {
	t := c.target()
	_, err := tx.exec(`UPDATE `+t.table+` SET `+t.failedAt+` = ? WHERE `+t.where, append([]any{micros(tx.now)}, t.args...)...)
	return err
}

// LoginNameLocked reports whether the unknown-name counter mac is locked now.
func (db *DB) LoginNameLocked(ctx context.Context, mac []byte) (bool, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT count(*) FROM login_unknown WHERE name_mac = ? AND locked_until > ?`), mac, micros(db.Clock.Now()))
	if err != nil {
		return false, fmt.Errorf("unknown name lock: %w", err)
	}
	return n > 0, nil
}

// ForgetRestedLoginNames deletes the unknown-name counters whose last
// failure was before before and whose lock has run out: such a count
// would start again at its next failure anyway (see AdmitLoginAttempt).
func (tx *Tx) ForgetRestedLoginNames(before time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM login_unknown WHERE failed_at < ? AND locked_until <= ?`, micros(before), micros(tx.now))
	if err != nil {
		return 0, fmt.Errorf("forget rested names: %w", err)
	}
	return res.RowsAffected()
}

// UseTOTPStep records step as the counselor's last accepted TOTP time step
// and reports true, or reports false when a code of this or a later step
// was accepted before: each code is accepted once, ever.
func (tx *Tx) UseTOTPStep(counselorID, step int64) (bool, error) {
	if err := tx.ensureTOTPRow(counselorID); err != nil {
		return false, fmt.Errorf("totp row: %w", err)
	}
	res, err := tx.exec(`UPDATE login_totp SET last_step = ? WHERE counselor_id = ? AND last_step < ?`, step, counselorID, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// maxDevices bounds how many browsers are remembered per counselor; the
// least recently used are forgotten first.
const maxDevices = 20

// RememberDevice records (or refreshes) a device the counselor just
// completed a log-in from, with a clean failure count, and forgets the
// counselor's devices unused since before forgetBefore.
func (tx *Tx) RememberDevice(counselorID int64, mac []byte, forgetBefore time.Time) error {
	now := micros(tx.now)
	if _, err := tx.exec(`INSERT INTO counselor_devices (counselor_id, mac, created_at, last_used) VALUES (?, ?, ?, ?)
		ON CONFLICT (counselor_id, mac) DO UPDATE SET last_used = excluded.last_used, failures = 0, locked_until = 0, totp_failures = 0, totp_locked_until = 0`, counselorID, mac, now, now); err != nil {
		return fmt.Errorf("remember device: %w", err)
	}
	if _, err := tx.exec(`DELETE FROM counselor_devices WHERE counselor_id = ? AND (last_used < ? OR mac NOT IN
		(SELECT mac FROM counselor_devices WHERE counselor_id = ? ORDER BY last_used DESC LIMIT ?))`, counselorID, micros(forgetBefore), counselorID, maxDevices); err != nil {
		return fmt.Errorf("prune devices: %w", err)
	}
	return nil
}

// ForgetDevices forgets every device of a counselor (deactivation).
func (tx *Tx) ForgetDevices(counselorID int64) error {
	_, err := tx.exec(`DELETE FROM counselor_devices WHERE counselor_id = ?`, counselorID)
	return err
}

// ForgetOtherDevices forgets every device of a counselor but keep (nil:
// all of them), after a password change.
func (tx *Tx) ForgetOtherDevices(counselorID int64, keep []byte) error {
	if keep == nil {
		return tx.ForgetDevices(counselorID)
	}
	_, err := tx.exec(`DELETE FROM counselor_devices WHERE counselor_id = ? AND mac != ?`, counselorID, keep)
	return err
}

// KnownDevice reports whether mac names a device the counselor completed
// a log-in from and used since since.
func (db *DB) KnownDevice(ctx context.Context, counselorID int64, mac []byte, since time.Time) (bool, error) {
	var n int
	err := db.reader.GetContext(ctx, &n, db.reader.Rebind(`SELECT count(*) FROM counselor_devices WHERE counselor_id = ? AND mac = ? AND last_used >= ?`), counselorID, mac, micros(since))
	if err != nil {
		return false, fmt.Errorf("known device: %w", err)
	}
	return n > 0, nil
}
