// Package alert carries a content-free alert to a person or a group over one
// channel. It never sees report content: a Message holds an alias, a school,
// a reason and a link, nothing else.
//
// This file is a temporary copy of the types of ALERT_CONTRACT.md, so that
// the ladder (branch alerts-ladder) builds before the channels (branch
// alerts-channels) are merged; it is deleted when they are.
package alert

import (
	"context"
	"fmt"
)

// Kind names a channel.
type Kind string

// Channel kinds.
const (
	Telegram     Kind = "telegram"      // a staff member's linked Telegram chat (existing bot)
	Email        Kind = "email"         // SMTP (existing internal/mail)
	WeComRobot   Kind = "wecom_robot"   // 企业微信 group robot: webhook key
	WeComApp     Kind = "wecom_app"     // 企业微信 application message to one userid
	DingTalk     Kind = "dingtalk"      // 钉钉 custom robot: access_token + signing secret
	Feishu       Kind = "feishu"        // 飞书 custom bot: hook id + signing secret
	SMSAliyun    Kind = "sms_aliyun"    // 阿里云短信
	SMSTencent   Kind = "sms_tencent"   // 腾讯云短信
	VoiceAliyun  Kind = "voice_aliyun"  // 阿里云语音通知
	VoiceTencent Kind = "voice_tencent" // 腾讯云语音消息
	Webhook      Kind = "webhook"       // generic HTTPS POST with an HMAC signature header
	WebPush      Kind = "webpush"       // Web Push (VAPID) to an installed inbox
)

// Message is everything an alert may say.
type Message struct {
	Reason   string
	School   string
	SchoolEN string
	AliasZH  string
	AliasEN  string
	Text     string
	Link     string
	Urgent   bool
	Rung     int
}

// Target is one destination a staff member, a school or a district linked.
type Target struct {
	Kind    Kind
	Address string
	Secret  string
}

// Channel sends one alert to one target.
type Channel interface {
	Kind() Kind
	Send(ctx context.Context, to Target, m Message) error
}

// Error is a failed send, with a reason that is safe to show.
type Error struct {
	Kind      Kind
	Code      string
	Reason    string
	Permanent bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("alert %s: %s (%s)", e.Kind, e.Reason, e.Code)
}

// Set maps kinds to the channels this server has configured.
type Set map[Kind]Channel
