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
// the counselor's authenticator app holds it.
func (s *Service) EnableTOTP(ctx context.Context, sess *Session, secret, code string) error {
	if matchTOTP(secret, code, s.DB.Clock.Now()) == 0 {
		return ErrBadTOTP
	}
	sealed, err := s.Vault.SealServer(totpPurpose(sess.Counselor.ID), []byte(secret))
	if err != nil {
		return err
	}
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetTOTP(sess.Counselor.ID, sealed) }); err != nil {
		return err
	}
	sess.Counselor.TOTPSecretSealed = sealed
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
// right. Wrong codes count as failed log-ins, with the same growing delays.
func (s *Service) VerifyTOTP(ctx context.Context, sess *Session, code string) error {
	c, err := s.DB.CounselorByID(ctx, sess.Counselor.ID)
	if err != nil || !c.Active {
		return ErrBadLogin
	}
	now := s.DB.Clock.Now()
	if c.LockedUntil > now.UnixMicro() {
		return ErrThrottled
	}
	if c.TOTPSecretSealed == nil {
		return ErrBadTOTP
	}
	secret, err := s.Vault.OpenServer(totpPurpose(c.ID), c.TOTPSecretSealed)
	if err != nil {
		return err
	}
	step := matchTOTP(string(secret), code, now)
	ok := step != 0
	if prev, seen := s.totpUsed.Load(c.ID); ok && seen && step <= prev.(uint64) {
		ok = false // a code of this or an earlier window was used already
	}
	if !ok {
		until := now.Add(loginDelay(c.FailedLogins + 1))
		if uerr := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.RecordLoginFailure(c.ID, until.UnixMicro()) }); uerr != nil {
			return uerr
		}
		return ErrBadTOTP
	}
	s.totpUsed.Store(c.ID, step)
	if c.FailedLogins > 0 {
		return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.RecordLoginSuccess(c.ID) })
	}
	return nil
}

// matchTOTP returns the time step whose code equals code, trying the
// current step and one either side (clock drift), or 0 for no match.
func matchTOTP(secret, code string, now time.Time) uint64 {
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
			return uint64(at.Unix() / 30)
		}
	}
	return 0
}
