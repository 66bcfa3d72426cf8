package alert

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Config is the server's alert configuration: one part per vendor. A
// vendor whose credentials are empty is not built. Secrets come from
// files or the environment, never from flags alone (they show in ps).
type Config struct {
	// Timeout bounds one request to a vendor, answer included (default
	// 10 s).
	Timeout time.Duration
	// HTTPClient carries the requests (its Timeout and redirect policy
	// are replaced); nil: a default client.
	HTTPClient *http.Client
	// Now is the clock of signatures and tokens; nil: time.Now.
	Now func() time.Time

	// Group robots need nothing but their target's key and secret, so
	// they are always built; these only move their base URLs.
	WeComRobot RobotConfig
	DingTalk   RobotConfig
	Feishu     RobotConfig

	WeComApp WeComAppConfig // built when CorpID is set
	Aliyun   AliyunConfig   // SMS when SignName+SMSTemplate, voice when VoiceTemplate
	Tencent  TencentConfig  // SMS when SMSAppID+SignName+SMSTemplate, voice when VoiceAppID+VoiceTemplate
	WebPush  WebPushConfig  // built when Keys is set
}

func (c Config) wecomApp() bool { return c.WeComApp.CorpID != "" }
func (c Config) aliyunSMS() bool {
	return c.Aliyun.AccessKeyID != "" && c.Aliyun.SignName != "" && c.Aliyun.SMSTemplate != ""
}
func (c Config) aliyunVoice() bool { return c.Aliyun.AccessKeyID != "" && c.Aliyun.VoiceTemplate != "" }
func (c Config) tencentSMS() bool {
	return c.Tencent.SecretID != "" && c.Tencent.SMSAppID != "" && c.Tencent.SignName != "" && c.Tencent.SMSTemplate != ""
}
func (c Config) tencentVoice() bool {
	return c.Tencent.SecretID != "" && c.Tencent.VoiceAppID != "" && c.Tencent.VoiceTemplate != ""
}

// Check reports a vendor configured by halves (an AccessKey without its
// secret, SMS credentials without a template, a base URL that is not a
// URL), so the server refuses to start rather than fail at 3 a.m.
func (c Config) Check() error {
	var errs []error
	bad := func(s string) { errs = append(errs, errors.New(s)) }
	for _, u := range []struct{ name, v string }{
		{"wecom robot base URL", c.WeComRobot.BaseURL}, {"dingtalk base URL", c.DingTalk.BaseURL},
		{"feishu base URL", c.Feishu.BaseURL}, {"wecom app base URL", c.WeComApp.BaseURL},
		{"aliyun base URL", c.Aliyun.BaseURL}, {"aliyun voice base URL", c.Aliyun.VoiceBaseURL},
		{"tencent base URL", c.Tencent.BaseURL}, {"tencent voice base URL", c.Tencent.VoiceBaseURL},
	} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http") {
			bad(u.name + " is not an http(s) URL")
		}
	}
	if c.WeComApp.CorpID != "" && (c.WeComApp.CorpSecret == "" || c.WeComApp.AgentID == 0) {
		bad("wecom app: corp id without its secret or agent id")
	}
	a := c.Aliyun
	if (a.AccessKeyID == "") != (a.AccessKeySecret == "") {
		bad("aliyun: AccessKey id and secret go together")
	}
	if a.AccessKeyID != "" && !c.aliyunSMS() && !c.aliyunVoice() {
		bad("aliyun: an AccessKey but neither SMS (sign name and template) nor voice (TTS template)")
	}
	if a.AccessKeyID != "" && (a.SignName != "") != (a.SMSTemplate != "") {
		bad("aliyun sms: sign name and template go together")
	}
	t := c.Tencent
	if (t.SecretID == "") != (t.SecretKey == "") {
		bad("tencent: SecretId and SecretKey go together")
	}
	if t.SecretID != "" && !c.tencentSMS() && !c.tencentVoice() {
		bad("tencent: a key but neither SMS (app id, sign name, template) nor voice (app id, template)")
	}
	for _, p := range [][]string{a.SMSParams, a.VoiceParams, t.SMSParams, t.VoiceParams} {
		for _, n := range p {
			if !slices.Contains(TemplateFields, n) {
				bad("template parameter " + n + " is not one of " + strings.Join(TemplateFields, ", "))
			}
		}
	}
	if c.WebPush.Keys != nil {
		s := c.WebPush.Subject
		if !strings.HasPrefix(s, "mailto:") && !strings.HasPrefix(s, "https://") {
			bad("web push: the subject must be mailto: or https:// (push services refuse a push without it)")
		}
	}
	return errors.Join(errs...)
}

// New builds the channels cfg configures: the group robots and the
// webhook always; e-mail when mailer is not nil; Telegram when telegram
// is not nil; the WeCom application, the SMS and voice vendors and Web
// Push when their credentials are set. It does not check cfg (Check
// does) and makes no request.
func New(cfg Config, mailer Mailer, telegram TelegramSender) Set {
	s := Set{
		WeComRobot: NewWeComRobot(cfg.WeComRobot, &cfg),
		DingTalk:   NewDingTalk(cfg.DingTalk, &cfg),
		Feishu:     NewFeishu(cfg.Feishu, &cfg),
		Webhook:    NewWebhook(&cfg),
	}
	if !isNil(mailer) {
		s[Email] = NewEmail(mailer)
	}
	if !isNil(telegram) {
		s[Telegram] = NewTelegram(telegram)
	}
	if cfg.wecomApp() {
		s[WeComApp] = NewWeComApp(cfg.WeComApp, &cfg)
	}
	if cfg.aliyunSMS() {
		s[SMSAliyun] = NewAliyunSMS(cfg.Aliyun, &cfg)
	}
	if cfg.aliyunVoice() {
		s[VoiceAliyun] = NewAliyunVoice(cfg.Aliyun, &cfg)
	}
	if cfg.tencentSMS() {
		s[SMSTencent] = NewTencentSMS(cfg.Tencent, &cfg)
	}
	if cfg.tencentVoice() {
		s[VoiceTencent] = NewTencentVoice(cfg.Tencent, &cfg)
	}
	if cfg.WebPush.Keys != nil {
		s[WebPush] = NewWebPush(cfg.WebPush, &cfg)
	}
	return s
}

// isNil reports a nil interface or an interface holding a nil pointer
// (a nil *mail.Sender passed as a Mailer).
func isNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
