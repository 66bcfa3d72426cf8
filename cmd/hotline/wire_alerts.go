package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/mail"
	"hotline/internal/store"
)

// AlertConfig is the alert vendors' accounts (issue 22): flags with
// HOTLINE_* equivalents; every secret also from the environment or from a
// file (--…-file, e.g. a systemd credential), never from a flag alone.
type AlertConfig struct {
	Timeout time.Duration

	// Base URLs of the group robots' APIs (a proxy, or the simulator).
	WeComRobotURL, DingTalkURL, FeishuURL string

	WeComAPIURL     string
	WeComCorpID     string
	WeComCorpSecret string
	WeComAgentID    int

	AliyunAPIURL, AliyunVoiceAPIURL string
	AliyunKeyID, AliyunKeySecret    string
	AliyunSignName                  string
	AliyunSMSTemplate               string
	AliyunSMSUrgentTemplate         string
	AliyunSMSParams                 string
	AliyunVoiceTemplate             string
	AliyunVoiceParams               string
	AliyunShowNumber                string

	TencentAPIURL, TencentVoiceAPIURL string
	TencentSecretID, TencentSecretKey string
	TencentRegion                     string
	TencentSMSAppID                   string
	TencentSignName                   string
	TencentSMSTemplate                string
	TencentSMSUrgentTemplate          string
	TencentSMSParams                  string
	TencentVoiceAppID                 string
	TencentVoiceTemplate              string
	TencentVoiceParams                string

	// WebPushSubject ("mailto:…" or an https URL) turns Web Push on; its
	// VAPID key pair is made once and kept, sealed, in the database.
	WebPushSubject string
}

// alertFlags registers the alert vendors' flags, for serve and demo.
func (fs *flagSet) alertFlags(c *AlertConfig) {
	fs.dur(&c.Timeout, "alert-timeout", 10*time.Second, "how long one alert request to a vendor may take")
	fs.str(&c.WeComRobotURL, "wecom-robot-url", "", "another base URL of WeCom group robots (a proxy; tests)")
	fs.str(&c.DingTalkURL, "dingtalk-url", "", "another base URL of DingTalk robots (a proxy; tests)")
	fs.str(&c.FeishuURL, "feishu-url", "", "another base URL of Feishu bots (a proxy; tests)")

	fs.str(&c.WeComCorpID, "wecom-corp-id", "", "企业微信 corp ID (企业ID); with the app's secret and agent id, alerts go to staff's WeCom accounts as app messages")
	fs.secret(&c.WeComCorpSecret, "wecom-corp-secret", "企业微信 application Secret")
	fs.integer(&c.WeComAgentID, "wecom-agent-id", 0, 0, "企业微信 application AgentId")
	fs.str(&c.WeComAPIURL, "wecom-api-url", "", "another WeCom API base URL (tests)")

	fs.str(&c.AliyunKeyID, "aliyun-access-key-id", "", "阿里云 AccessKey ID (a RAM user allowed dysms and dyvms only); enables Aliyun SMS and voice")
	fs.secret(&c.AliyunKeySecret, "aliyun-access-key-secret", "阿里云 AccessKey secret")
	fs.str(&c.AliyunSignName, "aliyun-sms-sign", "", "approved SMS signature (短信签名)")
	fs.str(&c.AliyunSMSTemplate, "aliyun-sms-template", "", "approved SMS template code, e.g. SMS_123456789, with variables ${alias} and ${school}")
	fs.str(&c.AliyunSMSUrgentTemplate, "aliyun-sms-urgent-template", "", "approved template code for urgent alerts (default: the SMS template)")
	fs.str(&c.AliyunSMSParams, "aliyun-sms-params", "", "the template's variables in order, from alias, alias_en, school, school_en, link (default alias,school)")
	fs.str(&c.AliyunVoiceTemplate, "aliyun-voice-template", "", "approved TTS template code (语音通知), e.g. TTS_123456789; enables calls on the last rungs at night")
	fs.str(&c.AliyunVoiceParams, "aliyun-voice-params", "", "the TTS template's variables (default alias,school)")
	fs.str(&c.AliyunShowNumber, "aliyun-show-number", "", "the number calls show (被叫显号), when you have one")
	fs.str(&c.AliyunAPIURL, "aliyun-api-url", "", "another Aliyun SMS API base URL (tests)")
	fs.str(&c.AliyunVoiceAPIURL, "aliyun-voice-api-url", "", "another Aliyun voice API base URL (tests)")

	fs.str(&c.TencentSecretID, "tencent-secret-id", "", "腾讯云 SecretId (a sub-account allowed sms and vms only); enables Tencent SMS and voice")
	fs.secret(&c.TencentSecretKey, "tencent-secret-key", "腾讯云 SecretKey")
	fs.str(&c.TencentRegion, "tencent-region", "", "腾讯云 region (default ap-guangzhou)")
	fs.str(&c.TencentSMSAppID, "tencent-sms-app-id", "", "SmsSdkAppId")
	fs.str(&c.TencentSignName, "tencent-sms-sign", "", "approved SMS signature (签名内容)")
	fs.str(&c.TencentSMSTemplate, "tencent-sms-template", "", "approved SMS template id, with {1} the alias and {2} the school")
	fs.str(&c.TencentSMSUrgentTemplate, "tencent-sms-urgent-template", "", "approved template id for urgent alerts (default: the SMS template)")
	fs.str(&c.TencentSMSParams, "tencent-sms-params", "", "what fills {1}, {2}, … from alias, alias_en, school, school_en, link (default alias,school)")
	fs.str(&c.TencentVoiceAppID, "tencent-voice-app-id", "", "VoiceSdkAppid; with a voice template, enables calls on the last rungs at night")
	fs.str(&c.TencentVoiceTemplate, "tencent-voice-template", "", "approved voice template id")
	fs.str(&c.TencentVoiceParams, "tencent-voice-params", "", "what fills the voice template (default alias,school)")
	fs.str(&c.TencentAPIURL, "tencent-api-url", "", "another Tencent SMS API base URL (tests)")
	fs.str(&c.TencentVoiceAPIURL, "tencent-voice-api-url", "", "another Tencent voice API base URL (tests)")

	fs.str(&c.WebPushSubject, "webpush-subject", "", "turns on Web Push to installed inboxes: how push services reach you, mailto:you@example.cn or an https URL")
}

func params(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// vendorConfig is the alert package's configuration (without the Web Push
// keys, which come from the database).
func (c *AlertConfig) vendorConfig() alert.Config {
	return alert.Config{
		Timeout:    c.Timeout,
		WeComRobot: alert.RobotConfig{BaseURL: c.WeComRobotURL},
		DingTalk:   alert.RobotConfig{BaseURL: c.DingTalkURL},
		Feishu:     alert.RobotConfig{BaseURL: c.FeishuURL},
		WeComApp:   alert.WeComAppConfig{BaseURL: c.WeComAPIURL, CorpID: c.WeComCorpID, CorpSecret: c.WeComCorpSecret, AgentID: int64(c.WeComAgentID)},
		Aliyun: alert.AliyunConfig{BaseURL: c.AliyunAPIURL, VoiceBaseURL: c.AliyunVoiceAPIURL, AccessKeyID: c.AliyunKeyID, AccessKeySecret: c.AliyunKeySecret,
			SignName: c.AliyunSignName, SMSTemplate: c.AliyunSMSTemplate, SMSUrgentTemplate: c.AliyunSMSUrgentTemplate, SMSParams: params(c.AliyunSMSParams),
			VoiceTemplate: c.AliyunVoiceTemplate, VoiceParams: params(c.AliyunVoiceParams), CalledShowNumber: c.AliyunShowNumber},
		Tencent: alert.TencentConfig{BaseURL: c.TencentAPIURL, VoiceBaseURL: c.TencentVoiceAPIURL, SecretID: c.TencentSecretID, SecretKey: c.TencentSecretKey,
			Region: c.TencentRegion, SMSAppID: c.TencentSMSAppID, SignName: c.TencentSignName, SMSTemplate: c.TencentSMSTemplate,
			SMSUrgentTemplate: c.TencentSMSUrgentTemplate, SMSParams: params(c.TencentSMSParams), VoiceAppID: c.TencentVoiceAppID,
			VoiceTemplate: c.TencentVoiceTemplate, VoiceParams: params(c.TencentVoiceParams)},
		WebPush: alert.WebPushConfig{Subject: c.WebPushSubject},
	}
}

// vapidKey is the name of the shared Web Push key pair in alert_keys.
const vapidKey = "vapid"

// vapidKeys loads the Web Push key pair every node shares, making it
// once: the first node to need it stores it, sealed under the server key.
func (m *Main) vapidKeys(ctx context.Context) (*alert.VAPIDKeys, error) {
	const row = "alert-keys|" + vapidKey
	sealed, err := m.DB.AlertKey(ctx, vapidKey)
	if err != nil {
		return nil, err
	}
	if sealed == nil {
		k, err := alert.GenerateVAPIDKeys()
		if err != nil {
			return nil, err
		}
		b, err := k.MarshalBinary()
		if err != nil {
			return nil, err
		}
		mine, err := m.Vault.SealServerFor("vapid", row, b)
		clear(b)
		if err != nil {
			return nil, err
		}
		if err := m.DB.Update(ctx, func(tx *store.Tx) error {
			sealed, err = tx.PutAlertKey(vapidKey, mine)
			return err
		}); err != nil {
			return nil, err
		}
	}
	b, err := m.Vault.OpenServerFor("vapid", row, sealed)
	if err != nil {
		return nil, fmt.Errorf("web push key: %w", err)
	}
	defer clear(b)
	return alert.ParseVAPIDKeys(b)
}

// openAlerts builds the alert channels this server has accounts for, and
// the scheduler that sends through them (it runs later, on the leader; any
// node sends test alerts). Telegram joins when the bot opens.
func (m *Main) openAlerts(ctx context.Context) error {
	cfg := m.Config.Alerts.vendorConfig()
	if m.AlertVendors != nil {
		timeout := cfg.Timeout
		cfg = *m.AlertVendors
		cfg.Timeout = timeout
	}
	if cfg.WebPush.Subject != "" && cfg.WebPush.Keys == nil {
		keys, err := m.vapidKeys(ctx)
		if err != nil {
			return err
		}
		cfg.WebPush.Keys = keys
	}
	if err := cfg.Check(); err != nil {
		return fmt.Errorf("alert channels: %w", err)
	}
	var mailer alert.Mailer
	if m.Config.SMTPAddr != "" {
		s, err := mail.New(mail.Config{Addr: m.Config.SMTPAddr, From: m.Config.SMTPFrom, User: m.Config.SMTPUser, Password: m.Config.SMTPPass})
		if err != nil {
			return fmt.Errorf("alert e-mail: %w", err)
		}
		mailer = s
	}
	if cfg.WebPush.Keys != nil {
		m.vapidPublic = cfg.WebPush.Keys.PublicKey()
	}
	m.openScheduler(alert.New(cfg, mailer, nil))
	m.setAlertKinds()
	return nil
}

// setAlertKinds tells the staff service which channels can send, for the
// pages and readiness.
func (m *Main) setAlertKinds() {
	kinds := map[alert.Kind]bool{}
	for k, c := range m.Scheduler.Channels {
		if c != nil {
			kinds[k] = true
		}
	}
	m.Staff.AlertKinds = kinds
}

// logAlertChannels says at start which alert channels are configured, and
// what is missing for a school in mainland China.
func (m *Main) logAlertChannels() {
	var on []string
	for _, k := range m.Scheduler.Channels.Kinds() {
		on = append(on, string(k))
	}
	m.Logger.Info("alert channels", "configured", strings.Join(on, ","))
	set := m.Scheduler.Channels
	if !set.Has(alert.SMSAliyun) && !set.Has(alert.SMSTencent) {
		m.Logger.Warn("alert channels: no SMS provider (--aliyun-… or --tencent-…): staff are reached only by group robots, WeCom, push, e-mail or Telegram")
	}
	if !set.Has(alert.VoiceAliyun) && !set.Has(alert.VoiceTencent) {
		m.Logger.Info("alert channels: no voice provider: nobody is called at night")
	}
	if !set.Has(alert.Email) {
		m.Logger.Info("alert channels: no SMTP server (--smtp-addr): e-mail addresses staff save cannot be used")
	}
	if set.Has(alert.Telegram) {
		m.Logger.Info("alert channels: Telegram does not work in mainland China; schools there need WeCom, DingTalk, Feishu or SMS")
	}
}

// warnUnready logs, at start, each school whose urgent alerts do not reach
// a person over a confirmed channel at every hour.
func (m *Main) warnUnready(ctx context.Context) {
	rs, err := m.Staff.ReadinessAll(ctx, m.DB.Clock.Now())
	if err != nil {
		m.Logger.Error("alert readiness", "err", err)
		return
	}
	for _, r := range rs {
		if r.Ready {
			continue
		}
		m.Logger.Warn("school has no working route for an urgent alert at some hours", "school", r.School.Code,
			"reachable_now", r.NowReachable, "hours_nobody_on_call", r.EmptyHours, "hours_unconfirmed", r.WeakHours)
	}
}

// readiness caches the readiness of every school for /readyz: it is public
// and must not cost a full read per request.
type readiness struct {
	mu      sync.Mutex
	at      time.Time
	schools int
	unready int // schools whose urgent alerts reach nobody now
	err     error
}

const readyzTTL = 15 * time.Second

// reset forgets the cached state: the next /readyz reads it again.
func (r *readiness) reset() {
	r.mu.Lock()
	r.at = time.Time{}
	r.mu.Unlock()
}

func (m *Main) readyState(ctx context.Context) (schools, unready int, err error) {
	r := &m.ready
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.at) < readyzTTL && !r.at.IsZero() {
		return r.schools, r.unready, r.err
	}
	rs, err := m.Staff.ReadinessAll(ctx, m.DB.Clock.Now())
	r.at, r.err, r.schools, r.unready = time.Now(), err, len(rs), 0
	for _, s := range rs {
		if !s.NowReachable {
			r.unready++
		}
	}
	return r.schools, r.unready, err
}

// handleReadyz says whether this server is ready to do its job: the
// database answers, and every school's urgent alerts reach a person over
// a confirmed channel now. It answers 503 otherwise, so monitoring pages
// the operator; load balancers should keep using /healthz (a school that
// has not set up its rota must not take the service down for the others).
// It gives counts only: which schools lack a route is for the district's
// page and the server's log, not for anyone on the Internet.
func (m *Main) handleReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := m.DB.Reader().ExecContext(r.Context(), "SELECT 1"); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	schools, unready, err := m.readyState(r.Context())
	if err != nil {
		m.Logger.Error("readyz", "err", err)
		http.Error(w, "alert readiness unavailable", http.StatusServiceUnavailable)
		return
	}
	if unready > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready: %d of %d schools have no working route for an urgent alert now\n", unready, schools)
		return
	}
	fmt.Fprintf(w, "ok: urgent alerts of all %d schools reach someone now\n", schools)
}
