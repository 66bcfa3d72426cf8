package staff_test

import (
	"context"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// A staff member's sealed alert chat and address are bound to their row:
// copied into another counselor's row (to redirect that counselor's alerts
// to the attacker's chat or mailbox), they no longer open.
func TestAlertChannelsBoundToTheirStaffMember(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	admin := adminSession(t, svc, "no3")
	defer admin.Wipe()
	_, otp, err := svc.AddCounselor(ctx, admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	wang, err := svc.Authenticate(ctx, "wang", otp)
	if err != nil {
		t.Fatal(err)
	}
	defer wang.Wipe()
	code, _, err := svc.NewLinkCode(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.LinkTelegram(ctx, code, 4242); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAlertEmail(ctx, admin, "admin@no3.example.cn"); err != nil {
		t.Fatal(err)
	}
	a, err := svc.DB.CounselorByID(ctx, admin.Counselor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := svc.Vault.OpenStaffChat(a.ID, a.TelegramSealed); err != nil || id != 4242 {
		t.Fatalf("own chat: %d %v", id, err)
	}
	if addr, err := staff.OpenAlertEmail(svc.Vault, a.ID, a.EmailSealed); err != nil || addr != "admin@no3.example.cn" {
		t.Fatalf("own address: %q %v", addr, err)
	}
	// The attacker copies the admin's blobs into Wang's row.
	if _, err := svc.DB.Writer().ExecContext(ctx, `UPDATE counselors SET telegram_sealed = ?, email_sealed = ? WHERE id = ?`,
		a.TelegramSealed, a.EmailSealed, wang.Counselor.ID); err != nil {
		t.Fatal(err)
	}
	w, err := svc.DB.CounselorByID(ctx, wang.Counselor.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := svc.Vault.OpenStaffChat(w.ID, w.TelegramSealed); err == nil {
		t.Fatalf("admin's chat opened in Wang's row: %d", id)
	}
	if addr, err := staff.OpenAlertEmail(svc.Vault, w.ID, w.EmailSealed); err == nil {
		t.Fatalf("admin's address opened in Wang's row: %q", addr)
	}
	if _, err := svc.AlertPrefs(ctx, wang); err == nil {
		t.Fatal("Wang's alert settings opened a swapped address")
	}
}
