package staff_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

func TestLoginWrongPasswordThrottleAndChange(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	user := cs.Admin.Username
	// Wrong passwords: a clear error, no session, nothing left in the pool.
	for i := 0; i < 3; i++ {
		sess, err := svc.Authenticate(ctx, user, "wrong password")
		if sess != nil || !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("attempt %d: %v %v", i, sess, err)
		}
		if got := hotline.ErrorMessage(err, hotline.LangZH); got != "用户名或密码错误。" {
			t.Fatalf("message %q", got)
		}
		if st := svc.Vault.KDFStats(); st.InFlight != 0 {
			t.Fatalf("derivations still in flight: %+v", st)
		}
	}
	// After three failures the account waits, even for the right password.
	if _, err := svc.Authenticate(ctx, user, cs.AdminPassword); !errors.Is(err, staff.ErrThrottled) {
		t.Fatalf("while throttled: %v", err)
	}
	clock.Add(2 * time.Second)
	sess, err := svc.Authenticate(ctx, user, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Counselor.MustChangePassword {
		t.Fatal("one-time password does not force a change")
	}
	if err := svc.ChangePassword(ctx, sess, "short"); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("short password: %v", err)
	}
	if err := svc.ChangePassword(ctx, sess, "a much better password"); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	if !sess.Key.Wiped() {
		t.Fatal("Wipe left the key")
	}
	if _, err := svc.Authenticate(ctx, user, cs.AdminPassword); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("old one-time password still works: %v", err)
	}
	again, err := svc.Authenticate(ctx, user, "a much better password")
	if err != nil || again.Counselor.MustChangePassword {
		t.Fatalf("new password: %+v %v", again, err)
	}
	again.Wipe()
	// Unknown users get the same answer as wrong passwords.
	if _, err := svc.Authenticate(ctx, "nobody", "x"); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestDeactivatedCounselorOpensNothing(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	c, otp, err := svc.AddCounselor(ctx, admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := svc.Authenticate(ctx, "wang", otp)
	if err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	if err := svc.Deactivate(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "wang", otp); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("deactivated log-in: %v", err)
	}
	rec, err := svc.DB.CounselorByID(ctx, c.ID)
	if err != nil || rec.Active || rec.WrappedKey != nil {
		t.Fatalf("deactivated counselor keeps a wrapped key: %+v", rec)
	}
	// A counselor cannot manage staff; an admin cannot deactivate another school's.
	other := adminSession(t, svc, "no5")
	if err := svc.Deactivate(ctx, other, admin.Counselor.ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("cross-school deactivate: %v", err)
	}
}

func TestConcurrentLoginsStayInThePool(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sess, err := svc.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
			if err == nil {
				sess.Wipe()
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st := svc.Vault.KDFStats()
	if ok != 200 || st.MaxInFlight > st.Concurrency || st.InFlight != 0 {
		t.Fatalf("%d of 200 logged in; pool %+v", ok, st)
	}
}

// An unknown or deactivated username costs the same argon2id derivation as
// a wrong password, so the answer's timing does not tell which exist.
func TestLoginUnknownUserDerivesToo(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := svc.AddCounselor(ctx, admin, "gone", "Gone", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Deactivate(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"nobody", "nobody-else", "gone"} {
		before := svc.Vault.KDFStats().Total
		if _, err := svc.Authenticate(ctx, user, "some password"); !errors.Is(err, staff.ErrBadLogin) {
			t.Fatalf("%s: %v", user, err)
		}
		if got := svc.Vault.KDFStats().Total - before; got < 1 {
			t.Fatalf("%s: %d argon2id derivations, want at least 1 like a known user", user, got)
		}
	}
}

func TestUnknownUsernameThrottledLikeARealOne(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	answers := func(user string) []error {
		var out []error
		for i := 0; i < 4; i++ {
			_, err := svc.Authenticate(ctx, user, "wrong password")
			out = append(out, err)
		}
		return out
	}
	real, unknown := answers(cs.Admin.Username), answers("nobody-here")
	for i := range real {
		if !errors.Is(real[i], unknown[i]) && !(errors.Is(real[i], staff.ErrBadLogin) && errors.Is(unknown[i], staff.ErrBadLogin)) {
			t.Fatalf("attempt %d: real account %v, unknown account %v", i+1, real[i], unknown[i])
		}
	}
	if !errors.Is(unknown[3], staff.ErrThrottled) {
		t.Fatalf("fourth attempt at an unknown name: %v, want throttled", unknown[3])
	}
	clock.Add(time.Hour)
	if _, err := svc.Authenticate(ctx, "nobody-here", "x"); !errors.Is(err, staff.ErrBadLogin) {
		t.Fatalf("after the wait: %v", err)
	}
}
