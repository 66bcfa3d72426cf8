package triage

import (
	"context"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// MarkViewed records that the actor opened a case now, for the unread
// markers of their queue.
func (s *Service) MarkViewed(ctx context.Context, actor hotline.Actor, tip *hotline.Tip) error {
	if actor.CounselorID == 0 || actor.SchoolID != tip.SchoolID {
		return hotline.ErrNotFound
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.MarkViewed(actor.CounselorID, tip.ID, tx.Now()) })
}

// Unread returns which of the tips have reporter messages the actor has not
// seen, by tip id.
func (s *Service) Unread(ctx context.Context, actor hotline.Actor, tips []*hotline.Tip) (map[int64]bool, error) {
	ids := make([]int64, 0, len(tips))
	for _, t := range tips {
		if t.SchoolID == actor.SchoolID {
			ids = append(ids, t.ID)
		}
	}
	views, err := s.DB.ViewTimes(ctx, actor.CounselorID, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(tips))
	for _, t := range tips {
		if t.SchoolID == actor.SchoolID && store.Unread(t, views[t.ID]) {
			out[t.ID] = true
		}
	}
	return out, nil
}

// UnreadCount counts the open cases of the actor's school with news for them.
func (s *Service) UnreadCount(ctx context.Context, actor hotline.Actor) (int, error) {
	if actor.SchoolID == 0 {
		return 0, hotline.ErrNotFound
	}
	return s.DB.UnreadCount(ctx, actor.CounselorID, actor.SchoolID)
}

// StatusCounts counts the actor's school's tips by status.
func (s *Service) StatusCounts(ctx context.Context, actor hotline.Actor) (map[hotline.Status]int, error) {
	if actor.SchoolID == 0 || (actor.Role != hotline.RoleCounselor && actor.Role != hotline.RoleAdmin) {
		return nil, hotline.ErrNotFound
	}
	return s.DB.StatusCounts(ctx, actor.SchoolID)
}

// RecordOpened writes to the audit trail that the session's staff member
// opened a case's page (its thread, opened with their key): once per
// hotline.AuditOpenedEvery for the same case, since working a case reloads
// its page after every action. A district officer's view of an escalated
// case is recorded under the case's school too, so the school sees it.
func (s *Service) RecordOpened(ctx context.Context, sess *staff.Session, tip *hotline.Tip) error {
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		seen, err := tx.OpenedSince(sess.Counselor.ID, tip.ID, tx.Now().Add(-hotline.AuditOpenedEvery))
		if err != nil || seen {
			return err
		}
		return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditCaseOpened, SchoolID: tip.SchoolID, District: school.District,
			CounselorID: sess.Counselor.ID, TipID: tip.ID, Client: staff.ClientOf(ctx)})
	})
}
