package triage_test

import (
	"context"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/triage"
)

func TestCaseActionsStayInTheirSchool(t *testing.T) {
	st, svc := newServices(t)
	ctx := context.Background()
	a := adminSession(t, st, "aaa")
	b := adminSession(t, st, "bbb")
	// A tip of school A, entered by A's admin from a phone call.
	uid := staffTip(t, svc, a, "aaa")
	actions := []struct {
		name string
		act  func(s *staff.Session) error
	}{
		{"tip", func(s *staff.Session) error { _, err := svc.Tip(ctx, s.Actor(), uid); return err }},
		{"thread", func(s *staff.Session) error { _, _, err := svc.Thread(ctx, s, uid); return err }},
		{"timeline", func(s *staff.Session) error { _, err := svc.Timeline(ctx, s.Actor(), uid); return err }},
		{"reply", func(s *staff.Session) error { _, err := svc.Reply(ctx, s.Actor(), uid, "x", nil); return err }},
		{"note", func(s *staff.Session) error { _, err := svc.Note(ctx, s.Actor(), uid, "x"); return err }},
		{"status", func(s *staff.Session) error { return svc.SetStatus(ctx, s.Actor(), uid, hotline.StatusInvestigating) }},
		{"severity", func(s *staff.Session) error { return svc.SetSeverity(ctx, s.Actor(), uid, hotline.SeveritySevere) }},
		{"category", func(s *staff.Session) error { return svc.SetCategory(ctx, s.Actor(), uid, hotline.CategoryCyber) }},
		{"urgent", func(s *staff.Session) error { return svc.SetUrgent(ctx, s.Actor(), uid, true) }},
		{"assign", func(s *staff.Session) error { return svc.Assign(ctx, s.Actor(), uid, 0) }},
		{"step", func(s *staff.Session) error {
			return svc.RecordStep(ctx, s.Actor(), uid, hotline.StepCounseling, true)
		}},
	}
	for _, a := range actions {
		if err := a.act(b); hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Errorf("%s by another school: got %v, want not found", a.name, err)
		}
	}
	before, _ := svc.Timeline(ctx, a.Actor(), uid)
	for _, act := range actions {
		if err := act.act(a); err != nil {
			t.Errorf("%s by its own school: %v", act.name, err)
		}
	}
	after, _ := svc.Timeline(ctx, a.Actor(), uid)
	if len(after) <= len(before) {
		t.Fatalf("actions left no ledger events: %d → %d", len(before), len(after))
	}
	if res, err := svc.DB.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger: %+v %v", res, err)
	}
}

// staffTip records a tip as a counselor would from a phone call.
func staffTip(t *testing.T, svc *triage.Service, s *staff.Session, code string) string {
	t.Helper()
	in := intakeFor(svc)
	actor := s.Actor()
	sub, err := in.Submit(context.Background(), hotline.Submission{SchoolCode: code, Channel: hotline.ChannelStaff, Staff: &actor, Texts: []string{"电话：孩子被同学孤立"}})
	if err != nil {
		t.Fatal(err)
	}
	return sub.TipUID
}
