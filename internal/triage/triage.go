// Package triage is case work: staff work the queue, open and answer
// cases, take notes, move a case through its statuses, severities and
// handling steps, assign it and escalate it to the district. Every action on
// a case is checked against the actor and appended to the ledger in the
// same transaction. Who the actor is, and the key that opens a case, come
// from a staff.Session; the clock-driven duties (deadlines, alerts,
// retention) belong to the scheduler. It never logs content.
package triage

import (
	"context"
	"log/slog"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Service is the case-work service.
type Service struct {
	DB       *store.DB
	Vault    *vault.Vault
	Notifier hotline.Notifier
	Logger   *slog.Logger
}

// New returns a triage service.
func New(db *store.DB, v *vault.Vault, n hotline.Notifier, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{DB: db, Vault: v, Notifier: n, Logger: logger}
}

// visible loads a tip the actor may see: a school's staff see their
// school's tips; district officers see escalated tips of their district.
// Anything else is ErrNotFound, so that a guess tells nothing.
func (s *Service) visible(ctx context.Context, actor hotline.Actor, uid string) (*hotline.Tip, error) {
	tip, err := s.DB.TipByUID(ctx, uid)
	if err != nil {
		return nil, err
	}
	if err := s.mayAccess(ctx, actor, tip); err != nil {
		return nil, err
	}
	return tip, nil
}

func (s *Service) mayAccess(ctx context.Context, actor hotline.Actor, tip *hotline.Tip) error {
	switch actor.Role {
	case hotline.RoleCounselor, hotline.RoleAdmin:
		if actor.SchoolID != 0 && actor.SchoolID == tip.SchoolID {
			return nil
		}
	case hotline.RoleDistrict:
		if !tip.Escalated {
			return hotline.ErrNotFound
		}
		officer, err := s.DB.CounselorByID(ctx, actor.CounselorID)
		if err != nil || !officer.Active {
			return hotline.ErrNotFound
		}
		school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
		if err != nil {
			return err
		}
		if school.District == officer.District {
			return nil
		}
	}
	return hotline.ErrNotFound
}
