package staff

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TOTP errors.
var (
	ErrBadTOTP      = hotline.Errorf(hotline.EUNAUTHORIZED, "验证码不正确或已过期。", "The code is wrong or has expired.")
	ErrTOTPRequired = hotline.Errorf(hotline.EFORBIDDEN, "本校要求所有老师使用两步验证。", "Your school requires two-step verification for everyone.")
)

// totpPurpose binds a sealed TOTP secret to its counselor's row.
func totpPurpose(counselorID int64) string { return "totp|" + strconv.FormatInt(counselorID, 10) }

// NewTOTPKey generates a TOTP secret for the session's counselor to enroll.
// Nothing is stored until EnableTOTP confirms a code from it.
func (s *Service) NewTOTPKey(sess *Session) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: "Hotline", AccountName: sess.Counselor.Username, Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// EnableTOTP stores secret (sealed under the server key) once code proves
// the counselor's authenticator app holds it. The code's time step counts
// as used: it is not accepted again, not even at the next log-in.
func (s *Service) EnableTOTP(ctx context.Context, sess *Session, secret, code string) error {
	step := matchTOTP(secret, code, s.DB.Clock.Now())
	if step == 0 {
		return ErrBadTOTP
	}
	sealed, err := s.Vault.SealServer(totpPurpose(sess.Counselor.ID), []byte(secret))
	if err != nil {
		return err
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetTOTP(sess.Counselor.ID, sealed); err != nil {
			return err
		}
		// False only when a later step was used already, which covers this one.
		if _, err := tx.UseTOTPStep(sess.Counselor.ID, step); err != nil {
			return err
		}
		if sess.ref != nil {
			return tx.CompleteStaffSession(sess.ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sess.Counselor.TOTPSecretSealed = sealed
	sess.pendingTOTP = ""
	sess.complete.Store(true)
	return nil
}

// DisableTOTP removes the counselor's second factor after a valid code;
// a school that requires TOTP refuses.
func (s *Service) DisableTOTP(ctx context.Context, sess *Session, code string) error {
	school, err := s.SchoolOf(ctx, sess.Actor())
	if err == nil && school.Settings.RequireTOTP {
		return ErrTOTPRequired
	}
	if err := s.VerifyTOTP(ctx, sess, code); err != nil {
		return err
	}
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetTOTP(sess.Counselor.ID, nil) }); err != nil {
		return err
	}
	sess.Counselor.TOTPSecretSealed = nil
	return nil
}

// VerifyTOTP checks the second factor of a session whose password was
// right. The second factor has its own failure count, counted before the
// code is looked at and locked with growing delays (totpDelay); only a
// complete log-in resets it, never a correct password alone, so logging in
// again does not buy more guesses. Each code is accepted once, ever: the
// last accepted time step is stored.
func (s *Service) VerifyTOTP(ctx context.Context, sess *Session, code string) error {
	c, err := s.DB.CounselorByID(ctx, sess.Counselor.ID)
	if err != nil || !c.Active {
		return ErrBadLogin
	}
	if c.TOTPSecretSealed == nil {
		return ErrBadTOTP
	}
	// A browser the account knows, whose password step counted against
	// itself, has its own count of codes too: someone who knows the
	// password cannot lock the owner's known browser out of the second
	// factor. Every other browser shares the account's.
	counter := store.LoginCounter{CounselorID: c.ID, TOTP: true}
	if d := sess.counter.Device; d != nil {
		known, err := s.DB.KnownDevice(ctx, c.ID, d, s.DB.Clock.Now().Add(-DeviceLifetime))
		if err != nil {
			return err
		}
		if known {
			counter.Device = d
		}
	}
	refund := func() {}
	if counter.Device == nil {
		if refund, err = admit(ctx); err != nil {
			return err
		}
	}
	admitted := false
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		admitted, err = tx.AdmitLoginAttempt(counter, totpDelay, ForgetFailuresAfter)
		return err
	})
	if err != nil {
		refund()
		return err
	}
	if !admitted {
		refund()
		return s.refused(ctx, &c.Counselor, hotline.AuditLoginThrottled, ErrThrottled)
	}
	secret, err := s.Vault.OpenServer(totpPurpose(c.ID), c.TOTPSecretSealed)
	if err != nil {
		refund()
		return err
	}
	step := matchTOTP(string(secret), code, s.DB.Clock.Now())
	if step == 0 {
		return s.refused(ctx, &c.Counselor, hotline.AuditTOTPFailed, ErrBadTOTP) // counted on admission
	}
	refund()
	fresh := false
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		if fresh, err = tx.UseTOTPStep(c.ID, step); err != nil || !fresh {
			return err // a replayed code stays counted as a failure
		}
		pw := sess.counter
		pw.CounselorID = c.ID
		if err := Audit(tx, &c.Counselor, hotline.AuditLogin, 0, ClientOf(ctx), ""); err != nil {
			return err
		}
		if err := clearCounters(tx, pw, counter); err != nil {
			return err
		}
		if sess.ref != nil {
			return tx.CompleteStaffSession(sess.ref)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !fresh {
		return s.refused(ctx, &c.Counselor, hotline.AuditTOTPFailed, ErrBadTOTP)
	}
	sess.complete.Store(true)
	return nil
}

// matchTOTP returns the time step whose code equals code, trying the
// current step and one either side (clock drift), or 0 for no match.
func matchTOTP(secret, code string, now time.Time) int64 {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return 0
	}
	opts := totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for _, d := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(d) * 30 * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, opts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / 30
		}
	}
	return 0
}
