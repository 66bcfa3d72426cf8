package alert_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"hotline/internal/alert"
)

func TestNormalize(t *testing.T) {
	push := `{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}`
	for _, tc := range []struct {
		kind    alert.Kind
		in, out string
	}{
		{alert.SMSAliyun, "13812345678", "+8613812345678"},
		{alert.SMSAliyun, "138 1234 5678", "+8613812345678"},
		{alert.SMSTencent, "+86 138-1234-5678", "+8613812345678"},
		{alert.SMSTencent, "008613812345678", "+8613812345678"},
		{alert.SMSTencent, "8613812345678", "+8613812345678"},
		{alert.SMSAliyun, "+85291234567", "+85291234567"},
		{alert.VoiceAliyun, "13812345678", "+8613812345678"},
		{alert.WeComRobot, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"},
		{alert.WeComRobot, " 693a91f6-7aaa-4bc4-97a0-0ec2a1fa5aaa ", "693a91f6-7aaa-4bc4-97a0-0ec2a1fa5aaa"},
		{alert.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=98975521a1b23c02cdd1a9a08c69511ddf5fa9d2ae387813d1c5348fb", "98975521a1b23c02cdd1a9a08c69511ddf5fa9d2ae387813d1c5348fb"},
		{alert.Feishu, "https://open.feishu.cn/open-apis/bot/v2/hook/2d5c7b1e-4f3a-4b1c-9e8d-0a1b2c3d4e5f", "2d5c7b1e-4f3a-4b1c-9e8d-0a1b2c3d4e5f"},
		{alert.Feishu, "https://open.larksuite.com/open-apis/bot/v2/hook/2d5c7b1e-4f3a-4b1c-9e8d-0a1b2c3d4e5f", "2d5c7b1e-4f3a-4b1c-9e8d-0a1b2c3d4e5f"},
		{alert.Webhook, "https://pingan.edu.example.cn/hooks/hotline", "https://pingan.edu.example.cn/hooks/hotline"},
		{alert.Webhook, "http://localhost:8080/hook", "http://localhost:8080/hook"},
		{alert.Webhook, "http://127.0.0.1:9/hook", "http://127.0.0.1:9/hook"},
		{alert.Email, "zhang@school.example.cn", "zhang@school.example.cn"},
		{alert.Telegram, "-1001234567890", "-1001234567890"},
		{alert.WeComApp, "zhang.wei", "zhang.wei"},
		{alert.WebPush, push, push},
	} {
		got, err := alert.Normalize(tc.kind, tc.in)
		if err != nil || got != tc.out {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tc.kind, tc.in, got, err, tc.out)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, tc := range []struct {
		kind            alert.Kind
		address, secret string
	}{
		{alert.SMSAliyun, "1381234567", ""},                  // 10 digits
		{alert.SMSAliyun, "12812345678", ""},                 // no such mobile prefix
		{alert.SMSTencent, "+86 010 1234 5678", ""},          // a landline
		{alert.SMSTencent, "138123456789012345", ""},         // too long
		{alert.SMSTencent, "+0123456789", ""},                // no country code starts with 0
		{alert.VoiceTencent, "+85291234567", ""},             // voice reaches the mainland only
		{alert.WeComRobot, "https://example.com/?key=", ""},  // no key
		{alert.WeComRobot, "short", ""},                      // too short a key
		{alert.WeComRobot, "key with spaces in it", ""},      //
		{alert.DingTalk, strings.Repeat("ab", 32), ""},       // no secret
		{alert.DingTalk, strings.Repeat("ab", 32), "abcdef"}, // not SEC…
		{alert.Feishu, "2d5c7b1e-4f3a-4b1c-9e8d-0a1b2c3d4e5f", ""},
		{alert.Webhook, "http://pingan.edu.example.cn/hook", "0123456789abcdef"}, // http to elsewhere
		{alert.Webhook, "https://user:pw@pingan.example.cn/hook", "0123456789abcdef"},
		{alert.Webhook, "ftp://pingan.example.cn/hook", "0123456789abcdef"},
		{alert.Webhook, "https://pingan.example.cn/hook", "short"},
		{alert.Email, "Zhang <zhang@school.example.cn>", ""},
		{alert.Email, "zhang@school.example.cn\r\nBcc: x@y.z", ""},
		{alert.Telegram, "abc", ""},
		{alert.Telegram, "0", ""},
		{alert.WeComApp, "张伟", ""},
		{alert.WebPush, `{"endpoint":"https://push.example/x","keys":{"p256dh":"AAAA","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}`, ""},
		{alert.WebPush, `{"endpoint":"http://push.example/x","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}`, ""},
		{alert.WebPush, "not json", ""},
		{alert.SMSAliyun, "", ""},
		{alert.SMSAliyun, "\xff\xfe", ""},
		{alert.Kind("pager"), "123", ""},
	} {
		err := alert.Validate(tc.kind, tc.address, tc.secret)
		if err == nil {
			t.Errorf("Validate(%s, %q, %q) passed", tc.kind, tc.address, tc.secret)
			continue
		}
		if e, ok := err.(*alert.Error); !ok || !e.Permanent || e.Reason == "" || e.Code != alert.CodeInvalidTarget {
			t.Errorf("Validate(%s, %q): %#v, want a permanent *alert.Error with a reason", tc.kind, tc.address, err)
		}
	}
	if err := alert.Validate(alert.DingTalk, strings.Repeat("ab", 32), "SEC0123456789abcdef"); err != nil {
		t.Errorf("a good DingTalk target: %v", err)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		kind          alert.Kind
		address, want string
	}{
		{alert.SMSAliyun, "13812345678", "138****5678"},
		{alert.VoiceTencent, "+8613812345678", "138****5678"},
		{alert.SMSTencent, "+85291234567", "+85****4567"},
		{alert.WeComRobot, "693a91f6-7aaa-4bc4-97a0-0ec2a1faf3a9", "…f3a9"},
		{alert.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=98975521a1b23c02cdd1a9a08c69511ddf5fa9d2ae387813d1c5348fb", "…48fb"},
		{alert.Email, "zhang@school.example.cn", "z***@school.example.cn"},
		{alert.Telegram, "123456789", "…789"},
		{alert.WeComApp, "zhang.wei", "zh***"},
		{alert.Webhook, "https://pingan.edu.example.cn/hooks/hotline?token=abc", "https://pingan.edu.example.cn/…"},
		{alert.SMSAliyun, "not a phone", "***"},
	} {
		if got := alert.Mask(tc.kind, tc.address); got != tc.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tc.kind, tc.address, got, tc.want)
		}
	}
	to := alert.Target{Kind: alert.SMSAliyun, Address: "13812345678", Secret: "s3cret"}
	if s := to.String(); strings.Contains(s, "12345678") || strings.Contains(s, "s3cret") {
		t.Errorf("Target.String() = %q shows the number or the secret", s)
	}
}

func TestKinds(t *testing.T) {
	seen := map[alert.Kind]bool{}
	for _, k := range alert.Kinds {
		if !k.Valid() || k.Label() == string(k) || seen[k] {
			t.Errorf("kind %s: valid %t label %q dup %t", k, k.Valid(), k.Label(), seen[k])
		}
		seen[k] = true
	}
	if len(seen) != 12 {
		t.Errorf("%d kinds, want 12", len(seen))
	}
	if !alert.DingTalk.Group() || alert.SMSAliyun.Group() || !alert.VoiceAliyun.Loud() {
		t.Error("Group/Loud wrong")
	}
}

func TestAsError(t *testing.T) {
	if alert.AsError(alert.SMSAliyun, nil) != nil {
		t.Error("AsError(nil) is not nil")
	}
	e := alert.AsError(alert.Webhook, errors.New("dial tcp 10.0.0.1:443: https://host/hook?token=s3cret"))
	if e.Kind != alert.Webhook || e.Permanent || strings.Contains(e.Error(), "s3cret") || strings.Contains(e.Error(), "10.0.0.1") {
		t.Errorf("AsError of a foreign error: %v", e)
	}
	orig := &alert.Error{Kind: alert.Feishu, Code: "19021", Reason: "r", Permanent: true}
	if got := alert.AsError(alert.Feishu, fmt.Errorf("send: %w", orig)); got != orig || !alert.IsPermanent(fmt.Errorf("x: %w", orig)) {
		t.Errorf("AsError of a wrapped *Error: %v", got)
	}
	if got := alert.AsError(alert.Feishu, context.DeadlineExceeded); got.Code != alert.CodeTimeout {
		t.Errorf("AsError(DeadlineExceeded) = %v", got)
	}
}
