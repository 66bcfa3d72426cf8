package staff_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/pgtest"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

const goodPassword = "a much better password"

// owner creates a school and returns its admin, logged in once with a
// changed password (so the one-time state is over).
func owner(t *testing.T, svc *staff.Service, code string) (username string) {
	t.Helper()
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: code, Name: "学校 " + code})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := svc.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	if err := svc.ChangePassword(ctx, sess, goodPassword); err != nil {
		t.Fatal(err)
	}
	return cs.Admin.Username
}

func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode returns a six-digit code that none of the steps around at
// accepts.
func wrongCode(t *testing.T, secret string, at time.Time, seed int) string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[totpCode(t, secret, at.Add(d))] = true
	}
	for i := seed; ; i++ {
		c := fmt.Sprintf("%06d", i%1000000)
		if !valid[c] {
			return c
		}
	}
}

// enrol gives the user's account a second factor and returns its secret.
func enrol(t *testing.T, svc *staff.Service, clock *fakeClock, username string) string {
	t.Helper()
	ctx := context.Background()
	sess, err := svc.Authenticate(ctx, username, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	key, err := svc.NewTOTPKey(sess)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.EnableTOTP(ctx, sess, key.Secret(), totpCode(t, key.Secret(), clock.Now())); err != nil {
		t.Fatal(err)
	}
	return key.Secret()
}

// The attack: log in again with the right password and try two
// codes each time, which kept the shared counter under its lock forever.
// Now the second factor has its own count that a password never resets.
func TestTOTPGuessingByLoggingInAgainIsThrottled(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	secret := enrol(t, svc, clock, user)
	clock.Add(time.Minute)

	start := clock.Now()
	evaluated, tried := 0, 0
	for clock.Now().Sub(start) < time.Minute {
		sess, err := svc.Authenticate(ctx, user, goodPassword)
		if err != nil {
			t.Fatalf("the right password at +%v: %v", clock.Now().Sub(start), err)
		}
		for range 2 {
			err := svc.VerifyTOTP(ctx, sess, wrongCode(t, secret, clock.Now(), tried))
			tried++
			switch {
			case errors.Is(err, staff.ErrBadTOTP):
				evaluated++
			case errors.Is(err, staff.ErrThrottled):
			default:
				t.Fatalf("wrong code: %v", err)
			}
		}
		sess.Wipe()
		clock.Add(500 * time.Millisecond)
	}
	t.Logf("%d codes tried, %d evaluated in one minute", tried, evaluated)
	if evaluated > 10 {
		t.Fatalf("%d codes evaluated in a minute (of %d tried), want at most 10", evaluated, tried)
	}
	// The owner, with the right code, gets in once the lock runs out, and
	// that complete log-in resets the count.
	clock.Add(staff.MaxLoginDelay)
	sess, err := svc.Authenticate(ctx, user, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	if err := svc.VerifyTOTP(ctx, sess, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatalf("the right code after the wait: %v", err)
	}
	if !sess.Complete() {
		t.Fatal("session not complete after both factors")
	}
	clock.Add(30 * time.Second)
	if err := svc.VerifyTOTP(ctx, sess, wrongCode(t, secret, clock.Now(), 0)); !errors.Is(err, staff.ErrBadTOTP) {
		t.Fatalf("first wrong code after a complete log-in: %v, want evaluated (count reset)", err)
	}
}

// Wrong codes sent at once are counted before any is looked at.
func TestParallelTOTPGuessesMeetTheLock(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	secret := enrol(t, svc, clock, user)
	clock.Add(time.Minute)
	sess, err := svc.Authenticate(ctx, user, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	var wg sync.WaitGroup
	var mu sync.Mutex
	evaluated := 0
	for i := range 40 {
		code := wrongCode(t, secret, clock.Now(), i*7919)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := svc.VerifyTOTP(ctx, sess, code)
			if errors.Is(err, staff.ErrBadTOTP) {
				mu.Lock()
				evaluated++
				mu.Unlock()
			} else if !errors.Is(err, staff.ErrThrottled) {
				t.Errorf("wrong code: %v", err)
			}
		}()
	}
	wg.Wait()
	if evaluated > 5 {
		t.Fatalf("%d of 40 parallel codes evaluated, want at most 5", evaluated)
	}
}

// The issue's second attack: 40 wrong passwords at once all read "not
// locked" on arrival and all ran argon2id.
func TestParallelWrongPasswordsMeetTheLock(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	before := svc.Vault.KDFStats().Total
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Authenticate(ctx, user, fmt.Sprintf("guess number %d", i))
			if !errors.Is(err, staff.ErrBadLogin) && !errors.Is(err, staff.ErrThrottled) {
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	ran := svc.Vault.KDFStats().Total - before
	t.Logf("argon2id ran %d times for 40 parallel wrong passwords", ran)
	if ran > 5 {
		t.Fatalf("argon2id ran %d times for 40 parallel wrong passwords, want at most 5", ran)
	}
	// The account is locked now, even for the right password.
	if _, err := svc.Authenticate(ctx, user, goodPassword); !errors.Is(err, staff.ErrThrottled) {
		t.Fatalf("right password right after the flood: %v, want throttled", err)
	}
}

// A stranger who knows the username guesses; the owner, on a browser that
// logged in before, is never kept out, and on a new one waits at most
// MaxLoginDelay after the last guess.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	sess, err := svc.Authenticate(ctx, user, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	laptop, err := svc.RememberDevice(ctx, sess, "")
	if err != nil || len(laptop) != 43 {
		t.Fatalf("device token %q: %v", laptop, err)
	}
	sess.Wipe()

	// Seven wrong guesses, each waiting out the lock the last one set, and
	// then a stranger who keeps at it for an hour.
	guess := func() error {
		_, err := svc.Authenticate(ctx, user, "password123")
		return err
	}
	for n := 0; n < 7; {
		switch err := guess(); {
		case errors.Is(err, staff.ErrBadLogin):
			n++
		case errors.Is(err, staff.ErrThrottled):
			clock.Add(time.Second)
		default:
			t.Fatal(err)
		}
	}
	if s, err := svc.Login(ctx, user, goodPassword, laptop); err != nil {
		t.Fatalf("owner on the known laptop after 7 wrong guesses: %v", err)
	} else {
		s.Wipe()
	}
	if _, err := svc.Login(ctx, user, goodPassword, ""); !errors.Is(err, staff.ErrThrottled) {
		t.Fatalf("owner on a new browser right after the guesses: %v, want throttled", err)
	}
	for end := clock.Now().Add(time.Hour); clock.Now().Before(end); clock.Add(10 * time.Second) {
		if err := guess(); !errors.Is(err, staff.ErrBadLogin) && !errors.Is(err, staff.ErrThrottled) {
			t.Fatal(err)
		}
	}
	if s, err := svc.Login(ctx, user, goodPassword, laptop); err != nil {
		t.Fatalf("owner on the known laptop after an hour of guessing: %v", err)
	} else {
		s.Wipe()
	}
	// The promise on a new browser: at most MaxLoginDelay after the last guess.
	clock.Add(staff.MaxLoginDelay)
	if s, err := svc.Login(ctx, user, goodPassword, ""); err != nil {
		t.Fatalf("owner on a new browser %v after the last guess: %v", staff.MaxLoginDelay, err)
	} else {
		s.Wipe()
	}

	// The laptop's own wrong passwords lock the laptop only.
	for range 3 {
		if _, err := svc.Login(ctx, user, "typo typo typo", laptop); !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("typo on the laptop: %v", err)
		}
	}
	if _, err := svc.Login(ctx, user, goodPassword, laptop); !errors.Is(err, staff.ErrThrottled) {
		t.Fatalf("laptop after three typos: %v, want throttled", err)
	}
	if s, err := svc.Login(ctx, user, goodPassword, ""); err != nil {
		t.Fatalf("another browser while the laptop waits: %v", err)
	} else {
		s.Wipe()
	}

	// A token is known only to the account that logged in with it, and a
	// made-up one is no known device.
	other := owner(t, svc, "no5")
	for range 3 {
		svc.Authenticate(ctx, other, "password123")
	}
	for _, tok := range []string{laptop, strings.Repeat("A", 43), "short"} {
		if _, err := svc.Login(ctx, other, goodPassword, tok); !errors.Is(err, staff.ErrThrottled) {
			t.Fatalf("token %q on another account: %v, want the account's lock", tok, err)
		}
	}
}

// Only a complete log-in makes a browser known; a password change forgets
// every other browser, and deactivation all of them.
func TestDevicesRememberedOnlyAfterCompleteLogin(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	pass := func(tok string) *staff.Session {
		t.Helper()
		s, err := svc.Login(ctx, user, goodPassword, tok)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := pass("")
	laptop, err := svc.RememberDevice(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Wipe()
	s = pass("")
	phone, err := svc.RememberDevice(ctx, s, "")
	if err != nil || phone == laptop {
		t.Fatalf("second device %q: %v", phone, err)
	}
	s.Wipe()
	// A presented well-formed token is kept, so a shared computer stays
	// known to each of its users.
	s = pass(laptop)
	if again, err := svc.RememberDevice(ctx, s, laptop); err != nil || again != laptop {
		t.Fatalf("known token replaced: %q %v", again, err)
	}
	s.Wipe()

	secret := enrol(t, svc, clock, user)
	clock.Add(time.Minute)
	half := pass(laptop)
	defer half.Wipe()
	if _, err := svc.RememberDevice(ctx, half, ""); err == nil {
		t.Fatal("a browser became known before the second factor")
	}
	if err := svc.VerifyTOTP(ctx, half, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RememberDevice(ctx, half, laptop); err != nil {
		t.Fatal(err)
	}

	// The laptop changes the password: the phone is a stranger now.
	if err := svc.ChangePassword(ctx, half, goodPassword+"!"); err != nil {
		t.Fatal(err)
	}
	lockAccount := func(pw string) {
		for range 3 {
			svc.Authenticate(ctx, user, "password123")
		}
		if _, err := svc.Login(ctx, user, pw, ""); !errors.Is(err, staff.ErrThrottled) {
			t.Fatalf("account not locked: %v", err)
		}
	}
	lockAccount(goodPassword + "!")
	if _, err := svc.Login(ctx, user, goodPassword+"!", phone); !errors.Is(err, staff.ErrThrottled) {
		t.Fatalf("phone after another browser changed the password: %v, want treated as unknown", err)
	}
	s, err = svc.Login(ctx, user, goodPassword+"!", laptop)
	if err != nil {
		t.Fatalf("laptop that changed the password: %v", err)
	}
	s.Wipe()
}

// openAt opens the database at path with a vault under a fixed server key,
// as a restarted server would.
func openAt(t *testing.T, path string, clock *fakeClock) *staff.Service {
	t.Helper()
	db, err := store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Clock = clock
	v, err := vault.New(make([]byte, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return staff.New(db, v, nil)
}

// A TOTP code is accepted once, ever: not the enrolment code at the next
// log-in, not a used code after a restart.
func TestTOTPCodeAcceptedOnceAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	clock := testsupport.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	svc := openAt(t, path, clock)
	ctx := context.Background()
	user := owner(t, svc, "no3")
	secret := enrol(t, svc, clock, user)
	enrolCode := totpCode(t, secret, clock.Now())
	svc.DB.Close()

	verify := func(svc *staff.Service, code string) error {
		t.Helper()
		sess, err := svc.Authenticate(ctx, user, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Wipe()
		return svc.VerifyTOTP(ctx, sess, code)
	}
	clock.Add(10 * time.Second) // same 30-second step
	svc = openAt(t, path, clock)
	if err := verify(svc, enrolCode); !errors.Is(err, staff.ErrBadTOTP) {
		t.Fatalf("enrolment code at the next log-in, after a restart: %v, want refused", err)
	}
	clock.Add(30 * time.Second)
	code := totpCode(t, secret, clock.Now())
	if err := verify(svc, code); err != nil {
		t.Fatalf("a fresh code: %v", err)
	}
	if err := verify(svc, code); !errors.Is(err, staff.ErrBadTOTP) {
		t.Fatalf("the same code again: %v, want refused", err)
	}
	svc.DB.Close()
	svc = openAt(t, path, clock)
	if err := verify(svc, code); !errors.Is(err, staff.ErrBadTOTP) {
		t.Fatalf("a used code after a restart: %v, want refused", err)
	}
	// An earlier step's code (within the drift window) is refused too.
	clock.Add(30 * time.Second)
	if err := verify(svc, totpCode(t, secret, clock.Now().Add(-30*time.Second))); !errors.Is(err, staff.ErrBadTOTP) {
		t.Fatalf("the used step's code in the drift window: %v, want refused", err)
	}
	clock.Add(5 * time.Second) // three refusals in a row locked the step for 5 s
	if err := verify(svc, totpCode(t, secret, clock.Now())); err != nil {
		t.Fatalf("the next step's code: %v", err)
	}
}

// The first admin's username says nothing about the school.
func TestAdminUsernameNotFromSchoolCode(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	re := regexp.MustCompile(`^admin-[a-z2-9]{6}$`)
	seen := map[string]bool{}
	for _, code := range []string{"no3", "no5", "shiyan"} {
		cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: code, Name: "学校 " + code})
		if err != nil {
			t.Fatal(err)
		}
		u := cs.Admin.Username
		if !re.MatchString(u) || strings.Contains(u, code) || seen[u] {
			t.Fatalf("school %s: admin username %q", code, u)
		}
		seen[u] = true
	}
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: "no7", Name: "第七中学", AdminUsername: "zhang.admin"})
	if err != nil || cs.Admin.Username != "zhang.admin" {
		t.Fatalf("chosen username: %+v %v", cs, err)
	}
}
