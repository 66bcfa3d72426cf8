package staff

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"regexp"
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
// lists them.
var PersonalKinds = []alert.Kind{alert.WeComApp, alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent, alert.WebPush}

// GroupKinds are the channels a school or a district links for a group:
// the group robots and the generic webhook.
var GroupKinds = []alert.Kind{alert.WeComRobot, alert.DingTalk, alert.Feishu, alert.Webhook}

// maxTargets bounds the targets of one owner.
const maxTargets = 12

var kindLabels = map[alert.Kind]hotline.Label{
	alert.Telegram:     {ZH: "Telegram", EN: "Telegram"},
	alert.Email:        {ZH: "电子邮件", EN: "E-mail"},
	alert.WeComRobot:   {ZH: "企业微信群机器人", EN: "WeCom group robot"},
	alert.WeComApp:     {ZH: "企业微信应用消息", EN: "WeCom app message"},
	alert.DingTalk:     {ZH: "钉钉群机器人", EN: "DingTalk group robot"},
	alert.Feishu:       {ZH: "飞书群机器人", EN: "Feishu group bot"},
	alert.SMSAliyun:    {ZH: "短信（阿里云）", EN: "Text message (Aliyun)"},
	alert.SMSTencent:   {ZH: "短信（腾讯云）", EN: "Text message (Tencent Cloud)"},
	alert.VoiceAliyun:  {ZH: "语音电话（阿里云）", EN: "Voice call (Aliyun)"},
	alert.VoiceTencent: {ZH: "语音电话（腾讯云）", EN: "Voice call (Tencent Cloud)"},
	alert.Webhook:      {ZH: "Webhook（平安校园平台）", EN: "Webhook (safe-campus platform)"},
	alert.WebPush:      {ZH: "浏览器推送（已安装的收件箱）", EN: "Browser push (installed inbox)"},
}

// KindLabel names a channel kind in both languages.
func KindLabel(k alert.Kind) hotline.Label {
	if l, ok := kindLabels[k]; ok {
		return l
	}
	return hotline.Label{ZH: string(k), EN: string(k)}
}

// IsVoice reports whether a kind is a phone call.
func IsVoice(k alert.Kind) bool { return k == alert.VoiceAliyun || k == alert.VoiceTencent }

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
func ownerOf(sess *Session, scope Scope) (store.TargetOwner, string, string, error) {
	c := sess.Counselor
	switch scope {
	case ScopeMine:
		return store.TargetOwner{CounselorID: c.ID}, store.OwnerStaff, "counselor|" + strconv.FormatInt(c.ID, 10), nil
	case ScopeSchool:
		if c.Role == hotline.RoleAdmin && c.SchoolID != 0 {
			return store.TargetOwner{SchoolID: c.SchoolID}, store.OwnerSchool, "school|" + strconv.FormatInt(c.SchoolID, 10), nil
		}
	case ScopeDistrict:
		if c.Role == hotline.RoleDistrict && c.District != "" {
			return store.TargetOwner{District: c.District}, store.OwnerDistrict, "district|" + c.District, nil
		}
	}
	return store.TargetOwner{}, "", "", hotline.ErrForbidden
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
	owner, ownerName, _, err := ownerOf(sess, scope)
	if err != nil {
		return 0, err
	}
	allowed := PersonalKinds
	if scope != ScopeMine {
		allowed = GroupKinds
	}
	if !kindIn(kind, allowed) {
		return 0, errKindNotHere
	}
	if !s.Configured(kind) {
		return 0, errNotConfigured
	}
	address, secret, err = NormalizeTarget(kind, address, secret)
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
	owner, _, _, err := ownerOf(sess, scope)
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
	owner, _, _, err := ownerOf(sess, scope)
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
	owner, _, _, err := ownerOf(sess, scope)
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

var (
	reUserID   = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	reRobotKey = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)
)

func invalid(zh, en string) error { return hotline.Errorf(hotline.EINVALID, zh, en) }

// NormalizeTarget checks an address (and secret) for a kind and returns
// the form channels send to: a phone number in E.164, a robot's key alone
// when a whole webhook URL was pasted, a compact push subscription.
func NormalizeTarget(kind alert.Kind, address, secret string) (string, string, error) {
	address, secret = strings.TrimSpace(address), strings.TrimSpace(secret)
	if !utf8.ValidString(address) || !utf8.ValidString(secret) || len(address) > 4096 || len(secret) > 256 {
		return "", "", invalid("地址或密钥太长或无效。", "The address or secret is too long or invalid.")
	}
	switch kind {
	case alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent:
		p, err := NormalizePhone(address)
		return p, "", err
	case alert.WeComApp:
		if !reUserID.MatchString(address) {
			return "", "", invalid("企业微信账号（UserID）只能包含字母、数字和 _.@-，最多 64 个字符；在企业微信管理后台“通讯录”里可以查到。", "A WeCom UserID has letters, digits and _.@- only, at most 64; find it under Contacts in the WeCom admin console.")
		}
		return address, "", nil
	case alert.WebPush:
		return normalizeSubscription(address)
	case alert.WeComRobot:
		key := urlParam(address, "key")
		if !reRobotKey.MatchString(key) {
			return "", "", invalid("请粘贴企业微信群机器人的 Webhook 地址（含 key=…）。", "Paste the WeCom group robot's webhook address (with key=…).")
		}
		return key, "", nil
	case alert.DingTalk:
		token := urlParam(address, "access_token")
		if !reRobotKey.MatchString(token) {
			return "", "", invalid("请粘贴钉钉机器人的 Webhook 地址（含 access_token=…）。", "Paste the DingTalk robot's webhook address (with access_token=…).")
		}
		if !strings.HasPrefix(secret, "SEC") || len(secret) < 16 {
			return "", "", invalid("请在钉钉机器人“安全设置”里选择“加签”，并粘贴以 SEC 开头的密钥。", "Choose “signature” (加签) in the DingTalk robot's security settings and paste its secret, which starts with SEC.")
		}
		return token, secret, nil
	case alert.Feishu:
		id := address
		if i := strings.LastIndex(address, "/hook/"); i >= 0 {
			id = address[i+len("/hook/"):]
		}
		if !reRobotKey.MatchString(id) {
			return "", "", invalid("请粘贴飞书机器人的 Webhook 地址（…/hook/…）。", "Paste the Feishu bot's webhook address (…/hook/…).")
		}
		if len(secret) < 8 {
			return "", "", invalid("请在飞书机器人“安全设置”里开启“签名校验”，并粘贴它的密钥。", "Turn on “signature verification” in the Feishu bot's security settings and paste its secret.")
		}
		return id, secret, nil
	case alert.Webhook:
		u, err := url.Parse(address)
		if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
			return "", "", invalid("Webhook 地址必须是 https:// 开头的网址。", "The webhook address must be an https:// URL.")
		}
		if len(secret) < 16 {
			return "", "", invalid("Webhook 签名密钥至少 16 个字符（平台用它校验 HMAC 签名）。", "The webhook's signing secret is at least 16 characters (the platform checks the HMAC signature with it).")
		}
		return u.String(), secret, nil
	}
	return "", "", errKindNotHere
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// urlParam returns a query parameter of a pasted URL, or s itself when it
// is not a URL (the key alone was pasted).
func urlParam(s, name string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}

// NormalizePhone returns a phone number in E.164 (+8613800138000): an
// 11-digit mainland mobile number may be written without +86; spaces and
// dashes are dropped.
func NormalizePhone(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	digits := strings.TrimPrefix(s, "+")
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", errPhone
		}
	}
	switch {
	case !strings.HasPrefix(s, "+") && len(digits) == 11 && digits[0] == '1':
		return "+86" + digits, nil
	case strings.HasPrefix(s, "+86") && !(len(digits) == 13 && digits[2] == '1'):
		return "", errPhone
	case strings.HasPrefix(s, "+") && len(digits) >= 8 && len(digits) <= 15:
		return s, nil
	}
	return "", errPhone
}

var errPhone = invalid("手机号码无效：请填写 11 位手机号，或以 + 开头的国际号码。", "Invalid phone number: write an 11-digit mainland number or an international one starting with +.")

// pushSubscription is the JSON a browser's PushManager.subscribe returns.
type pushSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

func normalizeSubscription(s string) (string, string, error) {
	bad := invalid("浏览器推送订阅无效，请在已安装的收件箱里重新点击“开启推送”。", "Invalid push subscription; press “Turn on push” again in the installed inbox.")
	var sub pushSubscription
	if err := json.Unmarshal([]byte(s), &sub); err != nil {
		return "", "", bad
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return "", "", bad
	}
	p, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(sub.Keys.P256dh, "="))
	a, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(sub.Keys.Auth, "="))
	if err1 != nil || err2 != nil || len(p) != 65 || p[0] != 4 || len(a) != 16 {
		return "", "", bad
	}
	b, err := json.Marshal(sub)
	if err != nil {
		return "", "", bad
	}
	return string(b), "", nil
}

// MaskAddress shows enough of an address to tell two apart and no more:
// 138****8000, w***@school.cn, …f3a9 for a key, the push service's host.
func MaskAddress(kind alert.Kind, addr string) string {
	switch kind {
	case alert.Telegram:
		return "Telegram ✓"
	case alert.Email:
		at := strings.LastIndexByte(addr, '@')
		if at < 1 {
			return "***"
		}
		first, _ := utf8.DecodeRuneInString(addr)
		return string(first) + "***" + addr[at:]
	case alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent:
		d := strings.TrimPrefix(addr, "+")
		if strings.HasPrefix(d, "86") && len(d) == 13 {
			d = d[2:]
			return d[:3] + "****" + d[7:]
		}
		if len(d) < 7 {
			return "****"
		}
		return "+" + d[:3] + "****" + d[len(d)-4:]
	case alert.WeComApp:
		r := []rune(addr)
		if len(r) <= 2 {
			return "***"
		}
		return string(r[:2]) + "***"
	case alert.WebPush:
		var sub pushSubscription
		if json.Unmarshal([]byte(addr), &sub) != nil {
			return "***"
		}
		if u, err := url.Parse(sub.Endpoint); err == nil {
			return u.Hostname() + " …" + tail(sub.Endpoint, 4)
		}
		return "***"
	case alert.Webhook:
		if u, err := url.Parse(addr); err == nil {
			return u.Scheme + "://" + u.Host + "/…"
		}
		return "***"
	}
	return "…" + tail(addr, 4)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
