package staff_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/staff"
	"hotline/internal/testsupport"
)

// Someone who knows the password (but has none of the owner's browsers)
// guesses second-factor codes until the account's count is locked; the
// owner's known browser has a count of its own and gets in at once, and
// its complete log-in leaves the stranger locked. The known browser's own
// wrong codes lock only itself.
func TestPasswordHolderCannotLockKnownBrowserOutOfTOTP(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	secret := enrol(t, svc, clock, user)
	clock.Add(time.Minute)
	s, err := svc.Authenticate(ctx, user, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.VerifyTOTP(ctx, s, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	laptop, err := svc.RememberDevice(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Wipe()

	// The stranger: the right password from a new browser, then wrong
	// codes, logging in again whenever the session's codes run out.
	clock.Add(time.Minute)
	strangerLocked := func() bool {
		t.Helper()
		sess, err := svc.Authenticate(ctx, user, goodPassword)
		if err != nil {
			t.Fatalf("the stranger's right password: %v", err)
		}
		defer sess.Wipe()
		return errors.Is(svc.VerifyTOTP(ctx, sess, wrongCode(t, secret, clock.Now(), 1)), staff.ErrThrottled)
	}
	for i := 0; !strangerLocked(); i++ {
		if i > 10 {
			t.Fatal("the account's second factor never locked")
		}
	}
	// The owner on the known laptop, right away.
	sess, err := svc.Login(ctx, user, goodPassword, laptop)
	if err != nil {
		t.Fatalf("the owner's password on the known laptop: %v", err)
	}
	if err := svc.VerifyTOTP(ctx, sess, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatalf("the owner's code on the known laptop while the stranger is locked: %v", err)
	}
	sess.Wipe()
	if !strangerLocked() {
		t.Fatal("the owner's log-in on the laptop unlocked the stranger's count")
	}

	// The laptop's own wrong codes lock the laptop; a new browser with
	// the right code is held by the account's lock, not the laptop's.
	clock.Add(staff.MaxLoginDelay + time.Minute)
	laptopLocked := false
	for range 6 {
		sess, err := svc.Login(ctx, user, goodPassword, laptop)
		if err != nil {
			t.Fatal(err)
		}
		err = svc.VerifyTOTP(ctx, sess, wrongCode(t, secret, clock.Now(), 2))
		sess.Wipe()
		if errors.Is(err, staff.ErrThrottled) {
			laptopLocked = true
			break
		}
	}
	if !laptopLocked {
		t.Fatal("the laptop's own wrong codes never locked it")
	}
	fresh, err := svc.Authenticate(ctx, user, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Wipe()
	if err := svc.VerifyTOTP(ctx, fresh, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatalf("a new browser while only the laptop is locked: %v", err)
	}
}

// The count of failed log-ins at a name no account has lives in the
// database under a keyed MAC of the name: after a restart an unknown name
// answers exactly as a real account does (the same errors, the same
// derivations), and the name itself is stored nowhere.
func TestUnknownNamesAnswerAlikeAfterARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	clock := testsupport.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	svc := openAt(t, path, clock)
	ctx := context.Background()
	real := owner(t, svc, "no3")
	const unknown = "admin-qq7zzz"
	type answer struct {
		err     error
		derived uint64
	}
	try := func(svc *staff.Service, user string) answer {
		before := svc.Vault.KDFStats().Total
		_, err := svc.Authenticate(ctx, user, "wrong password")
		return answer{err, svc.Vault.KDFStats().Total - before}
	}
	same := func(step string, svc *staff.Service) {
		t.Helper()
		a, b := try(svc, real), try(svc, unknown)
		if !errors.Is(b.err, a.err) || a.derived != b.derived {
			t.Fatalf("%s: real account %v (%d derivations), unknown name %v (%d derivations)", step, a.err, a.derived, b.err, b.derived)
		}
	}
	for i := range 3 {
		same("before the restart, try "+string(rune('1'+i)), svc)
	}
	svc.DB.Close()
	svc = openAt(t, path, clock) // the restart: nothing in memory
	same("right after the restart", svc)
	if a := try(svc, unknown); !errors.Is(a.err, staff.ErrThrottled) || a.derived != 0 {
		t.Fatalf("the locked unknown name after a restart: %v, %d derivations; want throttled at once", a.err, a.derived)
	}
	clock.Add(staff.MaxLoginDelay)
	same("after the lock", svc)

	// A day's rest: both counts start again (and the unknown name's row
	// is forgotten by the sweep), so three tries are free again for both.
	clock.Add(staff.ForgetFailuresAfter + time.Minute)
	if err := svc.SweepSessions(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a, b := try(svc, real), try(svc, unknown)
		if !errors.Is(a.err, staff.ErrBadLogin) || !errors.Is(b.err, staff.ErrBadLogin) {
			t.Fatalf("try %d after a day's rest: real %v, unknown %v; want both evaluated", i+1, a.err, b.err)
		}
	}
	// The name is stored nowhere.
	var names int
	if err := svc.DB.Reader().GetContext(ctx, &names, `SELECT count(*) FROM login_unknown`); err != nil {
		t.Fatal(err)
	}
	if names != 1 {
		t.Fatalf("%d unknown-name rows, want 1", names)
	}
	var macs [][]byte
	if err := svc.DB.Reader().SelectContext(ctx, &macs, `SELECT name_mac FROM login_unknown`); err != nil {
		t.Fatal(err)
	}
	for _, m := range macs {
		if bytes.Contains(m, []byte(unknown)) || len(m) != 32 {
			t.Fatalf("unknown-name row holds %x", m)
		}
	}
}
