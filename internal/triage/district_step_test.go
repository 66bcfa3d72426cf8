package triage_test

import (
	"context"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/triage"
)

// TestDistrictStepOnlyByEscalating: ticking "reported to the district" on a
// severe case that was never escalated is refused — the district would
// never see the case — and leaves the deadline owed and the ledger silent;
// escalating completes the step, which then cannot be unticked.
func TestDistrictStepOnlyByEscalating(t *testing.T) {
	e := newDistrictEnv(t)
	ctx := context.Background()
	admin := e.admin.Actor()
	sub := e.submit([]string{"他们每天在厕所里打他，还录了视频。"}, false)
	if err := e.svc.SetSeverity(ctx, admin, sub.TipUID, hotline.SeveritySevere); err != nil {
		t.Fatal(err)
	}
	err := e.svc.RecordStep(ctx, admin, sub.TipUID, hotline.StepDistrictReport, true)
	if err != triage.ErrEscalateFirst {
		t.Fatalf("ticking the district step without escalating: %v, want ErrEscalateFirst", err)
	}
	if msg := hotline.ErrorMessage(err, hotline.LangZH); msg == "" || !strings.Contains(msg, "上报区教育局") {
		t.Fatalf("the refusal does not point to the escalate button: %q", msg)
	}
	tip := e.tip(sub.TipUID)
	if tip.Steps[hotline.StepDistrictReport] || tip.Escalated || !triage.NeedsEscalation(tip) || tip.DistrictDue.IsZero() {
		t.Fatalf("after a refused tick: step %v, escalated %v, district due %v", tip.Steps[hotline.StepDistrictReport], tip.Escalated, tip.DistrictDue)
	}
	evs, err := e.db.TipEvents(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == hotline.EventDistrictReport || ev.Kind == hotline.EventEscalated {
			t.Fatalf("a refused tick wrote %s to the ledger", ev.Kind)
		}
	}
	if _, _, err := e.svc.Thread(ctx, e.officer, sub.TipUID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("the district reads a case nobody escalated: %v", err)
	}

	if err := e.svc.Escalate(ctx, e.admin, sub.TipUID); err != nil {
		t.Fatal(err)
	}
	if tip := e.tip(sub.TipUID); !tip.Steps[hotline.StepDistrictReport] || !tip.Escalated {
		t.Fatalf("escalating did not complete the district step: %+v", tip.Steps)
	}
	if _, _, err := e.svc.Thread(ctx, e.officer, sub.TipUID); err != nil {
		t.Fatalf("the district cannot read the escalated case: %v", err)
	}
	// Ticking it again is no change; unticking would deny a report made.
	if err := e.svc.RecordStep(ctx, admin, sub.TipUID, hotline.StepDistrictReport, true); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RecordStep(ctx, admin, sub.TipUID, hotline.StepDistrictReport, false); err != triage.ErrDistrictReportFinal {
		t.Fatalf("unticking the district step: %v", err)
	}
}
