package inboxweb_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// TestDistrictStepIsNotACheckbox: on the case page the district-report step
// of a severe case is not a box to tick but a pointer to the escalate
// button; a form that ticks it anyway is refused with a message saying
// so, and the case stays unescalated and owing its report.
func TestDistrictStepIsNotACheckbox(t *testing.T) {
	e := newEnv(t)
	sf := e.school("no1")
	u := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	sub := e.tip("no1", "他们把他按在地上打。")
	base := "/inbox/tips/" + sub.TipUID
	if r := u.post(base+"/severity", url.Values{"severity": {"severe"}}); r.Status != 200 {
		t.Fatalf("severity: %d", r.Status)
	}
	r := u.get(base)
	mustContain(t, "severe checklist", r, `id="step-district"`, "专门学校", `href="#escalate"`)
	if strings.Contains(r.Body, `name="step" value="district_report"`) || strings.Contains(r.Body, `name="shown" value="district_report"`) {
		t.Fatal("the district step is still a checkbox")
	}
	r = u.post(base+"/steps", url.Values{"shown": {"district_report", "counseling"}, "step": {"district_report", "counseling"}})
	if r.Status != 400 || !strings.Contains(r.Body, "只能通过上报完成") {
		t.Fatalf("ticking the district step: %d: %s", r.Status, excerpt(r.Body))
	}
	tip, err := e.db.TipByUID(context.Background(), sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if tip.Steps[hotline.StepDistrictReport] || tip.Escalated {
		t.Fatalf("after a refused tick: steps %v, escalated %v", tip.Steps, tip.Escalated)
	}
}
