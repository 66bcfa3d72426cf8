package hotline_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"hotline/internal/hotline"
)

func TestStatusTransitions(t *testing.T) {
	tests := []struct {
		from, to hotline.Status
		want     bool
	}{
		{hotline.StatusNew, hotline.StatusAcknowledged, true},
		{hotline.StatusNew, hotline.StatusClosed, true},
		{hotline.StatusAcknowledged, hotline.StatusNew, false},
		{hotline.StatusAcknowledged, hotline.StatusInvestigating, true},
		{hotline.StatusInvestigating, hotline.StatusAcknowledged, true},
		{hotline.StatusNew, hotline.StatusInvestigating, true},
		{hotline.StatusNew, hotline.StatusResolved, true},
		{hotline.StatusAcknowledged, hotline.StatusResolved, true},
		{hotline.StatusAcknowledged, hotline.StatusClosed, true},
		{hotline.StatusInvestigating, hotline.StatusClosed, true},
		{hotline.StatusInvestigating, hotline.StatusNew, false},
		{hotline.StatusResolved, hotline.StatusClosed, true},      // 已处理完毕 → 已关闭
		{hotline.StatusClosed, hotline.StatusInvestigating, true}, // reopen
		{hotline.StatusClosed, hotline.StatusNew, false},
		{hotline.StatusClosed, hotline.StatusAcknowledged, false},
		{hotline.StatusResolved, hotline.StatusAcknowledged, false},
		{hotline.StatusInvestigating, hotline.StatusResolved, true},
		{hotline.StatusResolved, hotline.StatusInvestigating, true}, // reopen
		{hotline.StatusResolved, hotline.StatusNew, false},
		{hotline.StatusClosed, hotline.StatusResolved, false},
		{hotline.StatusNew, hotline.StatusNew, false},
		{hotline.StatusNew, "deleted", false}, // a case is never deleted
		{"deleted", hotline.StatusNew, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanMoveTo(tt.to); got != tt.want {
			t.Errorf("%s → %s = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
	// Every status but closed leads somewhere else, and closed only back.
	for _, s := range hotline.Statuses {
		if len(s.Next()) == 0 {
			t.Errorf("%s is a dead end", s)
		}
	}
	if got := hotline.StatusClosed.Next(); len(got) != 1 || got[0] != hotline.StatusInvestigating {
		t.Errorf("closed.Next() = %v", got)
	}
	err := hotline.ErrStatusChange(hotline.StatusClosed, hotline.StatusNew)
	if hotline.ErrorCode(err) != hotline.EINVALID || hotline.ErrorMessage(err, hotline.LangZH) != "不能把状态从「已关闭」改为「新报告」。" {
		t.Errorf("refusal: %v / %q", err, hotline.ErrorMessage(err, hotline.LangZH))
	}
}

func TestEveryEnumHasBothLabels(t *testing.T) {
	check := func(name string, l hotline.Label) {
		if l.ZH == "" || l.EN == "" {
			t.Errorf("%s lacks a label: %+v", name, l)
		}
	}
	for _, s := range hotline.Statuses {
		check(string(s), s.Label())
		check(string(s)+" for reporter", s.ForReporter())
	}
	for _, s := range hotline.Severities {
		check(string(s), s.Label())
		for _, step := range hotline.StepsFor(s) {
			check(string(step), step.Label())
		}
	}
	for _, c := range hotline.Categories {
		check(string(c), c.Label())
	}
	for _, c := range hotline.Channels {
		check(string(c), c.Label())
	}
	for _, r := range hotline.ReporterRoles {
		check(string(r), r.Label())
	}
	for _, s := range hotline.Steps {
		check(string(s), s.Label())
	}
	for _, k := range hotline.DeadlineKinds {
		check(string(k), k.Label())
		if !k.Valid() {
			t.Errorf("%s is not valid", k)
		}
	}
	if hotline.DeadlineKind("nonsense").Valid() {
		t.Error("an unknown deadline kind is valid")
	}
}

func TestTipDeadlines(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	tip := &hotline.Tip{Status: hotline.StatusNew, AckDue: t0.Add(time.Hour), ReplyDue: t0.Add(24 * time.Hour), Steps: map[hotline.Step]bool{}}
	if got := tip.NextDue(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("next due %v", got)
	}
	if tip.Overdue(t0.Add(time.Hour)) || !tip.Overdue(t0.Add(time.Hour+time.Second)) {
		t.Fatal("ack deadline: overdue strictly after due")
	}
	tip.AcknowledgedAt = t0.Add(30 * time.Minute)
	if tip.Overdue(t0.Add(2*time.Hour)) || !tip.NextDue().Equal(t0.Add(24*time.Hour)) {
		t.Fatal("an acknowledged tip still counts its ack deadline")
	}
	tip.DistrictDue = t0.Add(3 * time.Hour)
	if !tip.Overdue(t0.Add(4 * time.Hour)) {
		t.Fatal("district report deadline missed but not overdue")
	}
	tip.Steps[hotline.StepDistrictReport] = true
	tip.Status = hotline.StatusResolved
	if tip.Overdue(t0.Add(48*time.Hour)) || !tip.NextDue().IsZero() {
		t.Fatal("a resolved case is overdue")
	}
}

func TestErrorMessagesAreSafe(t *testing.T) {
	internal := fmt.Errorf("insert tip: UNIQUE constraint failed: secret detail")
	for _, lang := range []hotline.Lang{hotline.LangZH, hotline.LangEN} {
		if msg := hotline.ErrorMessage(internal, lang); msg == "" || containsAny(msg, "UNIQUE", "secret") {
			t.Errorf("internal error leaks: %q", msg)
		}
	}
	wrapped := fmt.Errorf("context: %w", hotline.ErrReceiptTypo)
	if hotline.ErrorCode(wrapped) != hotline.EINVALID || hotline.ErrorMessage(wrapped, hotline.LangEN) != hotline.ErrReceiptTypo.Message.EN {
		t.Fatal("wrapped application error lost its code or message")
	}
	if hotline.ErrorCode(nil) != "" || hotline.ErrorCode(errors.New("x")) != hotline.EINTERNAL {
		t.Fatal("error codes")
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
	}
	return false
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]hotline.Lang{"en": hotline.LangEN, "en-GB": hotline.LangEN, "zh-hans": hotline.LangZH, "": hotline.LangZH, "ru": hotline.LangZH} {
		if got := hotline.ParseLang(in); got != want {
			t.Errorf("ParseLang(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestHTTPStatus(t *testing.T) {
	for err, want := range map[error]int{
		nil:                     200,
		hotline.ErrEmptyMessage: 400,
		hotline.ErrNotFound:     404,
		hotline.ErrUnauthorized: 401,
		hotline.ErrForbidden:    403,
		hotline.ErrTipClosed:    409,
		hotline.ErrTooLong:      413,
		hotline.ErrRateLimited:  429,
		errors.New("disk"):      500,
	} {
		if got := hotline.HTTPStatus(err); got != want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, want)
		}
	}
}
