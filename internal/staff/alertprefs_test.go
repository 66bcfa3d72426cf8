package staff_test

import (
	"context"
	"testing"
	"time"

	"hotline/internal/hotline"
)

func TestLinkCodeIsOneTimeAndExpires(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	_, otp, err := svc.AddCounselor(ctx, admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	wang, err := svc.Authenticate(ctx, "wang", otp)
	if err != nil {
		t.Fatal(err)
	}
	defer wang.Wipe()
	t0 := clock.Now()
	code, expires, err := svc.NewLinkCode(ctx, wang)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(t0.Add(15 * time.Minute)) {
		t.Errorf("expires %v", expires)
	}
	if err := svc.LinkTelegram(ctx, "ZZZZ-ZZZZ", 5); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("unknown code: %v", err)
	}
	if err := svc.LinkTelegram(ctx, code, 5); err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkTelegram(ctx, code, 6); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("code used twice: %v", err)
	}
	c, err := svc.DB.CounselorByTelegram(ctx, svc.Vault.ChatMAC(5))
	if err != nil || c.ID != wang.Counselor.ID {
		t.Fatalf("linked counselor = %v, %v", c, err)
	}
	code2, _, _ := svc.NewLinkCode(ctx, admin)
	clock.Set(t0.Add(16 * time.Minute))
	if err := svc.LinkTelegram(ctx, code2, 7); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("expired code: %v", err)
	}
}
