package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/relay"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/urgency"
)

// The test's own sentences: the stand-in detector is unsure of the first,
// urgent about the second, and sees nothing in the third.
const (
	unsureText = "最近总觉得自己是多余的，想从大家眼前消失一阵子"
	urgentText = "他拿着刀在楼道里等我"
	plainText  = "同桌又把我的橡皮扔了"
)

// standIn is a detector that does not depend on the trained model, so
// that these tests hold whatever the model file is.
func standIn(text string) urgency.Verdict {
	switch {
	case strings.Contains(text, "刀"):
		return urgency.Verdict{Answer: urgency.AnswerUrgent, Reason: urgency.ReasonWeapon, RuleScore: 1}
	case strings.Contains(text, "消失"):
		return urgency.Verdict{Answer: urgency.AnswerUnsure, Reason: urgency.ReasonModel, ModelScore: 0.5}
	}
	return urgency.Verdict{Answer: urgency.AnswerNotUrgent}
}

// setClock is a clock the test moves.
type setClock = testsupport.Clock

func safetyEnv(t *testing.T) (*env, *setClock) {
	e := newEnv(t)
	e.intake.Detector = standIn
	clock := testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond))
	e.db.Clock = clock
	return e, clock
}

// safetyCounts reads the district's safety-question counts.
func safetyCounts(t *testing.T, e *env) district.SafetyCounts {
	t.Helper()
	d, err := district.New(e.db).Detector(context.Background(), "海淀区")
	if err != nil {
		t.Fatal(err)
	}
	return d.Safety
}

func tipOf(t *testing.T, e *env, uid string) *hotline.Tip {
	t.Helper()
	tip, err := e.db.TipByUID(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return tip
}

// TestMailboxAsksWhenUnsure: a report filed without a conversation (the
// mailbox) that the detector is unsure of leaves the safety question
// waiting on the case; "no" answers it; a later "yes" (no question
// waiting) still marks the case urgent, under the reason "asked".
func TestMailboxAsksWhenUnsure(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{plainText, unsureText}})
	if err != nil {
		t.Fatal(err)
	}
	if want := clock.Now().Add(hotline.SafetyQuestionWait); !res.SafetyDue.Equal(want) || res.Urgent {
		t.Fatalf("submitted: safety due %v, urgent %v; want due %v, not urgent", res.SafetyDue, res.Urgent, want)
	}
	if tip := tipOf(t, e, res.TipUID); !tip.SafetyDue.Equal(res.SafetyDue) || tip.PossiblyUrgent || tip.Urgent {
		t.Fatalf("tip: %+v, want the question waiting", tip)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1}) {
		t.Errorf("counts after asking: got %+v, want asked 1", c)
	}
	tip, err := e.intake.AnswerSafety(ctx, hotline.ReporterRef{Receipt: res.Receipt}, false)
	if err != nil || tip.Urgent || !tip.SafetyDue.IsZero() {
		t.Fatalf("answer no: %+v, %v; want not urgent, nothing waiting", tip, err)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1, No: 1}) {
		t.Errorf("counts after no: got %+v, want asked 1, no 1", c)
	}
	// Nothing waits now; an expiry run finds nothing.
	clock.Add(time.Hour)
	if n, err := e.intake.ExpireSafetyQuestions(ctx); n != 0 || err != nil {
		t.Fatalf("expire after an answer: %d, %v; want 0", n, err)
	}
	// A yes is never turned away.
	tip, err = e.intake.AnswerSafety(ctx, hotline.ReporterRef{Receipt: res.Receipt}, true)
	if err != nil || !tip.Urgent {
		t.Fatalf("late yes: %+v, %v; want urgent", tip, err)
	}
	if got := tipOf(t, e, res.TipUID); !got.Urgent || got.AckDue.After(clock.Now().Add(time.Hour)) {
		t.Errorf("after yes: urgent %v, ack due %v; want urgent, acknowledged within the hour", got.Urgent, got.AckDue)
	}
	if reason, _ := e.db.UrgentReason(ctx, tip.ID); reason != intake.ReasonAsked {
		t.Errorf("flag reason %q, want %q", reason, intake.ReasonAsked)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1, No: 1}) {
		t.Errorf("a yes to no waiting question is not a second outcome: got %+v", c)
	}
}

// TestUnansweredQuestionMarksTheCase: no answer within the wait marks the
// case possibly urgent — in the queue filter, the counts and the ledger —
// once.
func TestUnansweredQuestionMarksTheCase(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{unsureText}})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(hotline.SafetyQuestionWait - time.Second)
	if n, _ := e.intake.ExpireSafetyQuestions(ctx); n != 0 {
		t.Fatalf("expired %d before the wait was over", n)
	}
	clock.Add(2 * time.Second)
	if n, err := e.intake.ExpireSafetyQuestions(ctx); n != 1 || err != nil {
		t.Fatalf("expire: %d, %v; want 1", n, err)
	}
	if n, _ := e.intake.ExpireSafetyQuestions(ctx); n != 0 {
		t.Fatalf("a second run marked %d again", n)
	}
	tip := tipOf(t, e, res.TipUID)
	if !tip.PossiblyUrgent || !tip.SafetyDue.IsZero() || tip.Urgent {
		t.Fatalf("tip after the wait: %+v, want possibly urgent, nothing waiting, not urgent", tip)
	}
	queue, _, err := e.triage.Queue(ctx, e.sess.Actor(), hotline.TipFilter{PossiblyUrgent: true, OpenOnly: true})
	if err != nil || len(queue) != 1 || queue[0].UID != res.TipUID {
		t.Fatalf("queue filtered on possibly urgent: %d tips, %v; want the one", len(queue), err)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1, NoAnswer: 1}) {
		t.Errorf("counts: got %+v, want asked 1, no answer 1", c)
	}
	events, err := e.db.TipEvents(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		if ev.Kind == hotline.EventUrgencyChanged && ev.Detail == "possibly_urgent=true;no_answer" {
			found = true
		}
	}
	if !found {
		t.Errorf("no ledger event for the mark among %d events", len(events))
	}
}

// TestFollowUpAsksOnceAnHour: an unsure follow-up asks; another within the
// hour does not; yes marks the case urgent.
func TestFollowUpAsksOnceAnHour(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{plainText}})
	if err != nil || !res.SafetyDue.IsZero() {
		t.Fatalf("plain report: %+v, %v; want no question", res, err)
	}
	ref := hotline.ReporterRef{Receipt: res.Receipt}
	m, err := e.intake.AddReporterMessage(ctx, ref, unsureText, nil)
	if err != nil || m.SafetyDue.IsZero() {
		t.Fatalf("unsure follow-up: %+v, %v; want a question", m, err)
	}
	if _, err := e.intake.AnswerSafety(ctx, ref, false); err != nil {
		t.Fatal(err)
	}
	clock.Add(10 * time.Minute)
	if m, _ := e.intake.AddReporterMessage(ctx, ref, unsureText, nil); !m.SafetyDue.IsZero() {
		t.Errorf("asked again within the hour")
	}
	clock.Add(time.Hour)
	if m, _ := e.intake.AddReporterMessage(ctx, ref, unsureText, nil); m.SafetyDue.IsZero() {
		t.Errorf("not asked again after an hour")
	}
	if tip, err := e.intake.AnswerSafety(ctx, ref, true); err != nil || !tip.Urgent {
		t.Fatalf("yes: %+v, %v", tip, err)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 2, No: 1, Yes: 1}) {
		t.Errorf("counts: got %+v, want asked 2, no 1, yes 1", c)
	}
	// An urgent follow-up is urgent, and an urgent case is not asked.
	if m, _ := e.intake.AddReporterMessage(ctx, ref, unsureText, nil); !m.SafetyDue.IsZero() {
		t.Errorf("an urgent case was asked")
	}
}

// TestSubmissionCarriesTheConversationsQuestion: what a conversation asked
// comes with its draft: a question still waiting waits on the case, an
// unanswered one is the mark, a yes is urgent (reason "asked"); intake does
// not ask again, and never asks on a staff member's entry.
func TestSubmissionCarriesTheConversationsQuestion(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	due := clock.Now().Add(3 * time.Minute)
	tests := []struct {
		name                    string
		sub                     hotline.Submission
		urgent, possibly, waits bool
		reason                  string
		intakeAsked             bool
	}{
		{"waiting", hotline.Submission{Texts: []string{unsureText}, SafetyAsked: true, SafetyDue: due}, false, false, true, "", false},
		{"unanswered", hotline.Submission{Texts: []string{unsureText}, SafetyAsked: true, PossiblyUrgent: true}, false, true, false, "", false},
		{"yes", hotline.Submission{Texts: []string{unsureText}, SafetyAsked: true, SafetyYes: true, DangerNow: true}, true, false, false, intake.ReasonAsked, false},
		{"no", hotline.Submission{Texts: []string{unsureText}, SafetyAsked: true}, false, false, false, "", false},
		{"rules first", hotline.Submission{Texts: []string{urgentText}, SafetyAsked: true, SafetyYes: true, DangerNow: true}, true, false, false, urgency.ReasonWeapon, false},
		{"not asked", hotline.Submission{Texts: []string{unsureText}}, false, false, true, "", true},
		{"staff", hotline.Submission{Texts: []string{unsureText}, Channel: hotline.ChannelStaff, Staff: &hotline.Actor{CounselorID: e.sess.Counselor.ID, SchoolID: e.sess.Counselor.SchoolID, Role: e.sess.Counselor.Role}}, false, false, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := tt.sub
			sub.SchoolCode = "no3"
			if sub.Channel == "" {
				sub.Channel = hotline.ChannelTelegram
				sub.ChatID = 4242
			}
			res, err := e.intake.Submit(ctx, sub)
			if err != nil {
				t.Fatal(err)
			}
			tip := tipOf(t, e, res.TipUID)
			if tip.Urgent != tt.urgent || tip.PossiblyUrgent != tt.possibly || tip.SafetyDue.IsZero() == tt.waits {
				t.Errorf("tip: urgent %v, possibly %v, waits until %v; want %v, %v, waiting %v", tip.Urgent, tip.PossiblyUrgent, tip.SafetyDue, tt.urgent, tt.possibly, tt.waits)
			}
			if tt.waits && !tt.intakeAsked && !tip.SafetyDue.Equal(due) {
				t.Errorf("the question waits until %v, want the conversation's %v", tip.SafetyDue, due)
			}
			if res.SafetyDue.IsZero() == tt.intakeAsked {
				t.Errorf("intake asked: due %v, want asked %v", res.SafetyDue, tt.intakeAsked)
			}
			if reason, _ := e.db.UrgentReason(ctx, tip.ID); reason != tt.reason {
				t.Errorf("flag reason %q, want %q", reason, tt.reason)
			}
		})
	}
}

// TestConversationCountsSavedWithState: a conversation's safety-question
// events are counted for its school's district in the commit that saves
// the state; the question's deadline is the clear metadata the sweeper
// finds.
func TestConversationCountsSavedWithState(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	cs := dialog.NewSealedStore(e.db, e.vault)
	k := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: 777}
	due := clock.Now().Add(hotline.SafetyQuestionWait)
	if err := cs.Save(ctx, k, []byte(`{"v":1}`), dialog.Meta{Draft: true, AskDue: due, Count: []string{hotline.SafetyCountAsked}, CountSchool: "no3"}); err != nil {
		t.Fatal(err)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1}) {
		t.Errorf("counts: got %+v, want asked 1", c)
	}
	if got, _ := cs.Due(ctx, clock.Now().Add(-dialog.UrgentSendAfter), clock.Now(), clock.Now().Add(-dialog.DraftKeep), 10); len(got) != 0 {
		t.Errorf("due before the question's time: %d states", len(got))
	}
	if got, _ := cs.Due(ctx, clock.Now().Add(-dialog.UrgentSendAfter), due, clock.Now().Add(-dialog.DraftKeep), 10); len(got) != 1 {
		t.Errorf("due at the question's time: %d states, want 1", len(got))
	}
	// A count for a school that does not exist fails the save: nothing is
	// counted half.
	if err := cs.Save(ctx, k, []byte(`{"v":1}`), dialog.Meta{Count: []string{hotline.SafetyCountAsked}, CountSchool: "nowhere"}); err == nil {
		t.Errorf("a count for an unknown school was saved")
	}
}

// TestOvertakenQuestions: a question waiting on a case that turns urgent
// first has no more to find out — ended at once by an urgent follow-up,
// at its deadline when a counselor marked the case (no possibly-urgent
// mark on an urgent case) — and counts as overtaken, so that asked is the
// sum of the outcomes.
func TestOvertakenQuestions(t *testing.T) {
	e, clock := safetyEnv(t)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{unsureText}})
	if err != nil || res.SafetyDue.IsZero() {
		t.Fatalf("submit: %+v, %v; want a question", res, err)
	}
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: res.Receipt}, urgentText, nil); err != nil {
		t.Fatal(err)
	}
	if tip := tipOf(t, e, res.TipUID); !tip.Urgent || !tip.SafetyDue.IsZero() {
		t.Fatalf("after an urgent follow-up: urgent %v, question due %v; want urgent, none waiting", tip.Urgent, tip.SafetyDue)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 1, Overtaken: 1}) {
		t.Errorf("counts: got %+v, want asked 1, overtaken 1", c)
	}
	// A counselor marks the second case urgent while its question waits.
	res2, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{unsureText}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.triage.SetUrgent(ctx, e.sess.Actor(), res2.TipUID, true); err != nil {
		t.Fatal(err)
	}
	clock.Add(hotline.SafetyQuestionWait)
	if n, err := e.intake.ExpireSafetyQuestions(ctx); n != 0 || err != nil {
		t.Fatalf("expire: marked %d, %v; want none marked", n, err)
	}
	if tip := tipOf(t, e, res2.TipUID); tip.PossiblyUrgent || !tip.SafetyDue.IsZero() {
		t.Errorf("urgent case at the deadline: possibly %v, due %v; want no mark, none waiting", tip.PossiblyUrgent, tip.SafetyDue)
	}
	if c := safetyCounts(t, e); c != (district.SafetyCounts{Asked: 2, Overtaken: 2}) {
		t.Errorf("counts: got %+v, want asked 2, overtaken 2", c)
	}
}

// TestPossiblyUrgentAutoSendTold: a draft the sweeper files because its
// question went unanswered is marked possibly urgent, not urgent; its
// Telegram reporter is told at once by a notice that says so, with the
// school's ordinary time (nobody is paged); a web reporter's is not
// queued (their page is told at their next visit).
func TestPossiblyUrgentAutoSendTold(t *testing.T) {
	e, _ := safetyEnv(t)
	ctx := context.Background()
	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: 9191, Lang: hotline.LangEN,
		Texts: []string{unsureText}, SafetyAsked: true, PossiblyUrgent: true, Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Notified || res.Urgent {
		t.Fatalf("submitted: notified %v, urgent %v; want told, not urgent", res.Notified, res.Urgent)
	}
	if tip := tipOf(t, e, res.TipUID); tip.Urgent || !tip.PossiblyUrgent {
		t.Fatalf("tip: urgent %v, possibly %v", tip.Urgent, tip.PossiblyUrgent)
	}
	var sealed [][]byte
	if err := e.db.Reader().Select(&sealed, `SELECT payload_sealed FROM outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 1 {
		t.Fatalf("%d notices queued, want 1", len(sealed))
	}
	p, err := relay.OpenPayload(e.vault, &store.OutboxItem{PayloadSealed: sealed[0]})
	if err != nil {
		t.Fatal(err)
	}
	school, err := e.db.SchoolByCode(ctx, "no3")
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != relay.KindAutoSent || !p.Possibly || p.OnCall != school.Settings.Deadlines.WithDefaults().Ack.D() || p.ChatID != 9191 || p.Text != "" {
		t.Errorf("notice: kind %q, possibly %v, time %v, chat %d, text %q; want a possibly-urgent notice with the ordinary time, no content", p.Kind, p.Possibly, p.OnCall, p.ChatID, p.Text)
	}
	res, err = e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{unsureText}, SafetyAsked: true, PossiblyUrgent: true, Auto: true})
	if err != nil || res.Notified {
		t.Fatalf("web: %+v, %v; want filed, nobody to notify", res, err)
	}
}

// TestCountsWithoutSchool: the counts of a draft dropped before a school
// was chosen are kept under no district, shown to every district as the
// whole hotline's, never in its own counts.
func TestCountsWithoutSchool(t *testing.T) {
	e, _ := safetyEnv(t)
	ctx := context.Background()
	cs := dialog.NewSealedStore(e.db, e.vault)
	k := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: 778}
	if err := cs.Save(ctx, k, []byte(`{"v":1}`), dialog.Meta{Count: []string{hotline.SafetyCountAsked, hotline.SafetyCountNone}}); err != nil {
		t.Fatal(err)
	}
	d, err := district.New(e.db).Detector(ctx, "海淀区")
	if err != nil {
		t.Fatal(err)
	}
	if d.Safety != (district.SafetyCounts{}) || d.NoSchool != (district.SafetyCounts{Asked: 1, NoAnswer: 1}) {
		t.Errorf("district view: own %+v, no school %+v; want none of its own, asked 1 and no answer 1 without a school", d.Safety, d.NoSchool)
	}
}
