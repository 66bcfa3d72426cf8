package triage

import (
	"context"
	"errors"
	"fmt"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

// NeedsEscalation reports whether the policy requires a case to be
// escalated to the district and it has not been yet: the queue and the case
// page flag it.
func NeedsEscalation(t *hotline.Tip) bool {
	return t.Severity.MustReportToDistrict() && !t.Escalated
}

// DistrictReady reports whether a school's cases can be escalated: it
// names a district whose bureau has been added (hotline district add),
// whose key the copies are sealed to. A school without one can never
// escalate, so its case pages must not count down to a report it cannot
// make.
func (s *Service) DistrictReady(ctx context.Context, school *hotline.School) (bool, error) {
	if school == nil || school.District == "" {
		return false, nil
	}
	key, err := s.DB.DistrictKey(ctx, school.District)
	return key != nil, err
}

// errThreadMoved asks Escalate to seal again: a message arrived between
// sealing the district copies and the write transaction.
var errThreadMoved = errors.New("triage: thread changed while escalating")

// Escalate reports a case to the district (上报): every message of the
// thread is opened with the session's school key and sealed again to the
// district's public key, so that the district's officers can read this
// case — and only the cases escalated to them. Later messages are sealed to
// the district as they arrive (thread.Append checks tip.Escalated).
// Escalating counts as the first report to the district; follow-up reports
// (续报) are recorded with ReportToDistrict.
func (s *Service) Escalate(ctx context.Context, sess *staff.Session, uid string) error {
	actor := sess.Actor()
	if actor.Role == hotline.RoleDistrict {
		return hotline.ErrForbidden
	}
	tip, err := s.visible(ctx, actor, uid)
	if err != nil {
		return err
	}
	if tip.Escalated {
		return nil
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return err
	}
	districtKey, err := s.DB.DistrictKey(ctx, school.District)
	if err != nil {
		return err
	} else if districtKey == nil {
		return hotline.Errorf(hotline.EINVALID, "本校所属的区还没有开通区教育局账户，无法上报。", "The school's district has no district account yet; the case cannot be escalated.")
	}
	// Sealing is slow next to a write transaction, so it happens before;
	// a message that slips in meanwhile makes the transaction fail and the
	// loop seal again.
	for attempt := 0; attempt < 5; attempt++ {
		copies, err := s.districtCopies(ctx, sess.Key, tip, districtKey)
		if err != nil {
			return err
		}
		err = s.DB.Update(ctx, func(tx *store.Tx) error {
			t, err := tx.TipByID(tip.ID)
			if err != nil {
				return err
			}
			if t.Escalated {
				return nil
			}
			ms, err := tx.Messages(t.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if _, ok := copies[m.ID]; !ok && m.DistrictSealed == nil && (m.BodySealed != nil || m.PhotoSealed != nil) {
					return errThreadMoved
				}
			}
			for id, c := range copies {
				if err := tx.SetDistrictSealed(id, c.body, c.photo); err != nil {
					return err
				}
			}
			t.Escalated = true
			if t.Steps == nil {
				t.Steps = map[hotline.Step]bool{}
			}
			t.Steps[hotline.StepDistrictReport] = true
			if err := renew(tx, t); err != nil {
				return err
			}
			if err := tx.UpdateTip(t); err != nil {
				return err
			}
			if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent}); err != nil {
				return err
			}
			return tx.AppendEvent(event(t, actor, hotline.EventEscalated, "severity="+string(t.Severity)))
		})
		if errors.Is(err, errThreadMoved) {
			continue
		} else if err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("escalate: the thread kept changing")
}

type districtCopy struct{ body, photo []byte }

// districtCopies opens each message of a tip that has no district copy yet
// with the school key and seals it to the district.
func (s *Service) districtCopies(ctx context.Context, key *vault.PrivateKey, tip *hotline.Tip, districtKey []byte) (map[int64]districtCopy, error) {
	ms, err := s.DB.Messages(ctx, tip.ID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]districtCopy, len(ms))
	for _, m := range ms {
		if m.DistrictSealed != nil || (m.BodySealed == nil && m.PhotoSealed == nil) {
			continue // already copied, or purged
		}
		var c districtCopy
		if c.body, c.photo, err = thread.CopyForDistrict(key, tip.SchoolID, tip.UID, m, districtKey); err != nil {
			return nil, err
		}
		out[m.ID] = c
	}
	return out, nil
}

// ReportToDistrict records a follow-up report (续报) to the district on an
// escalated case: the district-report step is done again and the pending
// follow-up deadline is met.
func (s *Service) ReportToDistrict(ctx context.Context, actor hotline.Actor, uid string) error {
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, _ *hotline.School) error {
		if !t.Escalated {
			return hotline.Errorf(hotline.EINVALID, "请先上报区教育局。", "Escalate the case to the district first.")
		}
		if t.Steps == nil {
			t.Steps = map[hotline.Step]bool{}
		}
		t.Steps[hotline.StepDistrictReport] = true
		if err := tx.CompleteFollowups(t.ID); err != nil {
			return err
		}
		if err := renew(tx, t); err != nil {
			return err
		}
		return tx.AppendEvent(event(t, actor, hotline.EventDistrictReport, "step=district_report;done=true;followup=true"))
	})
	return err
}
