package alert_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/sim/alertsim"
)

// startSim runs a simulator with every vendor account for the test.
func startSim(t *testing.T) (*alertsim.Sim, alert.Config) { return startSimB(t) }

func startSimB(t testing.TB) (*alertsim.Sim, alert.Config) {
	t.Helper()
	s, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cfg, err := s.Provision()
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Check(); err != nil {
		t.Fatalf("the provisioned config does not check: %v", err)
	}
	return s, cfg
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func msg() alert.Message {
	return alert.Message{
		Reason: "urgent", School: "第一实验中学", SchoolEN: "No. 1 Experimental School",
		AliasZH: "蓝狐", AliasEN: "Blue Fox",
		Text:   "紧急报告「蓝狐」— 第一实验中学 — 请打开收件箱\nUrgent report Blue Fox at No. 1 Experimental School — open the inbox",
		Link:   "https://hotline.example.cn/a/7KQ2M9XFH3",
		Urgent: true, Rung: 1,
	}
}

// targets makes one target of every vendor kind at the simulator.
func targets(t *testing.T, s *alertsim.Sim, cfg alert.Config) map[alert.Kind]alert.Target {
	t.Helper()
	push, err := s.NewPushSubscription(cfg.WebPush.Keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return map[alert.Kind]alert.Target{
		alert.WeComRobot:   s.NewWeComRobot(),
		alert.WeComApp:     s.AddWeComUser(alertsim.SimWeComCorpID, "zhang.wei"),
		alert.DingTalk:     s.NewDingTalkRobot(),
		alert.Feishu:       s.NewFeishuBot(),
		alert.SMSAliyun:    {Kind: alert.SMSAliyun, Address: "138 0013 8000"},
		alert.SMSTencent:   {Kind: alert.SMSTencent, Address: "+8613900139000"},
		alert.VoiceAliyun:  {Kind: alert.VoiceAliyun, Address: "13700137000"},
		alert.VoiceTencent: {Kind: alert.VoiceTencent, Address: "+86 136 0013 6000"},
		alert.Webhook:      s.NewWebhook(),
		alert.WebPush:      push,
	}
}

// simTarget is the Target the simulator records for t.
func simTarget(t alert.Target) string {
	switch t.Kind {
	case alert.WebPush:
		return alertsim.PushID(t)
	case alert.Webhook:
		return t.Address[strings.LastIndexByte(t.Address, '/')+1:]
	}
	a, _ := alert.Normalize(t.Kind, t.Address)
	return a
}

func TestEveryChannelDelivers(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	m := msg()
	for kind, to := range targets(t, s, cfg) {
		t.Run(string(kind), func(t *testing.T) {
			if err := set.Send(ctx(t), to, m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			r, err := s.Wait(ctx(t), func(r alertsim.Request) bool { return r.Kind == kind && r.Target == simTarget(to) })
			if err != nil {
				t.Fatalf("the simulator received nothing for %s: %v", kind, err)
			}
			for _, want := range []string{m.AliasZH, m.School} {
				if !strings.Contains(r.Text, want) {
					t.Errorf("text %q lacks %q", r.Text, want)
				}
			}
			switch kind {
			case alert.SMSAliyun, alert.SMSTencent:
				if !strings.HasPrefix(r.Text, "【Hotline热线】紧急") {
					t.Errorf("SMS %q: want the sign and the urgent template", r.Text)
				}
			case alert.VoiceAliyun, alert.VoiceTencent:
			case alert.WeComApp:
				if !strings.Contains(r.Text, m.Link) {
					t.Errorf("text %q lacks the link", r.Text)
				}
			case alert.Webhook, alert.WebPush:
				if r.Link != m.Link || !r.Urgent {
					t.Errorf("link %q urgent %t, want %q and urgent", r.Link, r.Urgent, m.Link)
				}
			default:
				if !strings.Contains(r.Text, m.Link) || !r.Urgent {
					t.Errorf("text %q urgent %t: want the link and @all", r.Text, r.Urgent)
				}
			}
		})
	}
}

// TestNoContentReachesAVendor is the canary: every string field of the
// Message other than the text, the link, the aliases and the school names
// is a canary, and no vendor body or URL may carry one; SMS and voice
// bodies may not carry the text either (templates take the alias and the
// school only).
func TestNoContentReachesAVendor(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	m := msg()
	m.Reason = "CANARY-REASON-7f3a"
	m.Text = "CANARY-TEXT-91bc 紧急报告「蓝狐」"
	for kind, to := range targets(t, s, cfg) {
		if err := set.Send(ctx(t), to, m); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	got := s.Received()
	if len(got) != 10 {
		t.Fatalf("the simulator accepted %d requests, want 10 (refused: %v)", len(got), s.Refused())
	}
	for _, r := range append(got, s.Refused()...) {
		wire := string(r.Body) + r.URL
		if strings.Contains(wire, "CANARY-REASON") {
			t.Errorf("%s carried the reason: %s", r.Kind, wire)
		}
		switch r.Kind {
		case alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent:
			if strings.Contains(wire, "CANARY-TEXT") || strings.Contains(wire, "hotline.example.cn") {
				t.Errorf("%s carried the text or the link: %s", r.Kind, wire)
			}
		}
	}
}

// TestSignaturesAreVerified: a wrong secret is refused by the simulator
// with the vendor's code, and the channel reports a permanent error whose
// reason holds no key, secret or number.
func TestSignaturesAreVerified(t *testing.T) {
	s, cfg := startSim(t)
	tg := targets(t, s, cfg)
	wrongKeys, err := alert.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	bad := func(f func(*alert.Config)) alert.Set { c := cfg; f(&c); return alert.New(c, nil, nil) }
	cases := []struct {
		name string
		set  alert.Set
		to   alert.Target
		code string
	}{
		{"dingtalk wrong secret", alert.New(cfg, nil, nil), withSecret(tg[alert.DingTalk], "SECnot-the-secret"), "310000"},
		{"feishu wrong secret", alert.New(cfg, nil, nil), withSecret(tg[alert.Feishu], "not-the-secret"), "19021"},
		{"wecom robot unknown key", alert.New(cfg, nil, nil), alert.Target{Kind: alert.WeComRobot, Address: "00000000-1111-2222-3333-444444444444"}, "93000"},
		{"dingtalk unknown token", alert.New(cfg, nil, nil), alert.Target{Kind: alert.DingTalk, Address: strings.Repeat("ab", 32), Secret: "SECx"}, "300001"},
		{"feishu unknown hook", alert.New(cfg, nil, nil), alert.Target{Kind: alert.Feishu, Address: "00000000-1111-2222-3333-444444444444", Secret: "x"}, "19001"},
		{"webhook wrong secret", alert.New(cfg, nil, nil), withSecret(tg[alert.Webhook], "0123456789abcdef-wrong"), "401"},
		{"aliyun wrong AccessKey secret", bad(func(c *alert.Config) { c.Aliyun.AccessKeySecret = "wrong" }), tg[alert.SMSAliyun], "SignatureDoesNotMatch"},
		{"aliyun unknown AccessKey", bad(func(c *alert.Config) { c.Aliyun.AccessKeyID = "LTAIunknown" }), tg[alert.VoiceAliyun], "InvalidAccessKeyId.NotFound"},
		{"tencent wrong SecretKey", bad(func(c *alert.Config) { c.Tencent.SecretKey = "wrong" }), tg[alert.SMSTencent], "AuthFailure.SignatureFailure"},
		{"tencent wrong SecretKey voice", bad(func(c *alert.Config) { c.Tencent.SecretKey = "wrong" }), tg[alert.VoiceTencent], "AuthFailure.SignatureFailure"},
		{"wecom app wrong secret", bad(func(c *alert.Config) { c.WeComApp.CorpSecret = "wrong" }), tg[alert.WeComApp], "40001"},
		{"webpush another server key", bad(func(c *alert.Config) { c.WebPush.Keys = wrongKeys }), tg[alert.WebPush], "403"},
		{"aliyun unapproved template", bad(func(c *alert.Config) { c.Aliyun.SMSUrgentTemplate = "SMS_999" }), tg[alert.SMSAliyun], "isv.SMS_TEMPLATE_ILLEGAL"},
		{"tencent template wants other params", bad(func(c *alert.Config) { c.Tencent.SMSParams = []string{"alias"} }), tg[alert.SMSTencent], "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.Reset()
			err := tc.set.Send(ctx(t), tc.to, msg())
			e := alertError(t, err)
			if e.Code != tc.code || !e.Permanent {
				t.Errorf("got code %q permanent %t (%v), want %q permanent", e.Code, e.Permanent, err, tc.code)
			}
			if ref := s.Refused(); len(ref) != 1 || ref[0].Code != tc.code {
				t.Errorf("the simulator refused %v, want one refusal with %s", ref, tc.code)
			}
			if len(s.Received()) != 0 {
				t.Errorf("the simulator accepted %v", s.Received())
			}
			checkSafe(t, err, tc.to)
		})
	}
}

func withSecret(t alert.Target, secret string) alert.Target { t.Secret = secret; return t }

func alertError(t *testing.T, err error) *alert.Error {
	t.Helper()
	var e *alert.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *alert.Error", err, err)
	}
	if e.Reason == "" {
		t.Errorf("error %v has no reason", e)
	}
	return e
}

// checkSafe fails if err's text holds the target's address or secret.
func checkSafe(t *testing.T, err error, to alert.Target) {
	t.Helper()
	text := err.Error()
	for _, secret := range []string{to.Address, to.Secret, simTarget(to)} {
		if len(secret) >= 6 && strings.Contains(text, secret) {
			t.Errorf("error %q quotes %q", text, secret)
		}
	}
	if strings.Contains(text, "138") || strings.Contains(text, "access_token=") || strings.Contains(text, "key=") {
		t.Errorf("error %q quotes a number or a URL", text)
	}
}

// TestVendorCodes: a vendor's error code, under HTTP 200, is a failure,
// permanent or temporary as the vendor means it.
func TestVendorCodes(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	tg := targets(t, s, cfg)
	cases := []struct {
		kind      alert.Kind
		code      string
		permanent bool
	}{
		{alert.WeComRobot, "45009", false},
		{alert.WeComRobot, "93000", true},
		{alert.WeComApp, "60020", true},
		{alert.WeComApp, "45009", false},
		{alert.DingTalk, "410100", false},
		{alert.DingTalk, "400102", true},
		{alert.DingTalk, "-1", false},
		{alert.Feishu, "11232", false},
		{alert.Feishu, "19024", true},
		{alert.SMSAliyun, "isv.MOBILE_NUMBER_ILLEGAL", true},
		{alert.SMSAliyun, "isv.BUSINESS_LIMIT_CONTROL", false},
		{alert.SMSAliyun, "isv.AMOUNT_NOT_ENOUGH", true},
		{alert.SMSAliyun, "isp.SYSTEM_ERROR", false},
		{alert.VoiceAliyun, "isv.OUT_OF_SERVICE", true},
		{alert.SMSTencent, "FailedOperation.PhoneNumberInBlacklist", true},
		{alert.SMSTencent, "LimitExceeded.PhoneNumberOneHourLimit", false},
		{alert.SMSTencent, "InvalidParameterValue.IncorrectPhoneNumber", true},
		{alert.SMSTencent, "FailedOperation.InsufficientBalanceInSmsPackage", true},
		{alert.SMSTencent, "InternalError.Timeout", false},
		{alert.VoiceTencent, "FailedOperation.InsufficientBalance", true},
		{alert.VoiceTencent, "RequestLimitExceeded", false},
		{alert.WebPush, "410", true},
		{alert.WebPush, "404", true},
		{alert.WebPush, "503", false},
		{alert.WebPush, "429", false},
		{alert.Webhook, "503", false},
		{alert.Webhook, "410", true},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind)+" "+tc.code, func(t *testing.T) {
			to := tg[tc.kind]
			s.Reset()
			s.Fail(tc.kind, simTarget(to), tc.code)
			err := set.Send(ctx(t), to, msg())
			e := alertError(t, err)
			if e.Code != tc.code || e.Permanent != tc.permanent || e.Kind != tc.kind {
				t.Errorf("got %s %q permanent %t, want %s %q permanent %t", e.Kind, e.Code, e.Permanent, tc.kind, tc.code, tc.permanent)
			}
			if len(s.Received()) != 0 {
				t.Error("a refused request was recorded as received")
			}
			checkSafe(t, err, to)
			s.Heal(tc.kind, simTarget(to))
			if err := set.Send(ctx(t), to, msg()); err != nil {
				t.Errorf("after Heal: %v", err)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	for kind, to := range targets(t, s, cfg) {
		t.Run(string(kind), func(t *testing.T) {
			s.Unreachable(kind, "")
			defer s.Heal(kind, "")
			e := alertError(t, set.Send(ctx(t), to, msg()))
			if e.Permanent || e.Code != alert.CodeNetwork {
				t.Errorf("got %q permanent %t, want %q temporary", e.Code, e.Permanent, alert.CodeNetwork)
			}
		})
	}
}

// TestTimeout: a vendor that never answers costs Config.Timeout, not the
// scheduler's pass.
func TestTimeout(t *testing.T) {
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	set := alert.New(alert.Config{Timeout: 100 * time.Millisecond, DingTalk: alert.RobotConfig{BaseURL: hang.URL}}, nil, nil)
	e := alertError(t, set.Send(ctx(t), alert.Target{Kind: alert.DingTalk, Address: strings.Repeat("ab", 32), Secret: "SECx"}, msg()))
	if e.Code != alert.CodeTimeout || e.Permanent {
		t.Errorf("got %q permanent %t, want %q temporary", e.Code, e.Permanent, alert.CodeTimeout)
	}
}

// TestNotJSON: a gateway's HTML page under 200 or 502 is a failure.
func TestNotJSON(t *testing.T) {
	for _, status := range []int{200, 502, 404} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte("<html>gateway</html>"))
		}))
		set := alert.New(alert.Config{WeComRobot: alert.RobotConfig{BaseURL: srv.URL}}, nil, nil)
		e := alertError(t, set.Send(ctx(t), alert.Target{Kind: alert.WeComRobot, Address: "00000000-1111-2222-3333-444444444444"}, msg()))
		if want := status == 404; e.Permanent != want {
			t.Errorf("HTTP %d: permanent %t, want %t", status, e.Permanent, want)
		}
		srv.Close()
	}
}

// TestWeComAppTokenRenewed: a token WeCom expired early is fetched again
// once, and the alert goes.
func TestWeComAppTokenRenewed(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	to := s.AddWeComUser(alertsim.SimWeComCorpID, "li.na")
	if err := set.Send(ctx(t), to, msg()); err != nil {
		t.Fatal(err)
	}
	s.ExpireWeComTokens()
	if err := set.Send(ctx(t), to, msg()); err != nil {
		t.Fatalf("after the token expired: %v", err)
	}
	if n := len(s.Received()); n != 2 {
		t.Errorf("received %d, want 2", n)
	}
	e := alertError(t, set.Send(ctx(t), alert.Target{Kind: alert.WeComApp, Address: "nobody"}, msg()))
	if e.Code != "81013" || !e.Permanent {
		t.Errorf("unknown member: %v, want 81013 permanent", e)
	}
}

func TestWebhookDeliveryIDDeduplicates(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	to := s.NewWebhook()
	m := msg()
	m.ID = "alert-42-rung-1"
	for range 2 {
		if err := set.Send(ctx(t), to, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.Received()); n != 1 {
		t.Errorf("the receiver recorded %d deliveries of one id, want 1", n)
	}
}

func TestWebPushGone(t *testing.T) {
	s, cfg := startSim(t)
	set := alert.New(cfg, nil, nil)
	to, err := s.NewPushSubscription(cfg.WebPush.Keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	s.Unsubscribe(alertsim.PushID(to))
	e := alertError(t, set.Send(ctx(t), to, msg()))
	if e.Code != "410" || !e.Permanent {
		t.Errorf("got %v, want 410 permanent", e)
	}
}

func TestSetNotConfigured(t *testing.T) {
	set := alert.New(alert.Config{}, nil, nil)
	if got := set.Kinds(); len(got) != 4 {
		t.Errorf("an empty config builds %v, want the three robots and the webhook", got)
	}
	for _, k := range []alert.Kind{alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent, alert.WeComApp, alert.WebPush, alert.Email, alert.Telegram} {
		e := alertError(t, set.Send(ctx(t), alert.Target{Kind: k, Address: "x"}, msg()))
		if e.Code != alert.CodeNotConfigured || !e.Permanent {
			t.Errorf("%s: %v, want not_configured permanent", k, e)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	for name, c := range map[string]alert.Config{
		"aliyun key without secret":  {Aliyun: alert.AliyunConfig{AccessKeyID: "a"}},
		"aliyun key without product": {Aliyun: alert.AliyunConfig{AccessKeyID: "a", AccessKeySecret: "b"}},
		"tencent sms without sign":   {Tencent: alert.TencentConfig{SecretID: "a", SecretKey: "b", SMSAppID: "1", SMSTemplate: "2"}},
		"wecom corp without secret":  {WeComApp: alert.WeComAppConfig{CorpID: "ww"}},
		"bad base URL":               {DingTalk: alert.RobotConfig{BaseURL: "oapi.dingtalk.com"}},
		"unknown template field":     {Aliyun: alert.AliyunConfig{AccessKeyID: "a", AccessKeySecret: "b", SignName: "s", SMSTemplate: "t", SMSParams: []string{"text"}}},
		"push without subject":       {WebPush: alert.WebPushConfig{Keys: mustKeys(t)}},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%s: Check passed", name)
		}
	}
	if err := (alert.Config{}).Check(); err != nil {
		t.Errorf("the empty config: %v", err)
	}
}

func mustKeys(t *testing.T) *alert.VAPIDKeys {
	k, err := alert.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
