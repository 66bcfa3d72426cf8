package staff

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
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

// loginDelay is how long a password counter waits after n failed
// attempts: the first few are free, then the wait doubles up to 15 minutes.
func loginDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	d := time.Second << min(n-3, 10)
	return min(d, MaxLoginDelay)
}

// totpDelay is loginDelay for the second factor: whoever reaches it knows
// the password, and a six-digit code falls to about a million tries, so
// after three free tries the wait starts at five seconds.
func totpDelay(n int) time.Duration {
	if n < 3 {
		return 0
	}
	d := 5 * time.Second << min(n-3, 10)
	return min(d, MaxLoginDelay)
}

// ForgetFailuresAfter is how long a failure count must rest before its next
// failure starts it again. Every counter forgets alike (accounts, browsers,
// second factors and unknown names), so that an unknown name's count can be
// deleted once rested without anyone seeing a difference. A guesser who
// waits a day for three free tries gets fewer than one who keeps guessing
// at the 15-minute lock (about 96 a day).
const ForgetFailuresAfter = 24 * time.Hour

// MaxLoginDelay is the longest a failure counter stays locked: the longest
// a stranger's wrong guesses can keep the owner waiting on a browser the
// account does not know (on a known one they never do).
const MaxLoginDelay = 15 * time.Minute

// DeviceLifetime is how long a browser stays known after its last
// complete log-in; its device cookie lives as long.
const DeviceLifetime = 180 * 24 * time.Hour

// Authenticate is Login from a browser the account does not know.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*Session, error) {
	return s.Login(ctx, username, password, "")
}

// Login checks a password by unwrapping the school key with it (through
// the vault's bounded argon2id pool) and returns a session. A wrong
// password leaves no key material behind.
//
// device is the token of the browser's device cookie ("" for none). Wrong
// passwords from a browser that completed a log-in to this account before
// count against that browser alone; all other browsers share the account's
// count. So a stranger's guesses lock out only browsers the owner never
// used, and for at most MaxLoginDelay after the last guess.
//
// Each attempt is counted before its argon2id derivation runs, in the
// database's write transaction, and only while its counter is unlocked: of
// many attempts sent at once, only as many run as the counter admits. A
// correct password takes its attempt back; a complete log-in (the second
// factor too, if enrolled) clears the counters.
func (s *Service) Login(ctx context.Context, username, password, device string) (*Session, error) {
	if len(username) > 64 || len(password) > 1024 || !utf8.ValidString(username) {
		return nil, ErrBadLogin
	}
	username = strings.TrimSpace(username)
	now := s.DB.Clock.Now()
	c, err := s.DB.CounselorByUsername(ctx, username)
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return nil, s.failUnknown(ctx, username, password)
		}
		return nil, err
	}
	if !c.Active || c.WrappedKey == nil {
		return nil, s.failUnknown(ctx, username, password)
	}
	counter := store.LoginCounter{CounselorID: c.ID}
	if mac := s.deviceMAC(c.ID, device); mac != nil {
		known, err := s.DB.KnownDevice(ctx, c.ID, mac, now.Add(-DeviceLifetime))
		if err != nil {
			return nil, err
		}
		if known {
			counter.Device = mac
		}
	}
	if counter.Device == nil && c.LockedUntil > now.UnixMicro() {
		// No need to queue: admission would refuse.
		return nil, s.refused(ctx, &c.Counselor, hotline.AuditLoginThrottled, ErrThrottled)
	}
	release, err := s.attempts.lock(ctx, strconv.FormatInt(c.ID, 10)+"|"+string(counter.Device))
	if err != nil {
		return nil, err
	}
	defer release()
	// A browser the account knows is never held back by the flood limits
	// (its own count bounds it) and goes ahead in the argon2id queue.
	refund := func() {}
	if counter.Device == nil {
		if refund, err = admit(ctx); err != nil {
			return nil, err
		}
	} else {
		ctx = vault.First(ctx)
	}
	admitted := false
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		admitted, err = tx.AdmitLoginAttempt(counter, loginDelay, ForgetFailuresAfter)
		return err
	})
	if err != nil {
		refund()
		return nil, err
	}
	if !admitted {
		refund()
		return nil, s.refused(ctx, &c.Counselor, hotline.AuditLoginThrottled, ErrThrottled)
	}
	key, err := s.Vault.UnwrapWithPassword(ctx, c.WrappedKey, password)
	if err != nil {
		if errors.Is(err, vault.ErrWrongPassword) {
			// Counted on admission; recorded for the audit trail.
			return nil, s.refused(ctx, &c.Counselor, hotline.AuditLoginFailed, ErrBadLogin)
		}
		refund()
		return nil, err
	}
	refund() // a right password costs the flood limits nothing
	sess := &Session{Key: key, counter: counter}
	if counter.Device != nil {
		sess.device.Store(&counter.Device)
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		// Looked at again after the derivation: the account may have been
		// deactivated, or its password changed, while it ran.
		cur, err := tx.CounselorByID(c.ID)
		if err != nil {
			return err
		}
		if !cur.Active || !bytes.Equal(cur.WrappedKey, c.WrappedKey) {
			return ErrBadLogin
		}
		counselor := cur.Counselor
		sess.Counselor = &counselor
		if sess.HasTOTP() {
			// Half a log-in: the password does not count as a failure,
			// but it resets nothing, least of all the second factor's count.
			return tx.RefundLoginAttempt(counter)
		}
		if err := Audit(tx, &counselor, hotline.AuditLogin, 0, ClientOf(ctx), ""); err != nil {
			return err
		}
		return clearCounters(tx, counter, store.LoginCounter{CounselorID: c.ID, Device: counter.Device, TOTP: true})
	})
	if err != nil {
		key.Wipe()
		return nil, err
	}
	if !sess.HasTOTP() {
		sess.complete.Store(true)
	}
	return sess, nil
}

// refused records a refused log-in to an existing account and returns
// answer; a failure to record is logged, not shown: the answer stays the
// same as for an account whose write succeeded.
func (s *Service) refused(ctx context.Context, c *hotline.Counselor, kind hotline.AuditKind, answer error) error {
	if err := s.auditFailure(ctx, c, kind); err != nil {
		s.Logger.Error("audit of a refused log-in", "err", err)
	}
	return answer
}

// clearCounters resets, after a complete log-in, the password counter and
// the second factor's counter it used (a known browser's own, else the
// account's); the other browsers' counts stay as they are.
func clearCounters(tx *store.Tx, pw, code store.LoginCounter) error {
	if err := tx.ClearLoginFailures(pw); err != nil {
		return err
	}
	return tx.ClearLoginFailures(code)
}

// deviceTokenLen is the length of a device cookie token: 32 random bytes
// in unpadded base64url.
const deviceTokenLen = 43

// deviceMAC returns the MAC under which a counselor's device token is
// stored, or nil for a missing or malformed token.
func (s *Service) deviceMAC(counselorID int64, token string) []byte {
	if len(token) != deviceTokenLen {
		return nil
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil
	}
	return s.Vault.MAC(devicePurpose, []byte(strconv.FormatInt(counselorID, 10)+"|"+token))
}

const devicePurpose = "staff device"

// RememberDevice marks the browser of a complete log-in as known to the
// counselor and returns the token its device cookie must hold: token
// itself when the browser presented a well-formed one (a shared office
// computer then stays known to each of its users), else a new random one.
// Only the token's MAC is stored.
func (s *Service) RememberDevice(ctx context.Context, sess *Session, token string) (string, error) {
	if !sess.complete.Load() {
		return "", hotline.ErrUnauthorized
	}
	if s.deviceMAC(sess.Counselor.ID, token) == nil {
		b := make([]byte, 32)
		rand.Read(b) // never fails since Go 1.24
		token = base64.RawURLEncoding.EncodeToString(b)
	}
	mac := s.deviceMAC(sess.Counselor.ID, token)
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.RememberDevice(sess.Counselor.ID, mac, tx.Now().Add(-DeviceLifetime)); err != nil {
			return err
		}
		if sess.ref != nil {
			return tx.SetStaffSessionDevice(sess.ref, mac)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sess.device.Store(&mac)
	return token, nil
}

// failUnknown answers a log-in to an unknown or inactive account exactly
// as a real account with a wrong password would be answered: the same
// derivation time, and the same growing delays after repeated failures,
// counted in the database before the derivation as for a real account
// (by a keyed MAC of the name, never the name), so that neither timing
// nor "too many attempts" tells which usernames exist — after a restart
// too. Where a real account's failure writes its audit entry, this writes
// the counter's time again, so both cost a write after the derivation.
func (s *Service) failUnknown(ctx context.Context, username, password string) error {
	counter := store.LoginCounter{Name: s.Vault.MAC(unknownNamePurpose, []byte(username))}
	if locked, err := s.DB.LoginNameLocked(ctx, counter.Name); err != nil {
		return err
	} else if locked {
		return ErrThrottled
	}
	release, err := s.attempts.lock(ctx, "name|"+string(counter.Name))
	if err != nil {
		return err
	}
	defer release()
	refund, err := admit(ctx)
	if err != nil {
		return err
	}
	admitted := false
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		admitted, err = tx.AdmitLoginAttempt(counter, loginDelay, ForgetFailuresAfter)
		return err
	})
	if err != nil || !admitted {
		refund()
		if err != nil {
			return err
		}
		return ErrThrottled
	}
	err = s.fakeUnwrap(ctx, password)
	if werr := s.DB.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.TouchLoginCounter(counter) }); werr != nil {
		s.Logger.Error("unknown name's counter", "err", werr)
	}
	return err
}

const unknownNamePurpose = "staff unknown username"

// fakeUnwrap spends on an unknown or inactive account the same argon2id
// derivation a real one costs, so the answer's timing does not tell which
// usernames exist. It returns ErrBadLogin (or ctx's error).
func (s *Service) fakeUnwrap(ctx context.Context, password string) error {
	s.dummyOnce.Do(func() { s.dummyWrapped = s.Vault.DecoyPasswordWrap() })
	k, err := s.Vault.UnwrapWithPassword(ctx, s.dummyWrapped, password)
	if err == nil {
		k.Wipe() // cannot happen: no password opens a decoy
	} else if !errors.Is(err, vault.ErrWrongPassword) {
		return err
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
// ends the one-time-password state and forgets every browser of the
// account but the session's, and ends the counselor's other sessions
// (whoever knew the old password may hold one).
func (s *Service) ChangePassword(ctx context.Context, sess *Session, newPassword string) error {
	if err := ValidatePassword(newPassword); err != nil {
		return err
	}
	wrapped, err := s.Vault.WrapWithPassword(ctx, sess.Key, newPassword)
	if err != nil {
		return err
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetWrappedKey(sess.Counselor.ID, wrapped, false); err != nil {
			return err
		}
		// Whoever knew the old password may have logged in elsewhere: only
		// this browser stays known.
		var keep []byte
		if d := sess.device.Load(); d != nil {
			keep = *d
		}
		if err := tx.ForgetOtherDevices(sess.Counselor.ID, keep); err != nil {
			return err
		}
		if err := Audit(tx, sess.Counselor, hotline.AuditPasswordChanged, 0, ClientOf(ctx), ""); err != nil {
			return err
		}
		return tx.DeleteCounselorSessions(sess.Counselor.ID, sess.ref)
	})
	if err != nil {
		return err
	}
	sess.Counselor.MustChangePassword = false
	return nil
}
