package scheduler_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/scheduler"
	"hotline/internal/store"
)

// districtAlert reports whether a tip has a district alert for reason.
func (e *ovEnv) districtAlert(uid, reason string) bool {
	e.tb.Helper()
	as, err := e.db.AlertsByTip(context.Background(), e.tip(uid).ID)
	if err != nil {
		e.tb.Fatal(err)
	}
	for _, a := range as {
		if a.Audience == scheduler.AudienceDistrict && a.Reason == reason {
			return true
		}
	}
	return false
}

// TestNoCaseOutsideTheNet: a case nobody assesses, and a case a counselor
// answered once and then left, both come under a deadline — the
// assessment's, then the next action's by severity, from the district's
// settings — miss it once (across restarts), are recorded in the ledger,
// alert the district and show as overdue in its view; a reply renews the
// clock and closing the case ends it.
func TestNoCaseOutsideTheNet(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	admin := e.admin.Actor()
	const day = 24 * time.Hour
	// The district sets its own times; what it leaves out keeps the default.
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		return tx.SetDistrictDeadlines(e.district, hotline.CaseDeadlines{Assess: hotline.Duration(48 * time.Hour), Minor: hotline.Duration(4 * day)})
	})
	if err != nil {
		t.Fatal(err)
	}

	left := e.submit([]string{"他们在宿舍里抢我的饭卡。"}, false)
	once := e.submit([]string{"有人一直在班级群里骂我。"}, false)
	if got := e.tip(left.TipUID).AssessDue; !got.Equal(e.t0.Add(48 * time.Hour)) {
		t.Fatalf("assessment due %v, want the district's 48 h", got)
	}
	e.at(time.Hour)
	if _, err := e.svc.Reply(ctx, admin, once.TipUID, "我们收到了，会跟进。", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetSeverity(ctx, admin, once.TipUID, hotline.SeverityMinor); err != nil {
		t.Fatal(err)
	}
	ot := e.tip(once.TipUID)
	if !ot.ProgressDue.Equal(e.t0.Add(time.Hour+4*day)) || !ot.NextDue().Equal(ot.ProgressDue) {
		t.Fatalf("after a reply and an assessment: progress due %v, next due %v; want 4 days on", ot.ProgressDue, ot.NextDue())
	}
	// A severity the district did not set takes the default (serious: 7
	// days), and going back to minor shortens it again.
	if err := e.svc.SetSeverity(ctx, admin, once.TipUID, hotline.SeveritySerious); err != nil {
		t.Fatal(err)
	}
	if got := e.tip(once.TipUID).ProgressDue; !got.Equal(e.t0.Add(time.Hour + 7*day)) {
		t.Fatalf("serious: progress due %v, want the default 7 days", got)
	}
	if err := e.svc.SetSeverity(ctx, admin, once.TipUID, hotline.SeverityMinor); err != nil {
		t.Fatal(err)
	}

	// The unassessed case misses its assessment just after 48 h.
	e.at(48 * time.Hour)
	e.tick()
	if got := e.misses(left.TipUID); slices.Contains(got, "deadline=assess") {
		t.Fatalf("assessment missed at its due time: %v", got)
	}
	e.at(48*time.Hour + time.Microsecond)
	e.tick()
	e.restart()
	e.tick()
	if got := e.misses(left.TipUID); !sameStrings(got, []string{"deadline=ack", "deadline=reply", "deadline=assess"}) {
		t.Fatalf("unassessed case misses = %v", got)
	}
	if !e.districtAlert(left.TipUID, scheduler.ReasonDeadlinePrefix+"assess") {
		t.Fatal("a missed assessment did not alert the district")
	}
	if got := e.misses(once.TipUID); len(got) != 0 {
		t.Fatalf("the answered case missed %v before its time", got)
	}

	// Left after one reply: the next action is owed 4 days after it.
	due := e.t0.Add(time.Hour + 4*day)
	e.clock.Set(due)
	e.tick()
	if got := e.misses(once.TipUID); len(got) != 0 {
		t.Fatalf("progress missed at its due time: %v", got)
	}
	e.clock.Set(due.Add(time.Microsecond))
	e.tick()
	e.restart()
	e.tick()
	e.tick()
	if got := e.misses(once.TipUID); !sameStrings(got, []string{"deadline=progress"}) {
		t.Fatalf("answered-then-left misses = %v, want one progress miss", got)
	}
	if !e.districtAlert(once.TipUID, scheduler.ReasonDeadlinePrefix+"progress") {
		t.Fatal("a missed follow-up did not alert the district")
	}
	overdue, _, err := e.db.Queue(ctx, hotline.TipFilter{SchoolID: e.school.ID, Overdue: true}, e.clock.Now())
	if err != nil || len(overdue) != 2 {
		t.Fatalf("overdue queue = %d tips, %v; want both", len(overdue), err)
	}
	view, err := district.New(e.db).School(ctx, e.district, "no3", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if view.Stats.Overdue != 2 || view.Stats.Unassessed != 1 || view.Stats.Missed != 2 {
		t.Fatalf("district view: overdue %d, unassessed %d, missed %d; want 2, 1, 2", view.Stats.Overdue, view.Stats.Unassessed, view.Stats.Missed)
	}
	for _, row := range view.Cases {
		if !row.Overdue {
			t.Errorf("case %s not overdue in the district view", row.Tip.Alias.ZH)
		}
	}

	// A reply renews the clock: no longer overdue, due again 4 days on,
	// and missed again (a new deadline) if left again.
	e.clock.Set(due.Add(day))
	if _, err := e.svc.Reply(ctx, admin, once.TipUID, "老师已经和班主任谈过了。", nil); err != nil {
		t.Fatal(err)
	}
	ot = e.tip(once.TipUID)
	if ot.Overdue(e.clock.Now()) || !ot.ProgressDue.Equal(due.Add(5*day)) {
		t.Fatalf("after a second reply: overdue %v, progress due %v", ot.Overdue(e.clock.Now()), ot.ProgressDue)
	}
	e.clock.Set(due.Add(5*day + time.Second))
	e.tick()
	if got := e.misses(once.TipUID); !sameStrings(got, []string{"deadline=progress", "deadline=progress"}) {
		t.Fatalf("misses after being left again = %v", got)
	}
	// Closing ends the duty: nothing is due, nothing more is missed.
	if err := e.svc.SetStatus(ctx, admin, once.TipUID, hotline.StatusResolved); err != nil {
		t.Fatal(err)
	}
	ot = e.tip(once.TipUID)
	if !ot.NextDue().IsZero() || ot.Overdue(e.clock.Now().Add(30*day)) {
		t.Fatalf("a resolved case still owes %v", ot.NextDue())
	}
	e.clock.Set(due.Add(40 * day))
	e.tick()
	if got := e.misses(once.TipUID); len(got) != 2 {
		t.Fatalf("a resolved case missed more: %v", got)
	}
	if res, err := e.db.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger: %+v %v", res, err)
	}
}

// TestLedgerHeadsEveryFewMinutesAndDailyWalk: the scheduler vouches for a
// quiet ledger's tail with a checkpoint once events were added and the
// newest checkpoint is store.HeadInterval old, and with the day's head it
// walks the whole ledger.
func TestLedgerHeadsEveryFewMinutesAndDailyWalk(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	last := func() int64 {
		n, err := e.db.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	newest := func() int64 {
		cps, err := e.db.LedgerCheckpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cps) == 0 {
			return 0
		}
		return cps[len(cps)-1].Seq
	}
	e.submit([]string{"有人抢我的零花钱。"}, false)
	e.tick()
	if at, _ := e.db.LedgerVerified(ctx); at.FullAt.IsZero() {
		t.Fatal("the day's head came without a full walk of the ledger")
	}
	if got, want := newest(), last(); got == 0 || got > want {
		t.Fatalf("first checkpoint at %d, ledger at %d", got, want)
	}
	first := newest()
	e.submit([]string{"他们在群里骂我。"}, false)
	e.at(store.HeadInterval - time.Second)
	e.tick()
	if got := newest(); got != first {
		t.Fatalf("a checkpoint before the interval: %d", got)
	}
	e.at(store.HeadInterval)
	e.tick()
	if got := newest(); got != last() || got <= first {
		t.Fatalf("checkpoint after the interval at %d, want the ledger's end %d", got, last())
	}
	// Nothing new: no new checkpoint, however long it waits.
	n := newest()
	e.at(3 * store.HeadInterval)
	e.tick()
	if newest() != n {
		t.Fatal("a checkpoint without new events")
	}
	if res, err := e.db.VerifyLedgerTail(ctx); err != nil || !res.OK() || res.Unvouched != 0 {
		t.Fatalf("ledger: %+v %v", res, err)
	}
}
