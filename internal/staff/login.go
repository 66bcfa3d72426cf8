package staff

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Login errors.
var (
	ErrBadLogin  = hotline.Errorf(hotline.EUNAUTHORIZED, "用户名或密码错误。", "Wrong username or password.")
	ErrThrottled = hotline.Errorf(hotline.ERATELIMIT, "失败次数过多，请稍后再试。", "Too many failed attempts; please wait and try again.")
)

// loginDelay is how long an account waits after n failed attempts: the
// first few are free, then the wait doubles up to 15 minutes.
func loginDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	d := time.Second << min(n-3, 10)
	return min(d, 15*time.Minute)
}

// Authenticate checks a password by unwrapping the school key with it
// (through the vault's bounded argon2id pool) and returns a session. A
// wrong password leaves no key material behind.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*Session, error) {
	if len(username) > 64 || len(password) > 1024 || !utf8.ValidString(username) {
		return nil, ErrBadLogin
	}
	username = strings.TrimSpace(username)
	now := s.DB.Clock.Now()
	c, err := s.DB.CounselorByUsername(ctx, username)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return nil, s.failUnknown(ctx, username, password, now)
		}
		return nil, err
	}
	if c.LockedUntil > now.UnixMicro() {
		return nil, ErrThrottled
	}
	if !c.Active || c.WrappedKey == nil {
		return nil, s.failUnknown(ctx, username, password, now)
	}
	key, err := s.Vault.UnwrapWithPassword(ctx, c.WrappedKey, password)
	if err != nil {
		if !errors.Is(err, vault.ErrWrongPassword) {
			return nil, err
		}
		until := now.Add(loginDelay(c.FailedLogins + 1))
		if uerr := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.RecordLoginFailure(c.ID, until.UnixMicro()) }); uerr != nil {
			return nil, uerr
		}
		return nil, ErrBadLogin
	}
	if c.FailedLogins > 0 {
		if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.RecordLoginSuccess(c.ID) }); err != nil {
			key.Wipe()
			return nil, err
		}
	}
	counselor := c.Counselor
	return &Session{Counselor: &counselor, Key: key}, nil
}

// failUnknown answers a log-in to an unknown or inactive account exactly
// as a real account with a wrong password would be answered: the same
// derivation time, and the same growing delays after repeated failures
// (counted in memory), so neither timing nor "too many attempts" tells
// which usernames exist.
func (s *Service) failUnknown(ctx context.Context, username, password string, now time.Time) error {
	s.unknownMu.Lock()
	if s.unknown == nil || len(s.unknown) > 10000 {
		s.unknown = map[string]*unknownFailures{}
	}
	f := s.unknown[username]
	if f == nil {
		f = &unknownFailures{}
		s.unknown[username] = f
	}
	throttled := now.Before(f.until)
	s.unknownMu.Unlock()
	if throttled {
		return ErrThrottled
	}
	err := s.fakeUnwrap(ctx, password)
	s.unknownMu.Lock()
	f.n++
	f.until = now.Add(loginDelay(f.n))
	s.unknownMu.Unlock()
	return err
}

type unknownFailures struct {
	n     int
	until time.Time
}

// fakeUnwrap spends on an unknown or inactive account the same argon2id
// derivation a real one costs, so the answer's timing does not tell which
// usernames exist. It returns ErrBadLogin (or ctx's error).
func (s *Service) fakeUnwrap(ctx context.Context, password string) error {
	s.dummyOnce.Do(func() {
		k, err := vault.GenerateKeyPair()
		if err != nil {
			return
		}
		defer k.Wipe()
		pw, err := vault.NewOneTimePassword()
		if err != nil {
			return
		}
		s.dummyWrapped, _ = s.Vault.WrapWithPassword(context.WithoutCancel(ctx), k, pw)
	})
	if s.dummyWrapped != nil {
		k, err := s.Vault.UnwrapWithPassword(ctx, s.dummyWrapped, password)
		if err == nil {
			k.Wipe() // an unknown random password was guessed: still no account
		} else if !errors.Is(err, vault.ErrWrongPassword) {
			return err
		}
	}
	return ErrBadLogin
}

// ValidatePassword says whether a new password is acceptable.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) || utf8.RuneCountInString(pw) < 10 || len(pw) > 1024 {
		return hotline.Errorf(hotline.EINVALID, "新密码至少需要 10 个字符。", "A new password needs at least 10 characters.")
	}
	return nil
}

// ChangePassword re-wraps the session's key under a new password; it also
// ends the one-time-password state.
func (s *Service) ChangePassword(ctx context.Context, sess *Session, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	wrapped, err := s.Vault.WrapWithPassword(ctx, sess.Key, newPassword)
	if err != nil {
		return err
	}
	if err := s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetWrappedKey(sess.Counselor.ID, wrapped, false) }); err != nil {
		return err
	}
	sess.Counselor.MustChangePassword = false
	return nil
}
