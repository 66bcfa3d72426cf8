package alert

import (
	"net"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

var (
	reRobotKey  = regexp.MustCompile(`^[A-Za-z0-9_-]{8,128}$`)
	reWeComUser = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	reMainland  = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	reE164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	rePrintable = regexp.MustCompile(`^[\x21-\x7e]+$`)
)

func invalid(k Kind, reason string) *Error {
	return &Error{Kind: k, Code: CodeInvalidTarget, Permanent: true, Reason: reason}
}

// Validate checks a target before it is saved: the address's form per
// kind (phone numbers in E.164 or the mainland's 11 digits, robot keys or
// their webhook URLs, https only except for localhost) and the secret the
// kind needs. Its error is an *Error whose Reason can be shown on the
// form.
func Validate(k Kind, address, secret string) error {
	if _, err := Normalize(k, address); err != nil {
		return err
	}
	switch k {
	case DingTalk:
		if !strings.HasPrefix(secret, "SEC") || !rePrintable.MatchString(secret) || len(secret) > 128 {
			return invalid(k, "钉钉加签密钥应以 SEC 开头（机器人安全设置 → 加签）/ the DingTalk signing secret starts with SEC (robot security settings → signing)")
		}
	case Feishu:
		if !rePrintable.MatchString(secret) || len(secret) > 128 {
			return invalid(k, "请填写飞书机器人的签名校验密钥 / enter the Feishu bot's signing secret")
		}
	case Webhook:
		if utf8.RuneCountInString(secret) < 16 || len(secret) > 256 {
			return invalid(k, "Webhook 签名密钥至少 16 个字符 / the webhook signing secret needs at least 16 characters")
		}
	}
	return nil
}

// Normalize returns the canonical form of an address, the one to store:
// a phone number in E.164 (+8613812345678), a robot's key alone when its
// whole webhook URL was pasted, a push subscription as compact JSON.
func Normalize(k Kind, address string) (string, error) {
	a := strings.TrimSpace(address)
	if a == "" {
		return "", invalid(k, "地址为空 / empty address")
	}
	if len(a) > 4096 || !utf8.ValidString(a) {
		return "", invalid(k, "地址无效 / invalid address")
	}
	switch k {
	case Telegram:
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id == 0 {
			return "", invalid(k, "Telegram 会话 ID 无效 / invalid Telegram chat id")
		}
		return strconv.FormatInt(id, 10), nil
	case Email:
		addr, err := netmail.ParseAddress(a)
		if err != nil || addr.Address != a || len(a) > 254 || !strings.Contains(a, "@") {
			return "", invalid(k, "电子邮件地址无效 / invalid e-mail address")
		}
		return a, nil
	case WeComRobot:
		return robotKey(k, a, func(u *url.URL) string {
			if strings.HasSuffix(u.Path, "/cgi-bin/webhook/send") {
				return u.Query().Get("key")
			}
			return ""
		}, "企业微信机器人 Webhook 地址或 key 无效 / invalid WeCom robot webhook URL or key")
	case DingTalk:
		return robotKey(k, a, func(u *url.URL) string {
			if strings.HasSuffix(u.Path, "/robot/send") {
				return u.Query().Get("access_token")
			}
			return ""
		}, "钉钉机器人 Webhook 地址或 access_token 无效 / invalid DingTalk robot webhook URL or access token")
	case Feishu:
		return robotKey(k, a, func(u *url.URL) string {
			const p = "/open-apis/bot/v2/hook/"
			if i := strings.Index(u.Path, p); i >= 0 {
				return u.Path[i+len(p):]
			}
			return ""
		}, "飞书机器人 Webhook 地址无效 / invalid Feishu bot webhook URL")
	case WeComApp:
		if !reWeComUser.MatchString(a) {
			return "", invalid(k, "企业微信成员账号（userid）无效 / invalid WeCom member account (userid)")
		}
		return a, nil
	case SMSAliyun, SMSTencent:
		p, ok := normalizePhone(a)
		if !ok {
			return "", invalid(k, "手机号格式不正确（11 位手机号或 +国家码） / not a valid phone number (11 digits, or + and the country code)")
		}
		return p, nil
	case VoiceAliyun, VoiceTencent:
		p, ok := normalizePhone(a)
		if !ok || !strings.HasPrefix(p, "+86") {
			return "", invalid(k, "语音通知只支持中国大陆手机号 / voice calls reach mainland mobile numbers only")
		}
		return p, nil
	case Webhook:
		u, err := checkURL(a)
		if err != nil {
			return "", invalid(k, "Webhook 地址须为 https://（本机测试可用 http://localhost）/ the webhook URL must be https:// (http://localhost for local tests)")
		}
		return u.String(), nil
	case WebPush:
		s, err := parseSubscription(a)
		if err != nil {
			return "", invalid(k, "推送订阅无效 / invalid push subscription")
		}
		return s.canonical(), nil
	}
	return "", invalid(k, "未知的渠道 / unknown channel")
}

// robotKey takes a robot's key from its pasted webhook URL (by extract)
// or as it is.
func robotKey(k Kind, a string, extract func(*url.URL) string, reason string) (string, error) {
	key := a
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			return "", invalid(k, reason)
		}
		key = extract(u)
	}
	if !reRobotKey.MatchString(key) {
		return "", invalid(k, reason)
	}
	return key, nil
}

// normalizePhone returns a phone number in E.164: 11 mainland digits
// (with or without 86, +86, 0086) become +86…; other numbers must be
// written with + and their country code.
func normalizePhone(a string) (string, bool) {
	p := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '\u00a0':
			return -1
		}
		return r
	}, a)
	switch {
	case strings.HasPrefix(p, "0086"):
		p = "+86" + p[4:]
	case len(p) == 13 && strings.HasPrefix(p, "86"):
		p = "+" + p
	case reMainland.MatchString(p):
		p = "+86" + p
	}
	if !reE164.MatchString(p) {
		return "", false
	}
	if strings.HasPrefix(p, "+86") && !reMainland.MatchString(p[3:]) {
		return "", false
	}
	return p, true
}

// checkURL accepts https URLs, and http ones to this machine only.
func checkURL(a string) (*url.URL, error) {
	u, err := url.Parse(a)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || len(a) > 2048 {
		return nil, errBadURL
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		if isLocalhost(u.Hostname()) {
			return u, nil
		}
	}
	return nil, errBadURL
}

var errBadURL = &Error{Code: CodeInvalidTarget, Permanent: true, Reason: "地址无效 / invalid address"}

func isLocalhost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Mask returns an address fit for display: 138****5678 for a phone,
// …f3a9 for a robot key, z***@school.cn for an e-mail, the host of a
// webhook or push service. An address that does not validate is ***.
func Mask(k Kind, address string) string {
	a, err := Normalize(k, address)
	if err != nil {
		return "***"
	}
	switch k {
	case SMSAliyun, SMSTencent, VoiceAliyun, VoiceTencent:
		if n, ok := strings.CutPrefix(a, "+86"); ok {
			return n[:3] + "****" + n[7:]
		}
		return a[:3] + "****" + a[len(a)-4:]
	case WeComRobot, DingTalk, Feishu:
		return "…" + a[len(a)-4:]
	case Telegram:
		if len(a) <= 3 {
			return "…"
		}
		return "…" + a[len(a)-3:]
	case Email:
		at := strings.LastIndexByte(a, '@')
		return a[:1] + "***" + a[at:]
	case WeComApp:
		if utf8.RuneCountInString(a) <= 2 {
			return "***"
		}
		return a[:2] + "***"
	case Webhook:
		u, _ := url.Parse(a)
		return u.Scheme + "://" + u.Host + "/…"
	case WebPush:
		s, _ := parseSubscription(a)
		u, _ := url.Parse(s.Endpoint)
		return u.Host
	}
	return "***"
}
