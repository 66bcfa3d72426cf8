package triage_test

import (
	"context"
	"testing"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/urgency"
)

// TestUrgencyFeedbackCounted: clearing a flag the detector raised counts a
// false alarm under the detector's reason; marking urgent a tip nobody
// flagged counts a miss; undoing either takes the count back; a flag the
// reporter raised counts under "reporter". Only labels reach the counts:
// never the text.
func TestUrgencyFeedbackCounted(t *testing.T) {
	st, svc := newServices(t)
	ctx := context.Background()
	s := adminSession(t, st, "fbk")
	in := intakeFor(svc)
	submit := func(sub hotline.Submission) string {
		t.Helper()
		sub.SchoolCode, sub.Channel = "fbk", hotline.ChannelMailbox
		res, err := in.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		return res.TipUID
	}
	weapon := submit(hotline.Submission{Texts: []string{"他说放学后要带刀来找我"}})
	plain := submit(hotline.Submission{Texts: []string{"他们总在背后说我坏话"}})
	said := submit(hotline.Submission{Texts: []string{"他们又把我的书扔了"}, DangerNow: true})
	if _, reason := urgency.UrgentReason("他说放学后要带刀来找我"); reason != urgency.ReasonWeapon {
		t.Fatalf("the test's weapon text reads as %q", reason)
	}

	want := func(step string, reason string, flagged, wrong, missed int) {
		t.Helper()
		d, err := district.New(svc.DB).Detector(ctx, "海淀区")
		if err != nil {
			t.Fatal(err)
		}
		got := &district.DetectorRow{Reason: reason}
		for _, r := range d.Rows {
			if r.Reason == reason {
				got = r
			}
		}
		if got.Flagged != flagged || got.Wrong != wrong || got.Missed != missed {
			t.Errorf("%s: reason %q: got flagged %d, wrong %d, missed %d; want %d, %d, %d", step, reason, got.Flagged, got.Wrong, got.Missed, flagged, wrong, missed)
		}
	}
	want("intake", urgency.ReasonWeapon, 1, 0, 0)
	want("intake", intake.ReasonReporter, 1, 0, 0)
	want("intake", "", 0, 0, 0)

	set := func(uid string, urgent bool) {
		t.Helper()
		if err := svc.SetUrgent(ctx, s.Actor(), uid, urgent); err != nil {
			t.Fatal(err)
		}
	}
	set(weapon, false)
	want("weapon flag cleared", urgency.ReasonWeapon, 1, 1, 0)
	set(weapon, false) // no change, no count
	want("cleared twice", urgency.ReasonWeapon, 1, 1, 0)
	set(weapon, true)
	want("clearing undone", urgency.ReasonWeapon, 1, 0, 0)
	set(weapon, false)
	want("cleared again", urgency.ReasonWeapon, 1, 1, 0)

	set(plain, true)
	want("missed", "", 0, 0, 1)
	set(plain, false)
	want("miss undone", "", 0, 0, 0)
	set(plain, true)
	want("missed again", "", 0, 0, 1)

	set(said, false)
	want("reporter's flag cleared", intake.ReasonReporter, 1, 1, 0)

	d, err := district.New(svc.DB).Detector(ctx, "海淀区")
	if err != nil {
		t.Fatal(err)
	}
	if d.Total.Flagged != 2 || d.Total.Wrong != 2 || d.Total.Missed != 1 || len(d.Months) != 1 || d.Months[0].Month != "2026-11" {
		t.Errorf("totals: got %+v, months %d", d.Total, len(d.Months))
	}
	if d, _ := district.New(svc.DB).Detector(ctx, "朝阳区"); len(d.Rows) != 0 {
		t.Errorf("another district sees %d rows", len(d.Rows))
	}
}

// TestUrgencyFeedbackLaterFlag: a tip flagged by a later reporter message
// is counted under that message's reason, once, however often it is
// flagged again and cleared; an undo in a later month takes the count from
// the month that has it.
func TestUrgencyFeedbackLaterFlag(t *testing.T) {
	st, svc := newServices(t)
	ctx := context.Background()
	s := adminSession(t, st, "lat")
	in := intakeFor(svc)
	res, err := in.Submit(ctx, hotline.Submission{SchoolCode: "lat", Channel: hotline.ChannelWebchat, Texts: []string{"有人在班群里骂我"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Urgent {
		t.Fatal("an ordinary report was flagged")
	}
	write := func(text string) {
		t.Helper()
		if _, err := in.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: res.Receipt}, text, nil); err != nil {
			t.Fatal(err)
		}
	}
	set := func(urgent bool) {
		t.Helper()
		if err := svc.SetUrgent(ctx, s.Actor(), res.TipUID, urgent); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(step string, flagged, wrong int) *district.Detector {
		t.Helper()
		d, err := district.New(svc.DB).Detector(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Rows) != 1 || d.Rows[0].Reason != urgency.ReasonSelfHarm || d.Rows[0].Flagged != flagged || d.Rows[0].Wrong != wrong {
			t.Fatalf("%s: got %+v, want one self-harm row flagged %d, wrong %d", step, d.Rows, flagged, wrong)
		}
		return d
	}
	write("我不想再活了")
	rows("flagged by a later message", 1, 0)
	set(false)
	rows("cleared", 1, 1)
	write("他拿着刀在门口")
	if tip, err := svc.Tip(ctx, s.Actor(), res.TipUID); err != nil || !tip.Urgent {
		t.Fatalf("flagged again: %+v, %v", tip, err)
	}
	rows("flagged again", 1, 1)
	set(false)
	rows("cleared again", 1, 1)

	svc.DB.Clock.(*fakeClock).Set(svc.DB.Clock.Now().AddDate(0, 1, 0))
	set(true)
	d := rows("set again next month", 1, 0)
	if len(d.Months) != 1 || d.Months[0].Month != "2026-11" {
		t.Errorf("months: got %+v, want only November's flag", d.Months)
	}
}
