package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/urgency"
)

// The safety question about a report already filed: asked when the
// detector is unsure of a follow-up message or of a report that arrived
// without a conversation to ask it (the mailbox), answered through
// AnswerSafety, and, unanswered after hotline.SafetyQuestionWait, turned
// into the case's "possibly urgent" mark by ExpireSafetyQuestions. The
// question's deadline is kept in clear beside the tip (safety_due), the
// counts by district and month (urgency_feedback), never any text.

// ReasonAsked is the reason of a flag raised because the reporter answered
// yes to the safety question.
const ReasonAsked = "asked"

// askAgainAfter is how long after one safety question another may be
// asked about the same case: often enough for a reporter whose situation
// changes, not at every message.
const askAgainAfter = time.Hour

var _ hotline.SafetyService = (*Service)(nil)

// assess reads text with the service's detector.
func (s *Service) assess(text string) urgency.Verdict {
	if s.Detector != nil {
		return s.Detector(text)
	}
	return urgency.Assess(text)
}

// countSafety counts one event of the safety question for the school's
// district, in the transaction that records it.
func countSafety(tx *store.Tx, school *hotline.School, kind string) error {
	return tx.CountUrgency(school.District, kind, "", false)
}

// askSafety records, in tx, a safety question asked now about tip t.
func askSafety(tx *store.Tx, school *hotline.School, t *hotline.Tip) (due time.Time, err error) {
	now := tx.Now()
	due = now.Add(hotline.SafetyQuestionWait)
	if err := tx.SetSafetyQuestion(t.ID, due, now); err != nil {
		return time.Time{}, err
	}
	t.SafetyDue, t.SafetyAskedAt = due, now
	return due, countSafety(tx, school, store.UrgencyAsked)
}

// askedNow sets a new tip's safety question as asked at now, before the
// tip is inserted (Submit counts it once the tip is), and returns when
// it goes unanswered.
func askedNow(t *hotline.Tip, now time.Time) time.Time {
	t.SafetyDue, t.SafetyAskedAt = now.Add(hotline.SafetyQuestionWait), now
	return t.SafetyDue
}

// mayAsk reports whether a safety question may be asked about t now: it
// is not urgent already (the on-call has it), none waits, and none was
// asked within askAgainAfter.
func mayAsk(t *hotline.Tip, now time.Time) bool {
	return !t.Urgent && t.SafetyDue.IsZero() && (t.SafetyAskedAt.IsZero() || now.Sub(t.SafetyAskedAt) >= askAgainAfter)
}

// markUrgent raises a tip's urgent flag in tx with reason, as a detected
// flag is raised: counted for the district's feedback, the on-call
// deadline brought forward, a ledger event. It reports whether the flag
// was raised now.
func markUrgent(tx *store.Tx, school *hotline.School, t *hotline.Tip, reason, detail string) (bool, error) {
	if t.Urgent {
		return false, nil
	}
	t.Urgent = true
	if err := overtake(tx, school, t); err != nil {
		return false, err
	}
	if err := recordFlag(tx, school, t.ID, reason); err != nil {
		return false, err
	}
	if t.AcknowledgedAt.IsZero() {
		dl := school.Settings.Deadlines.WithDefaults()
		if due := tx.Now().Add(dl.AckUrgent.D()); due.Before(t.AckDue) || t.AckDue.IsZero() {
			t.AckDue = due
		}
	}
	return true, tx.AppendEvent(&hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: hotline.EventUrgencyChanged, Detail: detail})
}

// overtake ends a safety question that waits on t, now urgent: it has no
// more to find out, and is counted as overtaken.
func overtake(tx *store.Tx, school *hotline.School, t *hotline.Tip) error {
	if t.SafetyDue.IsZero() {
		return nil
	}
	if err := tx.ClearSafetyQuestion(t.ID); err != nil {
		return err
	}
	t.SafetyDue = time.Time{}
	return countSafety(tx, school, store.UrgencyOvertaken)
}

// AnswerSafety records a reporter's answer to the safety question about
// their tip (hotline.SafetyService). The first answer to a waiting
// question is counted; yes marks the tip urgent — always, even when no
// question waits (an old button, a late answer): a reporter who says they
// are in danger takes the urgent path, and the scheduler pages the on-call
// as for any urgent tip.
func (s *Service) AnswerSafety(ctx context.Context, ref hotline.ReporterRef, yes bool) (*hotline.Tip, error) {
	tip, err := s.reporterTip(ctx, ref)
	if err != nil {
		return nil, err
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return nil, err
	}
	var out *hotline.Tip
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		t, err := tx.TipByID(tip.ID)
		if err != nil {
			return err
		}
		out = t
		if !t.SafetyDue.IsZero() {
			kind := store.UrgencyAnsweredNo
			if yes {
				kind = store.UrgencyAnsweredYes
			}
			if err := tx.ClearSafetyQuestion(t.ID); err != nil {
				return err
			}
			t.SafetyDue = time.Time{}
			if err := countSafety(tx, school, kind); err != nil {
				return err
			}
		}
		if !yes {
			return nil
		}
		raised, err := markUrgent(tx, school, t, ReasonAsked, "urgent=true;asked")
		if err != nil || !raised {
			return err
		}
		if err := tx.UpdateTip(t); err != nil {
			return err
		}
		return store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: true})
	})
	if err != nil {
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("safety answer", "err", err)
		}
		return nil, err
	}
	return out, nil
}

// expireBatch bounds the tips one pass of ExpireSafetyQuestions marks.
const expireBatch = 100

// ExpireSafetyQuestions marks "possibly urgent" every tip whose safety
// question went unanswered (its SafetyDue passed), counts it as no answer
// and writes it to the ledger, each tip in its own transaction; a tip a
// counselor marked urgent meanwhile needs no mark, and its question
// counts as overtaken. It returns how many it marked. The dialog's
// sweeper runs it.
func (s *Service) ExpireSafetyQuestions(ctx context.Context) (int, error) {
	tips, err := s.DB.DueSafetyQuestions(ctx, s.DB.Clock.Now(), expireBatch)
	if err != nil {
		return 0, fmt.Errorf("safety questions: %w", err)
	}
	n := 0
	var errs []error
	for _, tip := range tips {
		school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		marked := false
		err = s.DB.Update(ctx, func(tx *store.Tx) error {
			t, err := tx.TipByID(tip.ID)
			if err != nil {
				return err
			}
			if t.SafetyDue.IsZero() || t.SafetyDue.After(tx.Now()) {
				return nil // answered since it was found
			}
			if t.Urgent {
				return overtake(tx, school, t)
			}
			if err := tx.MarkPossiblyUrgent(t.ID); err != nil {
				return err
			}
			if err := countSafety(tx, school, store.UrgencyNoAnswer); err != nil {
				return err
			}
			if err := tx.AppendEvent(&hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: hotline.EventUrgencyChanged, Detail: "possibly_urgent=true;no_answer"}); err != nil {
				return err
			}
			marked = true
			return store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent})
		})
		if err != nil {
			errs = append(errs, err)
		} else if marked {
			n++
		}
	}
	return n, errors.Join(errs...)
}
