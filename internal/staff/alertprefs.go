package staff

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

const (
	linkCodeTTL      = 15 * time.Minute                 // how long a Telegram link code works
	linkPurpose      = "telegram-link"                  // MAC purpose of link codes
	linkCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ" // no 0/O, 1/I/L
)

// OpenAlertEmail opens a staff member's sealed alert address
// (CounselorRecord.EmailSealed) for sending them an alert. The seal is
// bound to the staff member, so a blob copied to another row does not open.
func OpenAlertEmail(v *vault.Vault, counselorID int64, sealed []byte) (string, error) {
	return v.OpenStaffEmail(counselorID, sealed)
}

// AlertPrefs is how a staff member is reached for alerts, for their own
// "my alerts" page. The address is opened from its sealed form only here.
type AlertPrefs struct {
	TelegramLinked bool
	Email          string // "" when none is set
	// OnCall is the school-wide fallback for school staff, the district's
	// duty officer for an officer.
	OnCall bool
	Head   bool // the school's head (校长/德育主任)
}

// AlertPrefs returns the session's staff member's alert channels.
func (s *Service) AlertPrefs(ctx context.Context, sess *Session) (*AlertPrefs, error) {
	c, err := s.DB.CounselorByID(ctx, sess.Counselor.ID)
	if err != nil {
		return nil, err
	}
	p := &AlertPrefs{TelegramLinked: c.TelegramSealed != nil, OnCall: c.OnCall, Head: c.DutyHead}
	if c.EmailSealed != nil {
		if p.Email, err = OpenAlertEmail(s.Vault, c.ID, c.EmailSealed); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// StaffAlert is what the counselors page shows of one staff member's
// duties and channels.
type StaffAlert struct {
	OnCall   bool // the school-wide fallback
	Head     bool // the school's head
	Channels int  // ways to alert them
	Working  int  // of which tested and acknowledged, on a server that can send them
}

// OnCallRota returns every staff member of the actor's school's duties and
// channels, by counselor ID.
func (s *Service) OnCallRota(ctx context.Context, actor hotline.Actor) (map[int64]StaffAlert, error) {
	if actor.SchoolID == 0 {
		return nil, hotline.ErrNotFound
	}
	d, err := s.Directory(ctx, actor.SchoolID)
	if err != nil {
		return nil, err
	}
	out := map[int64]StaffAlert{}
	for _, c := range d.Staff() {
		a := StaffAlert{OnCall: c.OnCall, Head: c.DutyHead}
		for _, t := range d.Targets(c.ID) {
			a.Channels++
			if st, _ := s.stateOf(t); st == TargetWorking {
				a.Working++
			}
		}
		out[c.ID] = a
	}
	return out, nil
}

// NewLinkCode makes a one-time code that links the session's staff member
// to the Telegram bot ("/link CODE"); the inbox shows it. Only its HMAC is
// stored, for 15 minutes.
func (s *Service) NewLinkCode(ctx context.Context, sess *Session) (string, time.Time, error) {
	code, err := vault.RandomCode(linkCodeAlphabet, 8)
	if err != nil {
		return "", time.Time{}, err
	}
	expires := s.DB.Clock.Now().Add(linkCodeTTL)
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateLinkCode(s.Vault.MAC(linkPurpose, []byte(code)), sess.Counselor.ID, expires)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code[:4] + "-" + code[4:], expires, nil
}

// ErrBadLinkCode is the answer to an unknown, used or expired link code.
var ErrBadLinkCode = hotline.Errorf(hotline.ENOTFOUND, "这个绑定码无效或已过期，请在收件箱里重新生成。", "That link code is unknown or expired; make a new one in the inbox.")

// LinkTelegram consumes a link code sent to the bot from chatID and links
// the chat to the staff member who made the code, for alerts. The chat id
// is stored sealed and found by HMAC, as for reporters.
func (s *Service) LinkTelegram(ctx context.Context, code string, chatID int64) error {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, strings.TrimSpace(code))
	if len(norm) != 8 {
		return ErrBadLinkCode
	}
	mac := s.Vault.MAC(linkPurpose, []byte(norm))
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		id, err := tx.TakeLinkCode(mac)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return ErrBadLinkCode
		} else if err != nil {
			return err
		}
		// Sealed to this staff member's row: copied to another, it does not
		// open, so nobody can redirect someone else's alerts.
		sealed, err := s.Vault.SealStaffChat(id, chatID)
		if err != nil {
			return err
		}
		if err := tx.SetTelegram(id, s.Vault.ChatMAC(chatID), sealed); err != nil {
			return err
		}
		// A newly linked chat is not working until a test reaches it.
		return tx.ReplaceStaffTarget(id, string(alert.Telegram))
	})
}

// UnlinkTelegram stops Telegram alerts for the session's staff member.
func (s *Service) UnlinkTelegram(ctx context.Context, sess *Session) error {
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetTelegram(sess.Counselor.ID, nil, nil); err != nil {
			return err
		}
		return tx.DeleteStaffTargets(sess.Counselor.ID, string(alert.Telegram))
	})
}

// SetAlertEmail stores (sealed under the server key) the address the
// session's staff member gets alerts at; "" removes it.
func (s *Service) SetAlertEmail(ctx context.Context, sess *Session, addr string) error {
	var sealed []byte
	if addr = strings.TrimSpace(addr); addr != "" {
		if a, err := mail.ParseAddress(addr); err != nil || a.Address != addr {
			return hotline.Errorf(hotline.EINVALID, "电子邮件地址无效。", "That e-mail address is not valid.")
		}
		var err error
		if sealed, err = s.Vault.SealStaffEmail(sess.Counselor.ID, addr); err != nil {
			return err
		}
	}
	prev, err := s.AlertPrefs(ctx, sess)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.SetEmail(sess.Counselor.ID, sealed); err != nil {
			return err
		}
		switch {
		case addr == "":
			return tx.DeleteStaffTargets(sess.Counselor.ID, string(alert.Email))
		case addr != prev.Email:
			// Another address must be tested again.
			return tx.ReplaceStaffTarget(sess.Counselor.ID, string(alert.Email))
		}
		return nil
	})
}

// SetOnCall puts a counselor of the admin's school on or off the on-call
// rota that urgent tips page first; counselors may set themselves.
func (s *Service) SetOnCall(ctx context.Context, sess *Session, counselorID int64, on bool) error {
	if counselorID != sess.Counselor.ID && !sess.Counselor.IsAdmin() {
		return hotline.ErrForbidden
	}
	c, err := s.DB.CounselorByID(ctx, counselorID)
	if err != nil || c.SchoolID == 0 || c.SchoolID != sess.Counselor.SchoolID {
		return hotline.ErrNotFound
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetOnCall(counselorID, on) })
}
