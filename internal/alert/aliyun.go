package alert

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Default Aliyun endpoints.
const (
	DefaultAliyunSMSBaseURL   = "https://dysmsapi.aliyuncs.com"
	DefaultAliyunVoiceBaseURL = "https://dyvmsapi.aliyuncs.com"
)

// AliyunConfig is an Aliyun account for 短信服务 (dysmsapi) and 语音服务
// (dyvmsapi). Use a RAM user's AccessKey that may only send SMS and
// calls. SMS is available when SignName and SMSTemplate are set; voice
// when VoiceTemplate is set.
type AliyunConfig struct {
	// BaseURL replaces https://dysmsapi.aliyuncs.com; VoiceBaseURL
	// replaces https://dyvmsapi.aliyuncs.com and defaults to BaseURL
	// when only that is set (the simulator serves both).
	BaseURL, VoiceBaseURL string

	AccessKeyID     string
	AccessKeySecret string

	SignName          string // 短信签名, approved
	SMSTemplate       string // template code, e.g. SMS_123456789
	SMSUrgentTemplate string // optional, for Message.Urgent
	// SMSParams names the template's variables, filled from the message:
	// "alias", "alias_en", "school", "school_en" or "link". Default:
	// alias, school (a template like "${school}有紧急报告「${alias}」，请立即登录处理。").
	SMSParams []string

	VoiceTemplate    string   // TTS template code, e.g. TTS_123456789
	VoiceParams      []string // as SMSParams; default alias, school ("link" cannot be spoken)
	CalledShowNumber string   // 被叫显号 (exclusive mode); empty: public number pool
	PlayTimes        int      // 1–3, default 3
}

func (c AliyunConfig) smsBase() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return DefaultAliyunSMSBaseURL
}

func (c AliyunConfig) voiceBase() string {
	switch {
	case c.VoiceBaseURL != "":
		return c.VoiceBaseURL
	case c.BaseURL != "":
		return c.BaseURL
	}
	return DefaultAliyunVoiceBaseURL
}

// acs3Encode is the percent-encoding of Aliyun's V3 signature: RFC 3986
// unreserved characters kept, everything else %XX (space %20, * %2A).
func acs3Encode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// acs3Query is the canonical query string: pairs sorted by name, both
// sides encoded by acs3Encode. The request's URL uses it as it is.
func acs3Query(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(acs3Encode(k) + "=" + acs3Encode(v))
		}
	}
	return b.String()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// acs3Authorization signs a request with ACS3-HMAC-SHA256, Aliyun's V3
// signature (https://help.aliyun.com/zh/sdk/product-overview/v3-request-structure-and-signature):
//
//	CanonicalRequest = Method \n URI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HexSHA256(body)
//	StringToSign     = "ACS3-HMAC-SHA256" \n HexSHA256(CanonicalRequest)
//	Signature        = Hex(HMAC-SHA256(AccessKeySecret, StringToSign))
//
// headers are the headers to sign, by lower-case name: host, every
// x-acs-* header, and content-type when the request has one.
func acs3Authorization(method, path, query string, headers map[string]string, body []byte, keyID, secret string) string {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, k := range names {
		ch.WriteString(k + ":" + strings.TrimSpace(headers[k]) + "\n")
	}
	signed := strings.Join(names, ";")
	canonical := method + "\n" + path + "\n" + query + "\n" + ch.String() + "\n" + signed + "\n" + sha256Hex(body)
	toSign := "ACS3-HMAC-SHA256\n" + sha256Hex([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(toSign))
	return "ACS3-HMAC-SHA256 Credential=" + keyID + ",SignedHeaders=" + signed + ",Signature=" + hex.EncodeToString(mac.Sum(nil))
}

// aliyunCodes are the codes of dysmsapi/dyvmsapi and of Aliyun's API
// gateway (https://help.aliyun.com/zh/sms/developer-reference/api-error-codes).
var aliyunCodes = map[string]vendorCode{
	"isv.MOBILE_NUMBER_ILLEGAL":       {"手机号码格式错误 / invalid phone number", true},
	"isv.BUSINESS_LIMIT_CONTROL":      {"触发号码发送频率限制 / the number's sending limit was reached", false},
	"isv.DAY_LIMIT_CONTROL":           {"触发日发送限额 / the daily sending limit was reached", true},
	"isv.SMS_TEMPLATE_ILLEGAL":        {"短信模板不存在或未审核通过 / the SMS template does not exist or is not approved", true},
	"isv.SMS_SIGNATURE_ILLEGAL":       {"短信签名不存在或未审核通过 / the SMS signature does not exist or is not approved", true},
	"isv.TEMPLATE_MISSING_PARAMETERS": {"模板变量缺失 / a template variable is missing", true},
	"isv.INVALID_PARAMETERS":          {"参数错误 / invalid parameter", true},
	"isv.PARAM_LENGTH_LIMIT":          {"变量超出长度限制 / a template variable is too long", true},
	"isv.AMOUNT_NOT_ENOUGH":           {"账户余额不足 / the account's balance is too low", true},
	"isv.OUT_OF_SERVICE":              {"业务已停机 / the service is suspended", true},
	"isv.ACCOUNT_ABNORMAL":            {"账户异常 / the account is abnormal", true},
	"isv.ACCOUNT_NOT_EXISTS":          {"账户不存在 / no such account", true},
	"isv.PRODUCT_UN_SUBSCRIPT":        {"未开通该云通信产品 / the service is not activated", true},
	"isv.BLACK_KEY_CONTROL_LIMIT":     {"内容含禁止关键字 / forbidden keyword", true},
	"isv.MOBILE_COUNT_OVER_LIMIT":     {"号码数量超限 / too many numbers", true},
	"isp.RAM_PERMISSION_DENY":         {"RAM 用户无权调用 / the RAM user lacks permission", true},
	"isp.SYSTEM_ERROR":                {"阿里云系统错误 / Aliyun system error", false},
	"SignatureDoesNotMatch":           {"阿里云签名不匹配（AccessKey Secret 错误）/ Aliyun signature mismatch (wrong AccessKey secret)", true},
	"IncompleteSignature":             {"阿里云签名不完整 / incomplete Aliyun signature", true},
	"InvalidAccessKeyId.NotFound":     {"AccessKey ID 不存在 / unknown AccessKey ID", true},
	"InvalidAccessKeyId.Inactive":     {"AccessKey 已禁用 / the AccessKey is disabled", true},
	"InvalidTimeStamp.Expired":        {"请求时间与阿里云相差过大（检查服务器时钟）/ request time too far from Aliyun's (check the server clock)", true},
	"SignatureNonceUsed":              {"签名随机数重复 / signature nonce reused", false},
	"Forbidden.RAM":                   {"RAM 用户无权调用 / the RAM user lacks permission", true},
	"Throttling":                      {"阿里云限流 / Aliyun is rate limiting", false},
	"Throttling.User":                 {"阿里云限流 / Aliyun is rate limiting", false},
	"ServiceUnavailable":              {"阿里云服务暂时不可用 / Aliyun is unavailable", false},
	"InternalError":                   {"阿里云系统错误 / Aliyun system error", false},
}

func aliyunFallback(code string) vendorCode {
	if strings.HasPrefix(code, "isp.") || strings.HasPrefix(code, "Throttling") || strings.Contains(code, "Internal") || strings.Contains(code, "Unavailable") {
		return vendorCode{"阿里云暂时无法处理 / Aliyun could not handle it now", false}
	}
	return vendorCode{"阿里云拒绝了请求 / Aliyun refused the request", true}
}

type aliyun struct {
	c    client
	kind Kind
	cfg  AliyunConfig
}

// NewAliyunSMS returns the Aliyun SMS channel (dysmsapi SendSms).
func NewAliyunSMS(cfg AliyunConfig, common *Config) Channel {
	return &aliyun{c: newClient(SMSAliyun, common), kind: SMSAliyun, cfg: cfg}
}

// NewAliyunVoice returns the Aliyun voice notification channel
// (dyvmsapi SingleCallByTts).
func NewAliyunVoice(cfg AliyunConfig, common *Config) Channel {
	return &aliyun{c: newClient(VoiceAliyun, common), kind: VoiceAliyun, cfg: cfg}
}

func (a *aliyun) Kind() Kind { return a.kind }

// call signs and sends one RPC-style API call with its parameters in the
// query string and an empty body.
func (a *aliyun) call(ctx context.Context, base, action, version string, params url.Values) error {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return a.c.configError()
	}
	query := acs3Query(params)
	headers := map[string]string{
		"host":                  u.Host,
		"x-acs-action":          action,
		"x-acs-version":         version,
		"x-acs-date":            a.c.now().UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": hex.EncodeToString(randomBytes(16)),
		"x-acs-content-sha256":  sha256Hex(nil),
	}
	auth := acs3Authorization(http.MethodPost, "/", query, headers, nil, a.cfg.AccessKeyID, a.cfg.AccessKeySecret)
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/?"+query, nil)
	if err != nil {
		return a.c.configError()
	}
	for k, v := range headers {
		if k != "host" {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	ans, err := a.c.do(ctx, req)
	if err != nil {
		return err
	}
	var r struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	}
	if err := a.c.decode(ans, &r); err != nil {
		return err
	}
	switch {
	case r.Code == "OK" && ans.status == http.StatusOK:
		return nil
	case r.Code == "" || r.Code == "OK":
		return a.c.httpError(ans.status)
	}
	return vendorError(a.kind, r.Code, aliyunCodes, aliyunFallback)
}

func (a *aliyun) Send(ctx context.Context, to Target, m Message) error {
	phone, err := Normalize(a.kind, to.Address)
	if err != nil {
		return err
	}
	// Aliyun writes mainland numbers without +86 and others with their
	// country code but no +.
	number := strings.TrimPrefix(strings.TrimPrefix(phone, "+86"), "+")
	if a.kind == VoiceAliyun {
		vars, err := json.Marshal(templateVars(a.cfg.VoiceParams, m, false))
		if err != nil {
			return a.c.configError()
		}
		p := url.Values{
			"CalledNumber": {number},
			"TtsCode":      {a.cfg.VoiceTemplate},
			"TtsParam":     {string(vars)},
			"PlayTimes":    {strconv.Itoa(playTimes(a.cfg.PlayTimes, 3))},
			"OutId":        {truncate(deliveryID(m), 15)},
		}
		if a.cfg.CalledShowNumber != "" {
			p.Set("CalledShowNumber", a.cfg.CalledShowNumber)
		}
		return a.call(ctx, a.cfg.voiceBase(), "SingleCallByTts", "2017-05-25", p)
	}
	tpl := a.cfg.SMSTemplate
	if m.Urgent && a.cfg.SMSUrgentTemplate != "" {
		tpl = a.cfg.SMSUrgentTemplate
	}
	vars, err := json.Marshal(templateVars(a.cfg.SMSParams, m, true))
	if err != nil {
		return a.c.configError()
	}
	return a.call(ctx, a.cfg.smsBase(), "SendSms", "2017-05-25", url.Values{
		"PhoneNumbers":  {number},
		"SignName":      {a.cfg.SignName},
		"TemplateCode":  {tpl},
		"TemplateParam": {string(vars)},
		"OutId":         {truncate(deliveryID(m), 64)},
	})
}

// TemplateFields are the message fields a vendor template may use.
var TemplateFields = []string{"alias", "alias_en", "school", "school_en", "link"}

// templateField returns one field of m by its template name.
func templateField(name string, m Message) string {
	switch name {
	case "alias":
		return m.AliasZH
	case "alias_en":
		return m.AliasEN
	case "school":
		return m.School
	case "school_en":
		return m.SchoolEN
	case "link":
		return m.Link
	}
	return ""
}

// templateVars maps each configured variable to its value (Aliyun's
// named variables).
func templateVars(names []string, m Message, link bool) map[string]string {
	out := map[string]string{}
	for _, n := range paramNames(names, link) {
		out[n] = templateField(n, m)
	}
	return out
}

// paramNames returns names or the default, alias and school; a voice
// template never gets the link.
func paramNames(names []string, link bool) []string {
	if len(names) == 0 {
		return []string{"alias", "school"}
	}
	var out []string
	for _, n := range names {
		if n == "link" && !link {
			continue
		}
		out = append(out, n)
	}
	return out
}

func playTimes(n, def int) int {
	if n < 1 || n > 3 {
		return def
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
