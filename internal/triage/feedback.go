package triage

import (
	"hotline/internal/hotline"
	"hotline/internal/store"
)

// countUrgencyFeedback turns a counselor's change of a tip's urgent flag
// into a label on the detector, counted for the district by reason (never
// the text): clearing a raised flag is a false alarm ("wrong"), setting it
// on a tip nobody flagged is a miss ("missed"). Undoing one's own label
// (setting a cleared flag again, clearing one's own "missed") takes the
// count back, so a misclick counts nothing. It runs inside the change's
// transaction.
func countUrgencyFeedback(tx *store.Tx, t *hotline.Tip, school *hotline.School, urgent bool) error {
	reason, feedback, err := tx.UrgencyLabels(t.ID)
	if err != nil {
		return err
	}
	kind, undo := "", false
	switch {
	case !urgent && feedback == store.UrgencyMissed:
		kind, undo, feedback = store.UrgencyMissed, true, ""
	case !urgent && feedback == "" && reason != "":
		kind, feedback = store.UrgencyWrong, store.UrgencyWrong
	case urgent && feedback == store.UrgencyWrong:
		kind, undo, feedback = store.UrgencyWrong, true, ""
	case urgent && feedback == "" && reason == "":
		kind, feedback = store.UrgencyMissed, store.UrgencyMissed
	default:
		// A flag raised again by the reporter after it was cleared, and
		// cleared again: already labelled.
		return nil
	}
	if err := tx.SetUrgencyLabels(t.ID, reason, feedback); err != nil {
		return err
	}
	countReason := reason
	if kind == store.UrgencyMissed {
		countReason = "" // nothing raised it
	}
	return tx.CountUrgency(school.District, kind, countReason, undo)
}
