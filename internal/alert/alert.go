package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind is one way of reaching a person or a group.
type Kind string

// The kinds of channel.
const (
	Telegram     Kind = "telegram"      // a staff member's linked Telegram chat (existing bot)
	Email        Kind = "email"         // SMTP (existing internal/mail)
	WeComRobot   Kind = "wecom_robot"   // 企业微信 group robot: webhook key
	WeComApp     Kind = "wecom_app"     // 企业微信 application message to one userid (corp config at server level)
	DingTalk     Kind = "dingtalk"      // 钉钉 custom robot: access_token + signing secret (timestamp+sign)
	Feishu       Kind = "feishu"        // 飞书 custom bot: hook id + signing secret
	SMSAliyun    Kind = "sms_aliyun"    // 阿里云短信, approved template, alias as variable
	SMSTencent   Kind = "sms_tencent"   // 腾讯云短信
	VoiceAliyun  Kind = "voice_aliyun"  // 阿里云语音通知 (TTS template)
	VoiceTencent Kind = "voice_tencent" // 腾讯云语音消息
	Webhook      Kind = "webhook"       // generic HTTPS POST with an HMAC signature header (平安校园 platform)
	WebPush      Kind = "webpush"       // Web Push (RFC 8030/8291/8292 VAPID) to an installed inbox
)

// Kinds lists every kind, in the order pages show them: the channels that
// work in mainland China first.
var Kinds = []Kind{WeComApp, WeComRobot, DingTalk, Feishu, SMSAliyun, SMSTencent,
	VoiceAliyun, VoiceTencent, WebPush, Email, Webhook, Telegram}

var kindLabels = map[Kind][2]string{
	Telegram:     {"Telegram", "Telegram"},
	Email:        {"电子邮件", "e-mail"},
	WeComRobot:   {"企业微信群机器人", "WeCom group robot"},
	WeComApp:     {"企业微信应用消息", "WeCom app message"},
	DingTalk:     {"钉钉群机器人", "DingTalk group robot"},
	Feishu:       {"飞书群机器人", "Feishu group bot"},
	SMSAliyun:    {"短信（阿里云）", "SMS (Aliyun)"},
	SMSTencent:   {"短信（腾讯云）", "SMS (Tencent Cloud)"},
	VoiceAliyun:  {"语音电话（阿里云）", "voice call (Aliyun)"},
	VoiceTencent: {"语音电话（腾讯云）", "voice call (Tencent Cloud)"},
	Webhook:      {"平安校园平台（Webhook）", "safe-campus platform (webhook)"},
	WebPush:      {"手机推送（已安装的收件箱）", "push to the installed inbox"},
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool { _, ok := kindLabels[k]; return ok }

// Label is the kind's name for pages, zh first: "钉钉群机器人 / DingTalk group robot".
func (k Kind) Label() string {
	l, ok := kindLabels[k]
	if !ok {
		return string(k)
	}
	if l[0] == l[1] {
		return l[0]
	}
	return l[0] + " / " + l[1]
}

// Group reports whether a target of this kind reaches a group rather than
// one person: anyone in the group could click its link, so an alert to a
// group carries the case link behind the log-in, never a personal
// one-time link.
func (k Kind) Group() bool {
	return k == WeComRobot || k == DingTalk || k == Feishu || k == Webhook
}

// NeedsSecret reports whether a target of this kind must carry a signing
// secret.
func (k Kind) NeedsSecret() bool { return k == DingTalk || k == Feishu || k == Webhook }

// Loud reports whether the kind wakes a sleeping person (a phone call).
func (k Kind) Loud() bool { return k == VoiceAliyun || k == VoiceTencent }

// Message is everything an alert may say. It holds no report content:
// adapters put only Text, Link, the aliases and the school names on the
// wire (a test scans every vendor body for the other fields).
type Message struct {
	Reason   string // "urgent", "urgent_unacked", "urgent_overdue", "deadline=<kind>", "test", "ledger_head"
	School   string // school name (zh)
	SchoolEN string
	AliasZH  string // the case alias, e.g. 蓝狐
	AliasEN  string // e.g. Blue Fox
	Text     string // full bilingual text, zh first, composed from metadata only
	Link     string // a person's one-time "我来处理 / I'm on it" link, or for a group the case link behind the log-in; may be empty
	Urgent   bool   // loud: the voice/SMS template of urgency, push urgency "high", @all in a group
	Rung     int    // ladder rung (1-based), for the text; 0 when not a ladder alert
	// ID identifies this delivery (the same on every retry of it), so a
	// receiver can drop a duplicate: the webhook's X-Hotline-Id, the SMS
	// OutId / SessionContext. Empty: a random one per Send.
	ID string
}

// text is what text channels show: Text, then Link on its own line unless
// Text already carries it.
func (m Message) text() string {
	t := strings.TrimSpace(m.Text)
	if m.Link != "" && !strings.Contains(t, m.Link) {
		if t != "" {
			t += "\n"
		}
		t += m.Link
	}
	return t
}

// Target is one destination a staff member, a school or a district linked.
// Secrets are plaintext only in memory: the caller opens them from their
// sealed column just before Send.
type Target struct {
	Kind    Kind
	Address string // robot key/URL, phone (E.164), e-mail, chat id, userid, webhook URL, push subscription JSON
	Secret  string // robot signing secret, webhook HMAC secret; "" if none
}

// String masks the address, so a Target that reaches a log by mistake
// does not carry a phone number or a key.
func (t Target) String() string { return string(t.Kind) + ":" + Mask(t.Kind, t.Address) }

// Channel sends one alert to one target.
type Channel interface {
	Kind() Kind
	Send(ctx context.Context, to Target, m Message) error
}

// TestResult says how a test alert over one target went ("发送测试提醒"):
// sent (then it waits for its link or code), or the channel's safe reason
// it failed. The scheduler sends the test; the pages show this.
type TestResult struct {
	Sent   bool
	Code   bool // the test carries a six-digit code to type in (a text message, a call)
	Reason string
}

// Error is a failed send, with a reason that is safe to show a school admin
// and the district (never a secret, a phone number or a key).
type Error struct {
	Kind      Kind
	Code      string // the vendor's error code, e.g. "310000", "isv.MOBILE_NUMBER_ILLEGAL", "93000"
	Reason    string // short, safe, zh first: "机器人签名不匹配 / robot signature mismatch"
	Permanent bool   // bad key, refused number, unknown robot: retrying will not help
}

func (e *Error) Error() string {
	p := "temporary"
	if e.Permanent {
		p = "permanent"
	}
	if e.Code == "" {
		return fmt.Sprintf("%s: %s (%s)", e.Kind, e.Reason, p)
	}
	return fmt.Sprintf("%s: %s: %s (%s)", e.Kind, e.Code, e.Reason, p)
}

// Codes of errors that are not a vendor's.
const (
	CodeNetwork       = "network"        // the provider could not be reached
	CodeTimeout       = "timeout"        // no answer in time
	CodeBadAnswer     = "bad_answer"     // an answer that is not the vendor's format
	CodeInvalidTarget = "invalid_target" // the address or secret is malformed
	CodeNotConfigured = "not_configured" // this server has no such channel
	CodeInternal      = "internal"       // an error of ours
)

// AsError returns err as an *Error: itself if it is one, otherwise a
// temporary error of kind k whose reason says nothing of err (which may
// hold an address). It returns nil for a nil err.
func AsError(k Kind, err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: k, Code: CodeTimeout, Reason: reasonTimeout}
	}
	return &Error{Kind: k, Code: CodeInternal, Reason: "发送失败 / send failed"}
}

// IsPermanent reports whether err is an *Error that retrying will not fix.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// Set maps kinds to the channels this server has configured.
type Set map[Kind]Channel

// Send sends m to the target over the channel of its kind.
func (s Set) Send(ctx context.Context, to Target, m Message) error {
	c, ok := s[to.Kind]
	if !ok || c == nil {
		return &Error{Kind: to.Kind, Code: CodeNotConfigured, Permanent: true,
			Reason: "本服务器未配置此渠道 / this channel is not configured on this server"}
	}
	return c.Send(ctx, to, m)
}

// Kinds returns the configured kinds in the order of Kinds.
func (s Set) Kinds() []Kind {
	var out []Kind
	for _, k := range Kinds {
		if s[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// Has reports whether kind k is configured.
func (s Set) Has(k Kind) bool { return s[k] != nil }
