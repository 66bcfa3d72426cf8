package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// HandoverLifetime is how long a hand-over link works: long enough to
// reach a principal over a week's post and meetings, short enough that a
// link forgotten in a chat history dies.
const HandoverLifetime = 7 * 24 * time.Hour

// HandoverPath is where a hand-over's admin opens it, under the inbox.
func HandoverPath(token string) string { return "/inbox/handover/" + token }

// Hand-over errors.
var (
	ErrHandoverInvalid = hotline.Errorf(hotline.ENOTFOUND, "这个交接链接无效、已经用过、已被新的链接取代或已过期。请向区教育局索取新的链接。", "This hand-over link is not valid: it was used, replaced by a newer one, or expired. Ask the district education bureau for a new one.")
	errNotOfficer      = hotline.ErrForbidden
)

// StartedHandover is shown once to the officer who started it: the token
// is never stored, only its hash.
type StartedHandover struct {
	Handover *store.Handover
	Token    string
}

// Path is the link to hand over, relative to the server.
func (h *StartedHandover) Path() string { return HandoverPath(h.Token) }

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte("hotline-handover/v1\x00" + token))
	return h[:]
}

func newHandoverToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("handover token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func officerOf(sess *Session) error {
	if sess == nil || sess.Counselor.Role != hotline.RoleDistrict || sess.Counselor.District == "" {
		return errNotOfficer
	}
	return nil
}

// AddSchool is an officer adding a school to their district: no key pair
// and no account are made, only a hand-over link for its first admin. The
// school takes no reports until that admin accepts (AcceptHandover).
func (s *Service) AddSchool(ctx context.Context, officer *Session, code, name, nameEN string) (*StartedHandover, error) {
	if err := officerOf(officer); err != nil {
		return nil, err
	}
	name, nameEN = strings.TrimSpace(name), strings.TrimSpace(nameEN)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "学校名称需为 1–100 个字符。", "A school name is 1–100 characters.")
	}
	if !utf8.ValidString(nameEN) || utf8.RuneCountInString(nameEN) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "英文名称最多 100 个字符。", "An English name is at most 100 characters.")
	}
	return s.startHandover(ctx, officer, &store.Handover{Code: code, Name: name, NameEN: nameEN})
}

// NewHandover starts a new admin hand-over for a school of the officer's
// district: a school still waiting for its first admin gets a fresh link
// (the old one stops working); a running school's new admin will need the
// school's recovery key to accept, since the district cannot open the
// school's key.
func (s *Service) NewHandover(ctx context.Context, officer *Session, code string) (*StartedHandover, error) {
	if err := officerOf(officer); err != nil {
		return nil, err
	}
	code = store.NormalizeCode(code)
	school, err := s.DB.SchoolByCode(ctx, code)
	switch {
	case err == nil:
		if school.District != officer.Counselor.District {
			return nil, hotline.ErrSchoolNotFound
		}
		return s.startHandover(ctx, officer, &store.Handover{SchoolID: school.ID, Code: school.Code, Name: school.Name, NameEN: school.Settings.NameEN})
	case hotline.ErrorCode(err) != hotline.ENOTFOUND:
		return nil, err
	}
	hs, err := s.DB.Handovers(ctx, officer.Counselor.District)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		if h.Code == code && h.SchoolID == 0 && h.RevokedAt == 0 {
			return s.startHandover(ctx, officer, &store.Handover{Code: h.Code, Name: h.Name, NameEN: h.NameEN})
		}
	}
	return nil, hotline.ErrSchoolNotFound
}

func (s *Service) startHandover(ctx context.Context, officer *Session, h *store.Handover) (*StartedHandover, error) {
	token, err := newHandoverToken()
	if err != nil {
		return nil, err
	}
	h.District, h.TokenHash, h.CreatedBy = officer.Counselor.District, tokenHash(token), officer.Counselor.ID
	h.ExpiresAt = s.DB.Clock.Now().Add(HandoverLifetime).UnixMicro()
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertHandover(h); err != nil {
			return err
		}
		detail := fmt.Sprintf("code=%s;handover=%d", h.Code, h.ID)
		if err := Audit(tx, officer.Counselor, hotline.AuditHandoverStarted, 0, ClientOf(ctx), detail); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: h.SchoolID, Kind: hotline.EventHandoverStarted, ActorID: officer.Counselor.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return &StartedHandover{Handover: h, Token: token}, nil
}

// Handover finds the open hand-over of a token, for the page that accepts
// it; any other token, used, replaced or expired, is ErrHandoverInvalid.
func (s *Service) Handover(ctx context.Context, token string) (*store.Handover, error) {
	if len(token) == 0 || len(token) > 100 {
		return nil, ErrHandoverInvalid
	}
	h, err := s.DB.HandoverByToken(ctx, tokenHash(token))
	if hotline.ErrorCode(err) == hotline.ENOTFOUND || err == nil && !h.Open(s.DB.Clock.Now()) {
		return nil, ErrHandoverInvalid
	}
	return h, err
}

// Accepted is shown once to the admin who accepted a hand-over: the
// school's recovery key when its key pair was made then (never shown to
// the district, never stored).
type Accepted struct {
	School      *hotline.School
	Admin       *hotline.Counselor
	RecoveryKey string
}

// AcceptHandover is the admin's side of a hand-over: they choose their
// username and password. For a new school, its key pair is made now, its
// private key wrapped under the admin's password and a new recovery key
// that only this admin sees; for a running school, the school's recovery
// key (which the school keeps) opens the key for the new admin.
func (s *Service) AcceptHandover(ctx context.Context, token, username, password, recoveryKey string) (*Accepted, error) {
	h, err := s.Handover(ctx, token)
	if err != nil {
		return nil, err
	}
	username = strings.TrimSpace(username)
	if !validUsername(username) {
		return nil, hotline.Errorf(hotline.EINVALID, "用户名只能包含字母、数字、点、下划线和连字符（2–64 个字符）。", "A username is 2–64 letters, digits, dots, underscores or hyphens.")
	}
	if err := ValidatePassword(password); err != nil {
		return nil, err
	}
	refund, err := admit(ctx)
	if err != nil {
		return nil, err
	}
	defer refund()
	acc := &Accepted{Admin: &hotline.Counselor{Username: username, DisplayName: username, Role: hotline.RoleAdmin}}
	var key *vault.PrivateKey
	var recoveryWrapped []byte
	if h.SchoolID == 0 {
		if key, err = vault.GenerateKeyPair(); err != nil {
			return nil, err
		}
		if acc.RecoveryKey, err = vault.NewRecoveryKey(); err != nil {
			key.Wipe()
			return nil, err
		}
		if recoveryWrapped, err = vault.WrapWithRecoveryKey(key, acc.RecoveryKey); err != nil {
			key.Wipe()
			return nil, err
		}
	} else {
		wrapped, err := s.DB.SchoolRecoveryWrapped(ctx, h.SchoolID)
		if err != nil {
			return nil, err
		}
		if key, err = vault.UnwrapWithRecoveryKey(wrapped, recoveryKey); err != nil {
			aerr := s.DB.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
				return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditRecoveryFailed, SchoolID: h.SchoolID, District: h.District, Client: ClientOf(ctx), Detail: fmt.Sprintf("handover=%d", h.ID)})
			})
			if aerr != nil {
				s.Logger.Error("audit of a wrong recovery key", "err", aerr)
			}
			return nil, hotline.Errorf(hotline.EUNAUTHORIZED, "恢复密钥不正确。", "The recovery key is wrong.")
		}
	}
	defer key.Wipe()
	wrapped, err := s.Vault.WrapWithPassword(ctx, key, password)
	if err != nil {
		return nil, err
	}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		cur, err := tx.HandoverByToken(h.TokenHash)
		if err != nil {
			return err
		}
		if !cur.Open(s.DB.Clock.Now()) {
			return ErrHandoverInvalid
		}
		if cur.SchoolID == 0 {
			school := &hotline.School{Code: cur.Code, Name: cur.Name, District: cur.District, PublicKey: key.PublicKey()}
			school.Settings.NameEN = cur.NameEN
			// The school's key opens every report: its admins log in with a
			// second factor from the start (they may change it in settings).
			school.Settings.RequireTOTP = true
			if err := tx.CreateSchool(school, recoveryWrapped); err != nil {
				return err
			}
			acc.School = school
		} else if acc.School, err = tx.SchoolByID(cur.SchoolID); err != nil {
			return err
		}
		acc.Admin.SchoolID = acc.School.ID
		if err := tx.CreateCounselor(acc.Admin, wrapped); err != nil {
			return err
		}
		if err := tx.AcceptHandover(cur.ID, acc.School.ID, acc.Admin.ID); err != nil {
			return err
		}
		detail := fmt.Sprintf("handover=%d;new_key=%t", cur.ID, cur.SchoolID == 0)
		if err := Audit(tx, acc.Admin, hotline.AuditHandoverAccepted, 0, ClientOf(ctx), detail); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: acc.School.ID, Kind: hotline.EventHandoverAccepted, ActorID: acc.Admin.ID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// WithdrawSchool is an officer taking back a school they added that no
// admin has accepted yet (a typo in its code or name, a school added by
// mistake): its links stop working and its code is free again. A school
// that has its key is never withdrawn this way: it has reports.
func (s *Service) WithdrawSchool(ctx context.Context, officer *Session, code string) error {
	if err := officerOf(officer); err != nil {
		return err
	}
	code = store.NormalizeCode(code)
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		ok, err := tx.WithdrawPending(officer.Counselor.District, code)
		if err != nil {
			return err
		}
		if !ok {
			return hotline.ErrSchoolNotFound
		}
		detail := "code=" + code
		if err := Audit(tx, officer.Counselor, hotline.AuditHandoverWithdrawn, 0, ClientOf(ctx), detail); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{Kind: hotline.EventHandoverWithdrawn, ActorID: officer.Counselor.ID, Detail: detail})
	})
}

// DeactivateSchoolAdmin is an officer taking away a school admin's access
// (they left, or lost their phone): the account's wrapped key is deleted
// and its sessions end. The officer never holds the school key; a new
// admin comes through NewHandover and the school's recovery key.
func (s *Service) DeactivateSchoolAdmin(ctx context.Context, officer *Session, counselorID int64) error {
	if err := officerOf(officer); err != nil {
		return err
	}
	c, err := s.DB.CounselorByID(ctx, counselorID)
	if err != nil {
		return hotline.ErrNotFound
	}
	if c.Role != hotline.RoleAdmin || c.SchoolID == 0 {
		return hotline.ErrNotFound
	}
	school, err := s.DB.SchoolByID(ctx, c.SchoolID)
	if err != nil || school.District != officer.Counselor.District {
		return hotline.ErrNotFound
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeactivateCounselor(counselorID); err != nil {
			return err
		}
		if err := tx.DeleteCounselorSessions(counselorID, nil); err != nil {
			return err
		}
		if err := tx.ForgetDevices(counselorID); err != nil {
			return err
		}
		detail := fmt.Sprintf("school=%s;counselor=%d", school.Code, counselorID)
		e := &hotline.AuditEntry{Kind: hotline.AuditAdminDeactivated, SchoolID: school.ID, District: school.District, CounselorID: officer.Counselor.ID, Client: ClientOf(ctx), Detail: detail}
		if err := tx.AppendAudit(e); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: school.ID, Kind: hotline.EventAdminDeactivated, ActorID: officer.Counselor.ID, Detail: fmt.Sprintf("counselor=%d", counselorID)})
	})
}

// SchoolAdmins lists the admins of a school of the officer's district:
// names and whether active, nothing else.
func (s *Service) SchoolAdmins(ctx context.Context, officer *Session, schoolID int64) ([]*store.CounselorRecord, error) {
	if err := officerOf(officer); err != nil {
		return nil, err
	}
	school, err := s.DB.SchoolByID(ctx, schoolID)
	if err != nil || school.District != officer.Counselor.District {
		return nil, hotline.ErrNotFound
	}
	all, err := s.DB.Counselors(ctx, schoolID, "")
	if err != nil {
		return nil, err
	}
	var out []*store.CounselorRecord
	for _, c := range all {
		if c.Role == hotline.RoleAdmin {
			out = append(out, c)
		}
	}
	return out, nil
}

// Handovers lists the officer's district's hand-overs, newest first.
func (s *Service) Handovers(ctx context.Context, officer *Session) ([]*store.Handover, error) {
	if err := officerOf(officer); err != nil {
		return nil, err
	}
	return s.DB.Handovers(ctx, officer.Counselor.District)
}
