package staff

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// A session lives in the database so that any node can serve it, but
// what unlocks it lives only in the browser: the cookie carries a random
// id and a random secret; the row is named by a keyed MAC of the id and
// holds the school key wrapped under the secret. A stolen database (or
// backup) therefore opens no key, and a stolen cookie is no worse than a
// stolen in-memory session was. Each request unwraps the key afresh.

const (
	sessionIDPurpose   = "staff session id"
	sessionCSRFPurpose = "staff session csrf"
	sessionTOTPPurpose = "pending totp"
	sessionPartLen     = 43 // 32 bytes, unpadded base64url
)

// touchEvery is how stale a session's last_seen may get before a request
// writes it again: idle expiry is exact to within this, and a busy page
// does not cost a write per request.
func touchEvery(idle time.Duration) time.Duration { return min(time.Minute, idle/10) }

// OpenSession stores sess durably and returns the value of the cookie
// that resumes it on any node. sess must come from Login.
func (s *Service) OpenSession(ctx context.Context, sess *Session) (string, error) {
	id, secret := vault.NewSessionSecret(), vault.NewSessionSecret()
	ref := s.Vault.MAC(sessionIDPurpose, id)
	wrapped, err := vault.WrapWithSessionSecret(sess.Key, secret, ref)
	if err != nil {
		return "", err
	}
	row := &store.StaffSession{IDMAC: ref, CounselorID: sess.Counselor.ID, WrappedKey: wrapped, CounterDevice: sess.counter.Device}
	if d := sess.device.Load(); d != nil {
		row.DeviceMAC = *d
	}
	if sess.complete.Load() {
		row.Complete = 1
	}
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.CreateStaffSession(row) }); err != nil {
		return "", err
	}
	sess.ref, sess.secret = ref, secret
	sess.csrf = base64.RawURLEncoding.EncodeToString(s.Vault.MAC(sessionCSRFPurpose, secret))
	return base64.RawURLEncoding.EncodeToString(id) + "." + base64.RawURLEncoding.EncodeToString(secret), nil
}

// parseSessionCookie splits a cookie value into its id and secret.
func parseSessionCookie(v string) (id, secret []byte, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found || len(a) != sessionPartLen || len(b) != sessionPartLen {
		return nil, nil, false
	}
	id, err1 := base64.RawURLEncoding.DecodeString(a)
	secret, err2 := base64.RawURLEncoding.DecodeString(b)
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	return id, secret, true
}

// ResumeSession finds the session a cookie names and unwraps its key. It
// fails with ErrUnauthorized when the session has ended (logged out,
// expired after idle without activity, password changed, account
// deactivated) or the cookie is not one of ours. touch says whether the
// request counts as activity. The caller wipes the session's key when the
// request is done.
func (s *Service) ResumeSession(ctx context.Context, cookie string, idle time.Duration, touch bool) (*Session, error) {
	id, secret, ok := parseSessionCookie(cookie)
	if !ok {
		return nil, hotline.ErrUnauthorized
	}
	ref := s.Vault.MAC(sessionIDPurpose, id)
	row, err := s.DB.StaffSession(ctx, ref)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return nil, hotline.ErrUnauthorized
	} else if err != nil {
		return nil, err
	}
	now := s.DB.Clock.Now()
	if now.Sub(time.UnixMicro(row.LastSeen)) > idle {
		if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteStaffSession(ref) }); err != nil {
			return nil, err
		}
		return nil, hotline.ErrUnauthorized
	}
	c, err := s.DB.CounselorByID(ctx, row.CounselorID)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		return nil, hotline.ErrUnauthorized
	} else if err != nil {
		return nil, err
	}
	if !c.Active {
		return nil, hotline.ErrUnauthorized
	}
	key, err := vault.UnwrapWithSessionSecret(row.WrappedKey, secret, ref)
	if err != nil {
		return nil, hotline.ErrUnauthorized // a forged or mangled secret
	}
	counselor := c.Counselor
	sess := &Session{Counselor: &counselor, Key: key, counter: store.LoginCounter{CounselorID: c.ID, Device: row.CounterDevice}, ref: ref, secret: secret}
	sess.csrf = base64.RawURLEncoding.EncodeToString(s.Vault.MAC(sessionCSRFPurpose, secret))
	if row.DeviceMAC != nil {
		d := row.DeviceMAC
		sess.device.Store(&d)
	}
	sess.complete.Store(row.Complete != 0)
	if row.PendingTOTP != nil {
		if pt, err := vault.OpenWithSessionSecret(secret, ref, sessionTOTPPurpose, row.PendingTOTP); err == nil {
			sess.pendingTOTP = string(pt)
		}
	}
	if touch && now.Sub(time.UnixMicro(row.LastSeen)) >= touchEvery(idle) {
		if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.TouchStaffSession(ref) }); err != nil {
			key.Wipe()
			return nil, err
		}
	}
	return sess, nil
}

// SessionAlive reports whether sess (from ResumeSession) still exists and
// has not idled out: a long-lived event stream asks it before each event.
func (s *Service) SessionAlive(ctx context.Context, sess *Session, idle time.Duration) bool {
	if sess.ref == nil {
		return false
	}
	row, err := s.DB.StaffSession(ctx, sess.ref)
	if err != nil {
		return false
	}
	return s.DB.Clock.Now().Sub(time.UnixMicro(row.LastSeen)) <= idle
}

// EndSession deletes a session (log-out) and wipes its key.
func (s *Service) EndSession(ctx context.Context, sess *Session) error {
	defer sess.Wipe()
	if sess.ref == nil {
		return nil
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteStaffSession(sess.ref) })
}

// EndSessionCookie ends the session a cookie names, if any, without
// unwrapping anything (a log-in replacing the browser's previous one).
func (s *Service) EndSessionCookie(ctx context.Context, cookie string) error {
	id, _, ok := parseSessionCookie(cookie)
	if !ok {
		return nil
	}
	ref := s.Vault.MAC(sessionIDPurpose, id)
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteStaffSession(ref) })
}

// SweepSessions deletes the sessions idle for longer than idle (their
// keys scrubbed from the files) and forgets the rested counts of unknown
// usernames.
func (s *Service) SweepSessions(ctx context.Context, idle time.Duration) error {
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.DeleteIdleStaffSessions(tx.Now().Add(-idle))
		if err != nil {
			return err
		}
		_, err = tx.ForgetRestedLoginNames(tx.Now().Add(-ForgetFailuresAfter))
		return err
	})
	return err
}

// CSRF returns the token that the session's forms carry: a MAC of its
// secret, stored nowhere.
func (sess *Session) CSRF() string { return sess.csrf }

// PendingTOTP returns the TOTP key URL the session is enrolling, "" if none.
func (sess *Session) PendingTOTP() string { return sess.pendingTOTP }

// SetPendingTOTP keeps, sealed under the session's secret, the TOTP key URL
// the session is enrolling, so that a reload on any node shows the same QR
// code until a code confirms it.
func (s *Service) SetPendingTOTP(ctx context.Context, sess *Session, keyURL string) error {
	if sess.ref == nil {
		sess.pendingTOTP = keyURL
		return nil
	}
	sealed, err := vault.SealWithSessionSecret(sess.secret, sess.ref, sessionTOTPPurpose, []byte(keyURL))
	if err != nil {
		return err
	}
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetStaffSessionPendingTOTP(sess.ref, sealed) }); err != nil {
		return err
	}
	sess.pendingTOTP = keyURL
	return nil
}
