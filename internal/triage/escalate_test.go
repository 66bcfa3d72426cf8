package triage_test

import (
	"context"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/triage"
)

// districtEnv is a school of a district that has an officer, with the
// school's admin and a counselor logged in.
type districtEnv struct {
	tb      testing.TB
	db      *store.DB
	staff   *staff.Service
	svc     *triage.Service
	intake  *intake.Service
	admin   *staff.Session
	wang    *staff.Session
	officer *staff.Session
}

func newDistrictEnv(tb testing.TB) *districtEnv {
	tb.Helper()
	ctx := context.Background()
	st, svc := newServices(tb)
	e := &districtEnv{tb: tb, db: svc.DB, staff: st, svc: svc, intake: intakeFor(svc)}
	d, err := st.CreateDistrict(ctx, "海淀区", "officer1")
	if err != nil {
		tb.Fatal(err)
	}
	e.officer = e.login("officer1", d.OfficerPassword)
	cs, err := st.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区", AdminUsername: "admin3"})
	if err != nil {
		tb.Fatal(err)
	}
	e.admin = e.login("admin3", cs.AdminPassword)
	_, otp, err := st.AddCounselor(ctx, e.admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		tb.Fatal(err)
	}
	e.wang = e.login("wang", otp)
	return e
}

func (e *districtEnv) login(user, password string) *staff.Session {
	e.tb.Helper()
	sess, err := e.staff.Authenticate(context.Background(), user, password)
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(sess.Wipe)
	return sess
}

func (e *districtEnv) submit(texts []string, danger bool) *hotline.Submitted {
	e.tb.Helper()
	out, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterVictim,
		Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: texts, DangerNow: danger})
	if err != nil {
		e.tb.Fatal(err)
	}
	return out
}

func (e *districtEnv) tip(uid string) *hotline.Tip {
	e.tb.Helper()
	t, err := e.db.TipByUID(context.Background(), uid)
	if err != nil {
		e.tb.Fatal(err)
	}
	return t
}

func TestDistrictReadsEscalatedCasesOnly(t *testing.T) {
	e := newDistrictEnv(t)
	ctx := context.Background()
	admin := e.admin.Actor()
	esc := e.submit([]string{"三个男生在操场后面打他。", "还抢了他的书包。"}, false)
	if _, err := e.svc.Reply(ctx, admin, esc.TipUID, "我们会马上处理。", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Note(ctx, admin, esc.TipUID, "初一（2）班"); err != nil {
		t.Fatal(err)
	}
	other := e.submit([]string{"有人给我起外号。"}, false)

	// Before escalation the district sees nothing.
	if _, _, err := e.svc.Thread(ctx, e.officer, esc.TipUID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("district thread before escalation: %v", err)
	}
	if err := e.svc.Escalate(ctx, e.officer, esc.TipUID); hotline.ErrorCode(err) != hotline.EFORBIDDEN && hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("a district officer escalated: %v", err)
	}
	if err := e.svc.Escalate(ctx, e.wang, esc.TipUID); err != nil {
		t.Fatal(err)
	}
	// A message after escalation is sealed to the district too.
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: esc.Receipt}, "他们今天又来了。", nil); err != nil {
		t.Fatal(err)
	}
	_, school, err := e.svc.Thread(ctx, e.admin, esc.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	_, district, err := e.svc.Thread(ctx, e.officer, esc.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(district) != len(school) || len(school) != 5 {
		t.Fatalf("district sees %d messages, school %d; want 5 each", len(district), len(school))
	}
	for i := range school {
		if district[i].Body != school[i].Body || district[i].Body == "" {
			t.Errorf("message %d: district %q, school %q", i, district[i].Body, school[i].Body)
		}
	}
	if _, _, err := e.svc.Thread(ctx, e.officer, other.TipUID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("district read a case not escalated: %v", err)
	}
	if _, err := e.svc.Reply(ctx, e.officer.Actor(), esc.TipUID, "区里回复", nil); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Errorf("district replied: %v", err)
	}
	// An officer of another district sees nothing, even escalated.
	d2, err := e.staff.CreateDistrict(ctx, "朝阳区", "officer2")
	if err != nil {
		t.Fatal(err)
	}
	o2 := e.login("officer2", d2.OfficerPassword)
	if _, _, err := e.svc.Thread(ctx, o2, esc.TipUID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Errorf("another district read the case: %v", err)
	}
	// The ledger records the escalation.
	evs, _ := e.db.TipEvents(ctx, e.tip(esc.TipUID).ID)
	found := false
	for _, ev := range evs {
		found = found || ev.Kind == hotline.EventEscalated
	}
	if !found {
		t.Error("no escalated event in the ledger")
	}
}
