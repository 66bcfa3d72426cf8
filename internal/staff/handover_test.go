package staff_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

func officerSession(tb testing.TB, svc *staff.Service, district, username string) *staff.Session {
	tb.Helper()
	ctx := context.Background()
	cd, err := svc.CreateDistrict(ctx, district, username)
	if err != nil {
		tb.Fatal(err)
	}
	sess, err := svc.Authenticate(ctx, username, cd.OfficerPassword)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sess.Wipe)
	return sess
}

// TestHandoverMakesTheKeyOnlyForTheAdmin: a school added by an officer has
// no key and takes no reports until its admin accepts the link; then the
// key pair is made, the recovery key goes to the admin alone, and the link
// is spent. Every step is in the audit trail and the ledger, and neither
// holds the link.
func TestHandoverMakesTheKeyOnlyForTheAdmin(t *testing.T) {
	svc, clock := newService(t)
	ctx := context.Background()
	officer := officerSession(t, svc, "海淀区", "hd-officer")

	started, err := svc.AddSchool(ctx, officer, "No7", "第七中学", "No. 7 Middle School")
	if err != nil {
		t.Fatal(err)
	}
	if started.Handover.Code != "no7" || started.Token == "" || !strings.HasPrefix(started.Path(), "/inbox/handover/") {
		t.Fatalf("started: %+v", started)
	}
	// Before the hand-over: no school, and every channel's look-up says why.
	if _, err := svc.DB.SchoolByCode(ctx, "no7"); err != hotline.ErrSchoolNotOpen {
		t.Fatalf("school before hand-over: got %v, want ErrSchoolNotOpen", err)
	}
	// The code is the district's until then.
	other := officerSession(t, svc, "朝阳区", "cy-officer")
	if _, err := svc.AddSchool(ctx, other, "no7", "别的学校", ""); hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Fatalf("another district's school with a pending code: got %v, want conflict", err)
	}
	for _, bad := range []string{"", "x", started.Token + "x", strings.Repeat("a", 500)} {
		if _, err := svc.Handover(ctx, bad); err != staff.ErrHandoverInvalid {
			t.Errorf("token %q: got %v, want ErrHandoverInvalid", bad, err)
		}
	}
	if _, err := svc.AcceptHandover(ctx, started.Token, "li-admin", "short", ""); hotline.ErrorCode(err) != hotline.EINVALID {
		t.Fatalf("weak password: got %v, want invalid", err)
	}
	acc, err := svc.AcceptHandover(ctx, started.Token, "li-admin", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	if acc.RecoveryKey == "" || acc.School.Code != "no7" || acc.School.District != "海淀区" || acc.School.Settings.NameEN != "No. 7 Middle School" {
		t.Fatalf("accepted: %+v", acc)
	}
	if !acc.School.Settings.RequireTOTP {
		t.Fatal("a district-made school does not ask its admins for a second factor")
	}
	if _, err := svc.AcceptHandover(ctx, started.Token, "li-admin2", "a long enough password", ""); err != staff.ErrHandoverInvalid {
		t.Fatalf("second use of the link: got %v, want ErrHandoverInvalid", err)
	}
	school, err := svc.DB.SchoolByCode(ctx, "no7")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := svc.Authenticate(ctx, "li-admin", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Wipe()
	if admin.Counselor.Role != hotline.RoleAdmin || admin.Counselor.MustChangePassword || !bytes.Equal(admin.Key.PublicKey(), school.PublicKey) {
		t.Fatalf("admin session does not hold the school key: %+v", admin.Counselor)
	}
	if bytes.Equal(officer.Key.PublicKey(), school.PublicKey) {
		t.Fatal("the officer's key is the school's")
	}

	// A link expires.
	late, err := svc.AddSchool(ctx, officer, "no8", "第八中学", "")
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(staff.HandoverLifetime + time.Minute)
	if _, err := svc.AcceptHandover(ctx, late.Token, "zhao", "a long enough password", ""); err != staff.ErrHandoverInvalid {
		t.Fatalf("expired link: got %v, want ErrHandoverInvalid", err)
	}
	// A new link for the still-closed school replaces it.
	renewed, err := svc.NewHandover(ctx, officer, "no8")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DB.SchoolByCode(ctx, "no8"); err != hotline.ErrSchoolNotOpen {
		t.Fatalf("renewed school before acceptance: got %v", err)
	}
	if _, err := svc.AcceptHandover(ctx, renewed.Token, "zhao", "a long enough password", ""); err != nil {
		t.Fatal(err)
	}

	// The trail: who did what, and never the link.
	entries, err := svc.DB.Audit(ctx, storeAuditFilter("海淀区"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[hotline.AuditKind]int{}
	for _, e := range entries {
		kinds[e.Kind]++
		for _, tok := range []string{started.Token, late.Token, renewed.Token, acc.RecoveryKey} {
			if strings.Contains(e.Detail, tok) {
				t.Fatalf("audit entry %+v holds a secret", e)
			}
		}
	}
	if kinds[hotline.AuditHandoverStarted] != 3 || kinds[hotline.AuditHandoverAccepted] != 2 {
		t.Fatalf("audit kinds: got %v, want 3 started and 2 accepted", kinds)
	}
	var details []string
	if err := svc.DB.Reader().Select(&details, `SELECT kind || ' ' || detail FROM ledger ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(details, "\n")
	if strings.Count(got, "handover_started") != 3 || strings.Count(got, "handover_accepted") != 2 || strings.Contains(got, started.Token) {
		t.Fatalf("ledger:\n%s", got)
	}
}

// TestOfficerReplacesAnAdminWithoutTheKey: an officer deactivates a
// school's admin and hands the school to a new one, who needs the school's
// recovery key: neither the officer nor the link opens the school's key.
func TestOfficerReplacesAnAdminWithoutTheKey(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	officer := officerSession(t, svc, "海淀区", "hd-officer")
	started, err := svc.AddSchool(ctx, officer, "no9", "第九中学", "")
	if err != nil {
		t.Fatal(err)
	}
	acc, err := svc.AcceptHandover(ctx, started.Token, "first-admin", "a long enough password", "")
	if err != nil {
		t.Fatal(err)
	}
	// Not an officer, not of this district, not an admin: refused.
	stranger := officerSession(t, svc, "朝阳区", "cy-officer")
	if err := svc.DeactivateSchoolAdmin(ctx, stranger, acc.Admin.ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district's officer: got %v, want not found", err)
	}
	admin, err := svc.Authenticate(ctx, "first-admin", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Wipe()
	if err := svc.DeactivateSchoolAdmin(ctx, admin, acc.Admin.ID); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Fatalf("an admin using the officer's act: got %v, want forbidden", err)
	}
	if err := svc.DeactivateSchoolAdmin(ctx, officer, acc.Admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "first-admin", "a long enough password"); err != staff.ErrBadLogin {
		t.Fatalf("deactivated admin's log-in: got %v, want ErrBadLogin", err)
	}
	next, err := svc.NewHandover(ctx, officer, "no9")
	if err != nil {
		t.Fatal(err)
	}
	// The school keeps taking reports meanwhile: it has its key.
	if _, err := svc.DB.SchoolByCode(ctx, "no9"); err != nil {
		t.Fatalf("running school during a new hand-over: %v", err)
	}
	for _, key := range []string{"", "abcde-fghij"} {
		if _, err := svc.AcceptHandover(ctx, next.Token, "second-admin", "another long password", key); hotline.ErrorCode(err) != hotline.EUNAUTHORIZED {
			t.Fatalf("recovery key %q: got %v, want unauthorized", key, err)
		}
	}
	acc2, err := svc.AcceptHandover(ctx, next.Token, "second-admin", "another long password", acc.RecoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	if acc2.RecoveryKey != "" {
		t.Fatal("a new admin of a running school got a new recovery key")
	}
	sess, err := svc.Authenticate(ctx, "second-admin", "another long password")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	if !bytes.Equal(sess.Key.PublicKey(), acc.School.PublicKey) {
		t.Fatal("the new admin does not hold the school's key")
	}
	entries, err := svc.DB.Audit(ctx, storeAuditFilter("海淀区"))
	if err != nil {
		t.Fatal(err)
	}
	var deactivated, wrongKey int
	for _, e := range entries {
		switch e.Kind {
		case hotline.AuditAdminDeactivated:
			deactivated++
		case hotline.AuditRecoveryFailed:
			wrongKey++
		}
	}
	if deactivated != 1 || wrongKey != 2 {
		t.Fatalf("audit: got %d deactivations and %d wrong keys, want 1 and 2", deactivated, wrongKey)
	}
}

func storeAuditFilter(district string) store.AuditFilter {
	return store.AuditFilter{District: district, Limit: 200}
}

// TestWithdrawASchoolNotYetOpen: an officer takes back a school added by
// mistake: its link stops working and its code is free; a school with its
// key, or another district's, cannot be withdrawn.
func TestWithdrawASchoolNotYetOpen(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	officer := officerSession(t, svc, "海淀区", "hd-officer")
	other := officerSession(t, svc, "朝阳区", "cy-officer")
	typo, err := svc.AddSchool(ctx, officer, "no33", "第三中学", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.WithdrawSchool(ctx, other, "no33"); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district's officer: got %v, want not found", err)
	}
	if err := svc.WithdrawSchool(ctx, officer, "no33"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptHandover(ctx, typo.Token, "li", "a long enough password", ""); err != staff.ErrHandoverInvalid {
		t.Fatalf("a withdrawn school's link: got %v, want ErrHandoverInvalid", err)
	}
	if _, err := svc.DB.SchoolByCode(ctx, "no33"); err != hotline.ErrSchoolNotFound {
		t.Fatalf("a withdrawn school's code: got %v, want ErrSchoolNotFound", err)
	}
	if _, err := svc.NewHandover(ctx, officer, "no33"); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("a new link for a withdrawn school: got %v, want not found", err)
	}
	// The code is free again, for any district.
	if _, err := svc.AddSchool(ctx, other, "no33", "朝阳三十三中", ""); err != nil {
		t.Fatalf("the freed code: %v", err)
	}
	open, err := svc.AddSchool(ctx, officer, "no3", "第三中学", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptHandover(ctx, open.Token, "li", "a long enough password", ""); err != nil {
		t.Fatal(err)
	}
	if err := svc.WithdrawSchool(ctx, officer, "no3"); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("withdrawing an open school: got %v, want not found", err)
	}
	if _, err := svc.DB.SchoolByCode(ctx, "no3"); err != nil {
		t.Fatalf("the open school after a refused withdrawal: %v", err)
	}
}
