package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// StaffSession is an inbox session's row: no key in it opens without the
// secret in the browser's cookie.
type StaffSession struct {
	IDMAC         []byte `db:"id_mac"`
	CounselorID   int64  `db:"counselor_id"`
	WrappedKey    []byte `db:"wrapped_key"`
	CounterDevice []byte `db:"counter_device"`
	DeviceMAC     []byte `db:"device_mac"`
	Complete      int    `db:"complete"`
	PendingTOTP   []byte `db:"pending_totp"`
	CreatedAt     int64  `db:"created_at"`
	LastSeen      int64  `db:"last_seen"`
}

const staffSessionColumns = `id_mac, counselor_id, wrapped_key, counter_device, device_mac, complete, pending_totp, created_at, last_seen`

// CreateStaffSession stores a new session, seen now.
func (tx *Tx) CreateStaffSession(s *StaffSession) error {
	now := micros(tx.now)
	s.CreatedAt, s.LastSeen = now, now
	_, err := tx.exec(`INSERT INTO staff_sessions (`+staffSessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IDMAC, s.CounselorID, s.WrappedKey, s.CounterDevice, s.DeviceMAC, s.Complete, s.PendingTOTP, s.CreatedAt, s.LastSeen)
	if err != nil {
		return fmt.Errorf("create staff session: %w", err)
	}
	return nil
}

// StaffSession finds a session by the MAC of its id (ENOTFOUND if none).
func (db *DB) StaffSession(ctx context.Context, idMAC []byte) (*StaffSession, error) {
	var s StaffSession
	err := db.reader.GetContext(ctx, &s, db.reader.Rebind(`SELECT `+staffSessionColumns+` FROM staff_sessions WHERE id_mac = ?`), idMAC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("staff session: %w", err)
	}
	return &s, nil
}

// TouchStaffSession records activity on a session.
func (tx *Tx) TouchStaffSession(idMAC []byte) error {
	_, err := tx.exec(`UPDATE staff_sessions SET last_seen = ? WHERE id_mac = ?`, micros(tx.now), idMAC)
	return err
}

// CompleteStaffSession marks a session's log-in complete (second factor
// passed), and the pending enrolment done.
func (tx *Tx) CompleteStaffSession(idMAC []byte) error {
	_, err := tx.exec(`UPDATE staff_sessions SET complete = ?, pending_totp = NULL WHERE id_mac = ?`, 1, idMAC)
	return err
}

// SetStaffSessionDevice records the browser's device MAC on a session.
func (tx *Tx) SetStaffSessionDevice(idMAC, deviceMAC []byte) error {
	_, err := tx.exec(`UPDATE staff_sessions SET device_mac = ? WHERE id_mac = ?`, deviceMAC, idMAC)
	return err
}

// SetStaffSessionPendingTOTP stores (sealed) the TOTP key a session is
// enrolling; nil clears it.
func (tx *Tx) SetStaffSessionPendingTOTP(idMAC, sealed []byte) error {
	_, err := tx.exec(`UPDATE staff_sessions SET pending_totp = ? WHERE id_mac = ?`, sealed, idMAC)
	return err
}

// DeleteStaffSession ends one session. Its wrapped key is then scrubbed
// from the SQLite files like a replaced password's (see scrub.go): it
// opens only with the cookie's secret, but a browser's cookie store can be
// stolen later too.
func (tx *Tx) DeleteStaffSession(idMAC []byte) error {
	res, err := tx.exec(`DELETE FROM staff_sessions WHERE id_mac = ?`, idMAC)
	return tx.scrubIfDeleted(res, err)
}

// DeleteCounselorSessions ends every session of a counselor but keep (nil:
// all of them), and scrubs their keys.
func (tx *Tx) DeleteCounselorSessions(counselorID int64, keep []byte) error {
	if keep == nil {
		res, err := tx.exec(`DELETE FROM staff_sessions WHERE counselor_id = ?`, counselorID)
		return tx.scrubIfDeleted(res, err)
	}
	res, err := tx.exec(`DELETE FROM staff_sessions WHERE counselor_id = ? AND id_mac != ?`, counselorID, keep)
	return tx.scrubIfDeleted(res, err)
}

// DeleteIdleStaffSessions ends every session not seen since before, and
// scrubs their keys.
func (tx *Tx) DeleteIdleStaffSessions(before time.Time) (int64, error) {
	res, err := tx.exec(`DELETE FROM staff_sessions WHERE last_seen < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete idle sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err == nil && n > 0 {
		tx.scrubKeysAfterCommit()
	}
	return n, err
}

// scrubIfDeleted asks for a scrub once tx commits if a delete removed rows.
func (tx *Tx) scrubIfDeleted(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n > 0 {
		tx.scrubKeysAfterCommit()
	}
	return nil
}
