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
	// step from that browser has its own count. Nil means the account's
	// count, shared by every browser it does not know.
	Device []byte
	// TOTP selects the second factor's count (Device is then ignored).
	TOTP bool
}

// target returns the table, the failures column and the row filter of a counter.
func (c LoginCounter) target() (table, failures, where string, args []any) {
	switch {
	case c.TOTP:
		return "login_totp", "failures", "counselor_id = ?", []any{c.CounselorID}
	case c.Device != nil:
		return "counselor_devices", "failures", "counselor_id = ? AND mac = ?", []any{c.CounselorID, c.Device}
	default:
		return "counselors", "failed_logins", "id = ?", []any{c.CounselorID}
	}
}

func (tx *Tx) ensureTOTPRow(counselorID int64) error {
	_, err := tx.exec(`INSERT INTO login_totp (counselor_id) VALUES (?) ON CONFLICT (counselor_id) DO NOTHING`, counselorID)
	return err
}

// AdmitLoginAttempt counts an attempt against c before it is evaluated,
// unless c is locked, and then locks c for delay(n), n being the new count.
// Counting first, in the write transaction, means that attempts sent in
// parallel are admitted one after the other against a fresh count: none
// reads a stale lock, none overwrites a longer one. It reports false,
// counting nothing, while c is locked (or a device row is missing).
func (tx *Tx) AdmitLoginAttempt(c LoginCounter, delay func(n int) time.Duration) (bool, error) {
	if c.TOTP {
		if err := tx.ensureTOTPRow(c.CounselorID); err != nil {
			return false, fmt.Errorf("totp row: %w", err)
		}
	}
	table, failures, where, args := c.target()
	now := micros(tx.now)
	res, err := tx.exec(`UPDATE `+table+` SET `+failures+` = `+failures+` + 1 WHERE `+where+` AND locked_until <= ?`, append(args, now)...)
	if err != nil {
		return false, fmt.Errorf("admit log-in attempt: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		return false, nil
	}
	var n int
	if err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT `+failures+` FROM `+table+` WHERE `+where), args...); err != nil {
		return false, fmt.Errorf("read log-in failures: %w", err)
	}
	if d := delay(n); d > 0 {
		if _, err := tx.exec(`UPDATE `+table+` SET locked_until = ? WHERE `+where, append([]any{micros(tx.now.Add(d))}, args...)...); err != nil {
			return false, fmt.Errorf("lock log-in: %w", err)
		}
	}
	return true, nil
}

// RefundLoginAttempt takes back one admitted attempt that turned out right
// (a correct password whose second factor is still to come): it does not
// count as a failure. A lock it set stays until it runs out.
func (tx *Tx) RefundLoginAttempt(c LoginCounter) error {
	table, failures, where, args := c.target()
	_, err := tx.exec(`UPDATE `+table+` SET `+failures+` = `+failures+` - 1 WHERE `+where+` AND `+failures+` > 0`, args...)
	return err
}

// ClearLoginFailures resets c after a complete log-in.
func (tx *Tx) ClearLoginFailures(c LoginCounter) error {
	table, failures, where, args := c.target()
	_, err := tx.exec(`UPDATE `+table+` SET `+failures+` = 0, locked_until = 0 WHERE `+where, args...)
	return err
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
		ON CONFLICT (counselor_id, mac) DO UPDATE SET last_used = excluded.last_used, failures = 0, locked_until = 0`, counselorID, mac, now, now); err != nil {
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
