package intake

import (
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/urgency"
)

// ReasonReporter is the reason of a flag the reporter raised themselves
// (someone is in danger now, or the self-harm category) where the detector
// found nothing in their words: each such flag the counselor keeps is a
// miss of the detector, so it is counted apart from the detector's own.
const ReasonReporter = "reporter"

// submissionUrgency decides whether a new report is urgent and why: the
// detector's category when it flags one of the texts, else ReasonAsked
// when the reporter answered yes to the safety question, else
// ReasonReporter when the reporter said so; and, when it is not urgent,
// whether the detector is unsure of any text (the safety question).
func (s *Service) submissionUrgency(sub hotline.Submission, texts []string) (urgent bool, reason string, unsure bool) {
	// Each text is assessed once: the verdicts say both whether a text is
	// urgent and whether the detector is unsure of it.
	for _, t := range texts {
		switch v := s.assess(t); v.Answer {
		case urgency.AnswerUrgent:
			return true, v.Reason, false
		case urgency.AnswerUnsure:
			unsure = true
		}
	}
	if sub.SafetyYes {
		return true, ReasonAsked, false
	}
	if sub.DangerNow || sub.Category == hotline.CategorySelfHarm {
		return true, ReasonReporter, false
	}
	return false, "", unsure
}

// recordFlag keeps, beside a tip's urgent flag and in the same
// transaction, why it was raised, and counts it for the district's
// detector feedback — the reason only, never the text. A tip is counted
// once: a flag raised again after a counselor cleared it keeps the first
// reason.
func recordFlag(tx *store.Tx, school *hotline.School, tipID int64, reason string) error {
	prev, feedback, err := tx.UrgencyLabels(tipID)
	if err != nil {
		return err
	}
	if prev != "" {
		return nil
	}
	if err := tx.SetUrgencyLabels(tipID, reason, feedback); err != nil {
		return err
	}
	return tx.CountUrgency(school.District, store.UrgencyFlagged, reason, false)
}
