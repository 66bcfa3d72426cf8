// Package staff is who the staff are and how they get in: schools and
// districts with their key pairs, counselor accounts (add, deactivate,
// recover), log-in with password and TOTP, the Session that holds a
// school's (or district's) private key unwrapped for as long as someone is
// logged in, a school's settings, and how each staff member is reached for
// alerts. It never reads or writes a case: that is triage's work, which
// takes a *Session to open sealed messages. It never logs a password, a
// key, a TOTP secret, a chat id or an address.
package staff

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Service is the staff accounts service.
type Service struct {
	DB     *store.DB
	Vault  *vault.Vault
	Logger *slog.Logger
	// AlertKinds are the alert channels this server has an account for
	// (set at start): a target of another kind is shown as not working.
	AlertKinds map[alert.Kind]bool

	dummyOnce    sync.Once
	dummyWrapped []byte // a password-wrapped key nobody knows the password of

	attempts attemptLocks // one password attempt at a time per counter
}

// New returns a staff service.
func New(db *store.DB, v *vault.Vault, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{DB: db, Vault: v, Logger: logger}
}

// Session is a logged-in staff member with their school's (or district's)
// private key in memory. Wipe it on log-out and expiry.
type Session struct {
	Counselor *hotline.Counselor
	Key       *vault.PrivateKey

	counter  store.LoginCounter     // the password counter its log-in used
	device   atomic.Pointer[[]byte] // MAC of its browser's device token, once known
	complete atomic.Bool            // both factors passed

	// Set for a stored session (OpenSession, ResumeSession): the MAC that
	// names its row, the cookie's secret that unwraps its key, the CSRF
	// token derived from it, and a TOTP key being enrolled.
	ref, secret []byte
	csrf        string
	pendingTOTP string
}

// Complete reports whether the log-in passed every factor the account has.
func (s *Session) Complete() bool { return s.complete.Load() }

// Actor returns the session's actor.
func (s *Session) Actor() hotline.Actor {
	return hotline.Actor{CounselorID: s.Counselor.ID, SchoolID: s.Counselor.SchoolID, Role: s.Counselor.Role}
}

// Wipe forgets the session's key and secret.
func (s *Session) Wipe() {
	if s.Key != nil {
		s.Key.Wipe()
	}
	clear(s.secret)
}

// HasTOTP reports whether the counselor has enrolled a second factor.
func (s *Session) HasTOTP() bool { return len(s.Counselor.TOTPSecretSealed) > 0 }

// Active reports whether the session's counselor may still act: a
// deactivated account's open sessions must stop at once.
func (s *Service) Active(ctx context.Context, sess *Session) (*hotline.Counselor, error) {
	c, err := s.DB.CounselorByID(ctx, sess.Counselor.ID)
	if err != nil {
		return nil, err
	}
	if !c.Active {
		return nil, hotline.ErrUnauthorized
	}
	out := c.Counselor
	return &out, nil
}
