package triage

import (
	"context"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// AlertLink is what the page of an alert's one-time link shows before
// anyone presses its button: the case's alias and school, never content.
type AlertLink struct {
	Purpose string // store.TokenAck or store.TokenTest
	Alias   hotline.Alias
	School  *hotline.School // nil for a district's test
	// Acked is set when the case was acknowledged already (by this link
	// or otherwise), with when.
	Acked   bool
	AckedAt time.Time
}

// LinkInfo reads an alert link for its page (a GET): it never changes
// anything, since link previewers in WeCom and DingTalk fetch every link
// they see. A used, expired or unknown link is the matching error.
func (s *Service) LinkInfo(ctx context.Context, st *staff.Service, token string) (*AlertLink, error) {
	tok, err := st.LookupAlertToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if !tok.UsedAt.IsZero() {
		return nil, staff.ErrLinkUsed
	}
	if s.DB.Clock.Now().After(tok.ExpiresAt) {
		return nil, staff.ErrLinkExpired
	}
	out := &AlertLink{Purpose: tok.Purpose}
	if tok.SchoolID != 0 {
		if out.School, err = s.DB.SchoolByID(ctx, tok.SchoolID); err != nil {
			return nil, err
		}
	}
	if tok.Purpose == store.TokenAck {
		tip, err := s.DB.TipByID(ctx, tok.TipID)
		if err != nil {
			return nil, err
		}
		out.Alias, out.Acked, out.AckedAt = tip.Alias, !tip.AcknowledgedAt.IsZero(), tip.AcknowledgedAt
	}
	return out, nil
}

// LinkAck is the outcome of an "I'm on it" link.
type LinkAck struct {
	TipUID string
	Alias  hotline.Alias
	School *hotline.School
	// Already: the case had been acknowledged before (by someone else, or
	// in the inbox); the link still stops the ladder if it ran.
	Already bool
	// District: a district officer answered; the case stays the school's
	// to acknowledge.
	District bool
}

// AcknowledgeByLink answers an alert's one-time "I'm on it" link (a
// POST): for the school's staff it acknowledges the case exactly as the
// inbox does (status 受理, the acknowledgement deadline met, the next-action
// clock started) with a ledger event naming them and how; for a district
// officer it records that they took the alert. Either way the ladder
// stops, in the same transaction. A used, expired or unknown link, or one
// whose staff member no longer belongs to the case's school (or
// district), is refused and changes nothing.
func (s *Service) AcknowledgeByLink(ctx context.Context, st *staff.Service, token string) (*LinkAck, error) {
	mac := staff.TokenMAC(s.Vault, token)
	var out *LinkAck
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		out = nil
		tok, err := tx.AlertTokenByMAC(mac)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND || (err == nil && tok.Purpose != store.TokenAck) {
			return staff.ErrLinkUnknown
		} else if err != nil {
			return err
		}
		if !tok.UsedAt.IsZero() {
			return staff.ErrLinkUsed
		}
		if tx.Now().After(tok.ExpiresAt) {
			return staff.ErrLinkExpired
		}
		who, err := tx.CounselorByID(tok.CounselorID)
		if err != nil || !who.Active {
			return staff.ErrLinkRefused
		}
		t, err := tx.TipByID(tok.TipID)
		if err != nil {
			return staff.ErrLinkUnknown
		}
		school, err := tx.SchoolByID(t.SchoolID)
		if err != nil {
			return err
		}
		district := who.Role == hotline.RoleDistrict
		switch {
		case t.SchoolID != tok.SchoolID:
			return staff.ErrLinkRefused
		case district && (who.SchoolID != 0 || school.District == "" || who.District != school.District):
			return staff.ErrLinkRefused
		case !district && (who.SchoolID != t.SchoolID || (who.Role != hotline.RoleCounselor && who.Role != hotline.RoleAdmin)):
			return staff.ErrLinkRefused
		}
		if ok, err := tx.UseAlertToken(mac); err != nil {
			return err
		} else if !ok {
			return staff.ErrLinkUsed
		}
		out = &LinkAck{TipUID: t.UID, Alias: t.Alias, School: school, Already: !t.AcknowledgedAt.IsZero(), District: district}
		actor := hotline.Actor{CounselorID: who.ID, SchoolID: who.SchoolID, Role: who.Role}
		if err := tx.StopLadder(t.ID, store.LadderAcknowledged, who.ID); err != nil {
			return err
		}
		if district {
			return tx.AppendEvent(event(t, actor, hotline.EventAlertAcknowledged, "via=alert_link"))
		}
		if out.Already || t.Status != hotline.StatusNew {
			return nil
		}
		t.Status, t.AcknowledgedAt = hotline.StatusAcknowledged, tx.Now()
		if err := renew(tx, t); err != nil {
			return err
		}
		if err := tx.UpdateTip(t); err != nil {
			return err
		}
		if err := tx.AppendEvent(event(t, actor, hotline.EventAcknowledged, "via=alert_link")); err != nil {
			return err
		}
		return store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent})
	})
	return out, err
}
