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
// ReasonReporter when the reporter said so.
func (s *Service) submissionUrgency(sub hotline.Submission, texts []string) (bool, string) {
	for _, t := range texts {
		if v := s.assess(t); v.Answer == urgency.AnswerUrgent {
			return true, v.Reason
		}
	}
	if sub.SafetyYes {
		return true, ReasonAsked
	}
	if sub.DangerNow || sub.Category == hotline.CategorySelfHarm {
		return true, ReasonReporter
	}
	return false, ""
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
