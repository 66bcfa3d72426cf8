package staff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Scope says whose alert targets a request is about.
type Scope int

// Scopes of alert targets.
const (
	ScopeMine     Scope = iota // the session's staff member's own channels ("my alerts")
	ScopeSchool                // the admin's school's group robots and webhook (settings)
	ScopeDistrict              // the officer's district's group robots and webhook
)

// PersonalKinds are the channels a staff member links on "my alerts"
// (Telegram and e-mail have forms of their own), in the order the page
// lists them. A group robot may be a staff member's own too: a DingTalk or
// Feishu group with only themselves in it is how many teachers get
// notifications on the app they use all day. Its alerts still carry the
// case link behind the log-in, never a one-time link: a robot posts into a
// group, and anyone added to it later could press it.
var PersonalKinds = []alert.Kind{alert.WeComApp, alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent, alert.DingTalk, alert.Feishu, alert.WeComRobot, alert.WebPush}

// GroupKinds are the channels a school or a district links for a group:
// the group robots and the generic webhook.
var GroupKinds = []alert.Kind{alert.WeComRobot, alert.DingTalk, alert.Feishu, alert.Webhook}

// maxTargets bounds the targets of one owner.
const maxTargets = 12

// KindLabel names a channel kind in both languages (alert.Kind.Label
// says "钉钉群机器人 / DingTalk group robot").
func KindLabel(k alert.Kind) hotline.Label {
	zh, en, ok := strings.Cut(k.Label(), " / ")
	if !ok {
		return hotline.Label{ZH: zh, EN: zh}
	}
	return hotline.Label{ZH: zh, EN: en}
}

// IsVoice reports whether a kind is a phone call.
func IsVoice(k alert.Kind) bool { return k.Loud() }

// carriesLink reports whether alerts of a kind can carry a link: a text
// message's approved template and a call carry only the alias, so their
// tests carry a short code to type in instead.
func carriesLink(k alert.Kind) bool {
	switch k {
	case alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent:
		return false
	}
	return true
}

// CarriesLink reports whether alerts of a kind carry a link.
func CarriesLink(k alert.Kind) bool { return carriesLink(k) }

func kindIn(k alert.Kind, ks []alert.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// ownerOf returns the owner of the scope's targets for the session, or
// ErrForbidden: a counselor manages only their own channels, an admin also
// their school's groups, an officer their district's.
func ownerOf(sess *Session, scope Scope) (store.TargetOwner, error) {
	c := sess.Counselor
	switch scope {
	case ScopeMine:
		return store.TargetOwner{CounselorID: c.ID}, nil
	case ScopeSchool:
		if c.Role == hotline.RoleAdmin && c.SchoolID != 0 {
			return store.TargetOwner{SchoolID: c.SchoolID}, nil
		}
	case ScopeDistrict:
		if c.Role == hotline.RoleDistrict && c.District != "" {
			return store.TargetOwner{District: c.District}, nil
		}
	}
	return store.TargetOwner{}, hotline.ErrForbidden
}

// targetRow names a stored target's row for its seal.
func targetRow(t *store.AlertTarget) string {
	switch t.Owner {
	case store.OwnerSchool:
		return vault.AlertTargetRow(t.ID, "school|"+strconv.FormatInt(t.SchoolID, 10))
	case store.OwnerDistrict:
		return vault.AlertTargetRow(t.ID, "district|"+t.District)
	}
	return vault.AlertTargetRow(t.ID, "counselor|"+strconv.FormatInt(t.CounselorID, 10))
}

// Errors of linking a target, safe to show.
var (
	errTooManyTargets = hotline.Errorf(hotline.EINVALID, "提醒方式最多 12 个，请先删除不用的。", "At most 12 ways to alert; remove one you no longer use first.")
	errKindNotHere    = hotline.Errorf(hotline.EINVALID, "这里不能添加这种提醒方式。", "That kind of alert cannot be added here.")
	errNotConfigured  = hotline.Errorf(hotline.EINVALID, "服务器没有配置这种提醒渠道，请联系管理员（运维）配置后再添加。", "This server has no account for that channel; ask whoever runs the server to configure it first.")
)

// LinkTarget validates and links a channel for the scope: a staff member's
// own (a phone number for text messages or calls, a WeCom userid, a push
// subscription), or a school's or district's group robot or webhook. The
// address and secret are stored only sealed, bound to the new row. The
// channel is not working until a test over it is acknowledged.
func (s *Service) LinkTarget(ctx context.Context, sess *Session, scope Scope, kind alert.Kind, address, secret string) (int64, error) {
	owner, err := ownerOf(sess, scope)
	if err != nil {
		return 0, err
	}
	return s.LinkTargetOf(ctx, owner, kind, address, secret)
}

// LinkTargetOf links a channel for an owner without a session: for the
// operator's tools (the demo, hotline bench), which act as the server.
// Pages use LinkTarget.
func (s *Service) LinkTargetOf(ctx context.Context, owner store.TargetOwner, kind alert.Kind, address, secret string) (int64, error) {
	ownerName, allowed := store.OwnerStaff, PersonalKinds
	switch {
	case owner.SchoolID != 0:
		ownerName, allowed = store.OwnerSchool, GroupKinds
	case owner.District != "":
		ownerName, allowed = store.OwnerDistrict, GroupKinds
	}
	if !kindIn(kind, allowed) {
		return 0, errKindNotHere
	}
	if !s.Configured(kind) {
		return 0, errNotConfigured
	}
	address, secret, err := NormalizeTarget(kind, address, secret)
	if err != nil {
		return 0, err
	}
	existing, err := s.DB.AlertTargets(ctx, owner)
	if err != nil {
		return 0, err
	}
	if len(existing) >= maxTargets {
		return 0, errTooManyTargets
	}
	t := &store.AlertTarget{Owner: ownerName, CounselorID: owner.CounselorID, SchoolID: owner.SchoolID, District: owner.District, Kind: string(kind)}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AddAlertTarget(t); err != nil {
			return err
		}
		sealed, err := s.Vault.SealAlertTarget(targetRow(t), address, secret)
		if err != nil {
			return err
		}
		return tx.SetAlertTargetSealed(t.ID, sealed)
	})
	return t.ID, err
}

// UnlinkTarget removes one of the scope's targets.
func (s *Service) UnlinkTarget(ctx context.Context, sess *Session, scope Scope, id int64) error {
	owner, err := ownerOf(sess, scope)
	if err != nil {
		return err
	}
	t, err := s.TargetOf(ctx, sess, scope, id)
	if err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		switch alert.Kind(t.Kind) {
		case alert.Telegram:
			if err := tx.SetTelegram(t.CounselorID, nil, nil); err != nil {
				return err
			}
		case alert.Email:
			if err := tx.SetEmail(t.CounselorID, nil); err != nil {
				return err
			}
		}
		return tx.DeleteAlertTarget(id, owner)
	})
}

// TargetOf returns one of the scope's targets, or ErrNotFound: another
// staff member's, school's or district's target is not found.
func (s *Service) TargetOf(ctx context.Context, sess *Session, scope Scope, id int64) (*store.AlertTarget, error) {
	owner, err := ownerOf(sess, scope)
	if err != nil {
		return nil, err
	}
	t, err := s.DB.AlertTargetByID(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case owner.CounselorID != 0 && t.Owner == store.OwnerStaff && t.CounselorID == owner.CounselorID,
		owner.SchoolID != 0 && t.Owner == store.OwnerSchool && t.SchoolID == owner.SchoolID,
		owner.District != "" && t.Owner == store.OwnerDistrict && t.District == owner.District:
		return t, nil
	}
	return nil, hotline.ErrNotFound
}

// OpenTarget opens a stored target into what a channel sends to: the
// sealed address, or for Telegram and e-mail the counselor's own sealed
// chat or address. rec is the target's counselor (nil for a group).
func (s *Service) OpenTarget(t *store.AlertTarget, rec *store.CounselorRecord) (alert.Target, error) {
	out := alert.Target{Kind: alert.Kind(t.Kind)}
	switch out.Kind {
	case alert.Telegram:
		if rec == nil || rec.TelegramSealed == nil {
			return out, hotline.ErrNotFound
		}
		chat, err := s.Vault.OpenStaffChat(rec.ID, rec.TelegramSealed)
		if err != nil {
			return out, err
		}
		out.Address = strconv.FormatInt(chat, 10)
		return out, nil
	case alert.Email:
		if rec == nil || rec.EmailSealed == nil {
			return out, hotline.ErrNotFound
		}
		addr, err := OpenAlertEmail(s.Vault, rec.ID, rec.EmailSealed)
		out.Address = addr
		return out, err
	}
	var err error
	out.Address, out.Secret, err = s.Vault.OpenAlertTarget(targetRow(t), t.Sealed)
	return out, err
}

// Configured reports whether this server has an account for a channel
// kind (AlertKinds, set at start).
func (s *Service) Configured(k alert.Kind) bool { return s.AlertKinds[k] }

// TargetState is how far a target is from working.
type TargetState string

// Target states, worst first.
const (
	TargetUnconfigured TargetState = "unconfigured" // the server has no account for its channel
	TargetFailed       TargetState = "failed"       // its last send failed
	TargetUntested     TargetState = "untested"     // no test was sent over it
	TargetWaiting      TargetState = "waiting"      // a test went out, nobody acknowledged it yet
	TargetWorking      TargetState = "working"      // a test was acknowledged from it and nothing failed since
)

// stateOf judges a target: only a target whose test was acknowledged from
// its own link or code, on a server that can send over it, is working.
func (s *Service) stateOf(t *store.AlertTarget) (TargetState, hotline.Label) {
	k := alert.Kind(t.Kind)
	switch {
	case !s.Configured(k) && k == alert.Email:
		return TargetUnconfigured, hotline.Label{ZH: "服务器没有配置 SMTP 邮件服务器，邮件提醒发不出去", EN: "the server has no SMTP server: e-mail alerts cannot be sent"}
	case !s.Configured(k) && k == alert.Telegram:
		return TargetUnconfigured, hotline.Label{ZH: "服务器没有配置 Telegram 机器人；Telegram 在中国大陆无法使用", EN: "the server has no Telegram bot; Telegram does not work in mainland China"}
	case !s.Configured(k):
		return TargetUnconfigured, hotline.Label{ZH: "服务器没有配置这个渠道的账号", EN: "the server has no account for this channel"}
	case !t.FailedAt.IsZero(): // verifying clears it: a failure since
		reason := t.FailReason
		if reason == "" {
			reason = "发送失败 / sending failed"
		}
		if t.FailCode != "" {
			reason += " [" + t.FailCode + "]"
		}
		return TargetFailed, hotline.Label{ZH: "最近一次发送失败：" + reason, EN: "the last send failed: " + reason}
	case t.Verified():
		return TargetWorking, hotline.Label{}
	case !t.TestedAt.IsZero():
		return TargetWaiting, hotline.Label{ZH: "测试提醒已发出，还没有人从提醒里的链接或验证码确认收到", EN: "a test alert went out; nobody has confirmed it from its link or code yet"}
	}
	return TargetUntested, hotline.Label{ZH: "还没有发送测试提醒并确认收到", EN: "no test alert was sent and confirmed yet"}
}

// TargetView is a target as a page shows it: masked, with its state.
type TargetView struct {
	ID         int64
	Kind       alert.Kind
	Label      hotline.Label
	Masked     string
	State      TargetState
	Reason     hotline.Label // why it is not working; empty when it is
	Code       bool          // its tests carry a code to type in
	TestedAt   time.Time
	VerifiedAt time.Time
}

// view masks a target for display; an address that no longer opens is
// shown as such, never as an error page.
func (s *Service) view(t *store.AlertTarget, rec *store.CounselorRecord) TargetView {
	st, reason := s.stateOf(t)
	v := TargetView{ID: t.ID, Kind: alert.Kind(t.Kind), Label: KindLabel(alert.Kind(t.Kind)), State: st, Reason: reason,
		Code: !carriesLink(alert.Kind(t.Kind)), TestedAt: t.TestedAt, VerifiedAt: t.VerifiedAt}
	if a, err := s.OpenTarget(t, rec); err == nil {
		v.Masked = MaskAddress(a.Kind, a.Address)
	} else {
		v.Masked = "—"
	}
	return v
}

// Targets returns the scope's targets, masked, for its page.
func (s *Service) Targets(ctx context.Context, sess *Session, scope Scope) ([]TargetView, error) {
	owner, err := ownerOf(sess, scope)
	if err != nil {
		return nil, err
	}
	ts, err := s.DB.AlertTargets(ctx, owner)
	if err != nil {
		return nil, err
	}
	var rec *store.CounselorRecord
	if scope == ScopeMine {
		if rec, err = s.DB.CounselorByID(ctx, sess.Counselor.ID); err != nil {
			return nil, err
		}
	}
	out := make([]TargetView, len(ts))
	for i, t := range ts {
		out[i] = s.view(t, rec)
	}
	return out, nil
}

// ---- validation and masking ----

// NormalizeTarget checks an address and secret for a kind (alert.Validate)
// and returns the forms to store: a phone number in E.164, a robot's key
// alone when its whole webhook URL was pasted, a compact push
// subscription. Its error says why, in both languages.
func NormalizeTarget(kind alert.Kind, address, secret string) (string, string, error) {
	secret = strings.TrimSpace(secret)
	if len(secret) > 256 || !utf8.ValidString(secret) {
		return "", "", hotline.Errorf(hotline.EINVALID, "密钥太长或无效。", "The secret is too long or invalid.")
	}
	if err := alert.Validate(kind, address, secret); err != nil {
		return "", "", invalidTarget(err)
	}
	a, err := alert.Normalize(kind, address)
	if err != nil {
		return "", "", invalidTarget(err)
	}
	return a, secret, nil
}

// invalidTarget turns a channel's refusal of an address ("zh / en") into
// an error for the page.
func invalidTarget(err error) error {
	var ae *alert.Error
	if !errors.As(err, &ae) {
		return hotline.Errorf(hotline.EINVALID, "地址无效。", "Invalid address.")
	}
	zh, en, ok := strings.Cut(ae.Reason, " / ")
	if !ok {
		en = zh
	}
	return hotline.Errorf(hotline.EINVALID, zh, en)
}

// MaskAddress shows enough of an address to tell two apart and no more
// (alert.Mask): 138****8000, w***@school.cn, …f3a9 for a key, the push
// service's host.
func MaskAddress(kind alert.Kind, addr string) string { return alert.Mask(kind, addr) }
