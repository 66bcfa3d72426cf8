package triage

import (
	"context"

	"hotline/internal/hotline"
)

// AlertPrefs is how a staff member is reached for alerts, for their own
// "my alerts" page. The address is opened from its sealed form only here.
type AlertPrefs struct {
	TelegramLinked bool
	Email          string // "" when none is set
	OnCall         bool
}

// AlertPrefs returns the session's staff member's alert channels.
func (s *Service) AlertPrefs(ctx context.Context, sess *Session) (*AlertPrefs, error) {
	c, err := s.DB.CounselorByID(ctx, sess.Counselor.ID)
	if err != nil {
		return nil, err
	}
	p := &AlertPrefs{TelegramLinked: c.TelegramSealed != nil, OnCall: c.OnCall}
	if c.EmailSealed != nil {
		addr, err := s.Vault.OpenServer(emailPurpose, c.EmailSealed)
		if err != nil {
			return nil, err
		}
		p.Email = string(addr)
	}
	return p, nil
}

// StaffAlert is what the on-call rota shows of one staff member: on the
// rota or not, and whether alerts can reach them at all.
type StaffAlert struct {
	OnCall   bool
	Telegram bool
	Email    bool
}

// OnCallRota returns the rota of the actor's school: every staff member's
// on-call flag and linked alert channels, by counselor ID.
func (s *Service) OnCallRota(ctx context.Context, actor hotline.Actor) (map[int64]StaffAlert, error) {
	if actor.SchoolID == 0 {
		return nil, hotline.ErrNotFound
	}
	staff, err := s.DB.Counselors(ctx, actor.SchoolID, "")
	if err != nil {
		return nil, err
	}
	out := make(map[int64]StaffAlert, len(staff))
	for _, c := range staff {
		out[c.ID] = StaffAlert{OnCall: c.OnCall, Telegram: c.TelegramSealed != nil, Email: c.EmailSealed != nil}
	}
	return out, nil
}
