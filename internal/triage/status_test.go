package triage_test

import (
	"context"
	"testing"

	"hotline/internal/hotline"
)

// TestStatusCloseAndReopen walks a case through resolved → closed →
// investigating (reopen) and checks the ledger and the deadline it owes.
func TestStatusCloseAndReopen(t *testing.T) {
	st, svc := newServices(t)
	ctx := context.Background()
	a := adminSession(t, st, "aaa")
	uid := staffTip(t, svc, a, "aaa")
	actor := a.Actor()
	tipNow := func() *hotline.Tip {
		t.Helper()
		tip, err := svc.Tip(ctx, actor, uid)
		if err != nil {
			t.Fatal(err)
		}
		return tip
	}
	if err := svc.SetSeverity(ctx, actor, uid, hotline.SeverityMinor); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetStatus(ctx, actor, uid, hotline.StatusResolved); err != nil {
		t.Fatal(err)
	}
	resolvedAt := tipNow().ResolvedAt
	// 已处理完毕 → 已关闭.
	if err := svc.SetStatus(ctx, actor, uid, hotline.StatusClosed); err != nil {
		t.Fatalf("resolved → closed: %v", err)
	}
	tip := tipNow()
	if tip.Status != hotline.StatusClosed || !tip.NextDue().IsZero() || !tip.ProgressDue.IsZero() {
		t.Fatalf("closed: status %s, next due %v, progress due %v", tip.Status, tip.NextDue(), tip.ProgressDue)
	}
	if !tip.ResolvedAt.Equal(resolvedAt) {
		t.Errorf("closing a resolved case moved its end: %v → %v", resolvedAt, tip.ResolvedAt)
	}
	// A disallowed move is refused with a coded error and writes nothing.
	before, _ := svc.Timeline(ctx, actor, uid)
	err := svc.SetStatus(ctx, actor, uid, hotline.StatusNew)
	if hotline.ErrorCode(err) != hotline.EINVALID || hotline.ErrorMessage(err, hotline.LangEN) != "A case cannot go from Closed to New." {
		t.Fatalf("closed → new: %v", err)
	}
	if after, _ := svc.Timeline(ctx, actor, uid); len(after) != len(before) {
		t.Fatalf("a refused change wrote %d events", len(after)-len(before))
	}
	// Reopen: closed → investigating.
	if err := svc.SetStatus(ctx, actor, uid, hotline.StatusInvestigating); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	tip = tipNow()
	if tip.Status != hotline.StatusInvestigating || !tip.ResolvedAt.IsZero() {
		t.Fatalf("reopened: status %s, resolved at %v", tip.Status, tip.ResolvedAt)
	}
	if tip.ProgressDue.IsZero() || tip.NextDue().IsZero() || !tip.NextDue().After(svc.DB.Clock.Now()) {
		t.Fatalf("a reopened case owes no deadline: progress %v, next %v", tip.ProgressDue, tip.NextDue())
	}
	events, _ := svc.Timeline(ctx, actor, uid)
	last := events[len(events)-1]
	if last.Kind != hotline.EventReopened || last.Detail != "from=closed;to=investigating" {
		t.Fatalf("reopen event: %s %q", last.Kind, last.Detail)
	}
	if res, err := svc.DB.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger: %+v %v", res, err)
	}
}

// TestReopenUnassessedOwesAssessment checks that a case closed before it was
// assessed owes a fresh assessment once reopened.
func TestReopenUnassessedOwesAssessment(t *testing.T) {
	st, svc := newServices(t)
	ctx := context.Background()
	a := adminSession(t, st, "aaa")
	uid := staffTip(t, svc, a, "aaa")
	actor := a.Actor()
	if err := svc.SetStatus(ctx, actor, uid, hotline.StatusClosed); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetStatus(ctx, actor, uid, hotline.StatusInvestigating); err != nil {
		t.Fatal(err)
	}
	tip, err := svc.Tip(ctx, actor, uid)
	if err != nil {
		t.Fatal(err)
	}
	if !tip.AssessDue.After(svc.DB.Clock.Now()) || !tip.NextDue().Equal(tip.AssessDue) {
		t.Fatalf("reopened unassessed case: assess due %v, next due %v", tip.AssessDue, tip.NextDue())
	}
}
