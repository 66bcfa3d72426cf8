package staff_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

type fakeClock = testsupport.Clock

func newService(tb testing.TB) (*staff.Service, *fakeClock) {
	tb.Helper()
	db := testsupport.OpenStore(tb)
	clock := testsupport.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	db.Clock = clock
	v, err := vault.New(make([]byte, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	return staff.New(db, v, nil), clock
}

func adminSession(tb testing.TB, svc *staff.Service, code string) *staff.Session {
	tb.Helper()
	ctx := context.Background()
	cs, err := svc.CreateSchool(ctx, staff.NewSchool{Code: code, Name: "学校 " + code, District: "海淀区"})
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := svc.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sess.Wipe)
	return sess
}

func TestValidateOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://school.example.cn", "https://school.example.cn"},
		{" HTTPS://School.Example.cn:8443/ ", "https://school.example.cn:8443"},
		{"http://localhost:8080", "http://localhost:8080"},
	} {
		if got, err := staff.ValidateOrigin(tc.in); err != nil || got != tc.want {
			t.Errorf("ValidateOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "school.example.cn", "ftp://x.cn", "https://x.cn/path", "https://x.cn?q=1", "https://u:p@x.cn", "https://*.x.cn", "https://x.cn:99999", "javascript:alert(1)", "https://"} {
		if got, err := staff.ValidateOrigin(in); err == nil {
			t.Errorf("ValidateOrigin(%q) = %q, want an error", in, got)
		}
	}
}

func TestUpdateSettings(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	admin := adminSession(t, svc, "no1")
	school, err := svc.UpdateSettings(ctx, admin, staff.SettingsUpdate{
		Name: "第一中学", Code: "no1x", EmergencyContact: "保卫处 010-1234567",
		AllowedOrigins: []string{"https://no1.example.cn", "", "https://NO1.example.cn"}, AckUrgentHours: 2, RequireTOTP: true, RetentionDays: 365,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.DB.SchoolByID(ctx, school.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Code != "no1x" || got.Name != "第一中学" || len(got.Settings.AllowedOrigins) != 1 || !got.Settings.RequireTOTP ||
		got.Settings.Deadlines.AckUrgent.D() != 2*time.Hour || got.Settings.Deadlines.WithDefaults().Ack.D() != 24*time.Hour {
		t.Fatalf("school = %+v", got)
	}
	for _, bad := range []staff.SettingsUpdate{
		{Name: "", Code: "no1x"},
		{Name: "x", Code: "no1x", AllowedOrigins: []string{"evil"}},
		{Name: "x", Code: "no1x", AckHours: -1},
		{Name: "x", Code: "no1x", RetentionDays: 5},
		{Name: "x", Code: "NO 1"},
	} {
		if _, err := svc.UpdateSettings(ctx, admin, bad); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("UpdateSettings(%+v) = %v, want EINVALID", bad, err)
		}
	}
	c, _, err := svc.AddCounselor(ctx, admin, "plain", "", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	plain := &staff.Session{Counselor: c}
	if _, err := svc.UpdateSettings(ctx, plain, staff.SettingsUpdate{Name: "x", Code: "no1x"}); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Fatalf("counselor UpdateSettings = %v, want EFORBIDDEN", err)
	}
}

func TestTOTPEnrollVerifyReplay(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	sess := adminSession(t, svc, "no2")
	key, err := svc.NewTOTPKey(sess)
	if err != nil {
		t.Fatal(err)
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if err := svc.EnableTOTP(ctx, sess, key.Secret(), "000000x"); err == nil {
		t.Fatal("enabled with a bad code")
	}
	if err := svc.EnableTOTP(ctx, sess, key.Secret(), code(clock.Now())); err != nil {
		t.Fatal(err)
	}
	rec, _ := svc.DB.CounselorByID(ctx, sess.Counselor.ID)
	if len(rec.TOTPSecretSealed) == 0 || string(rec.TOTPSecretSealed) == key.Secret() {
		t.Fatal("secret not stored sealed")
	}
	clock.Add(time.Minute)
	if err := svc.VerifyTOTP(ctx, sess, code(clock.Now())); err != nil {
		t.Fatalf("valid code: %v", err)
	}
	if err := svc.VerifyTOTP(ctx, sess, code(clock.Now())); err == nil {
		t.Fatal("replayed code accepted")
	}
	clock.Add(time.Minute)
	if err := svc.VerifyTOTP(ctx, sess, code(clock.Now().Add(-time.Hour))); err == nil {
		t.Fatal("stale code accepted")
	}
	if err := svc.VerifyTOTP(ctx, sess, code(clock.Now())); err != nil {
		t.Fatalf("fresh code after a failure: %v", err)
	}
}
