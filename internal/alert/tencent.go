package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Default Tencent Cloud endpoints.
const (
	DefaultTencentSMSBaseURL   = "https://sms.tencentcloudapi.com"
	DefaultTencentVoiceBaseURL = "https://vms.tencentcloudapi.com"
)

// TencentConfig is a Tencent Cloud account for 短信 (SMS API 2021-01-11)
// and 语音消息 (VMS API 2020-09-02). Use a sub-user's key that may only
// send. SMS is available when SMSAppID, SignName and SMSTemplate are set;
// voice when VoiceAppID and VoiceTemplate are.
type TencentConfig struct {
	// BaseURL replaces https://sms.tencentcloudapi.com; VoiceBaseURL
	// replaces https://vms.tencentcloudapi.com and defaults to BaseURL
	// when only that is set (the simulator serves both).
	BaseURL, VoiceBaseURL string

	SecretID  string
	SecretKey string
	Region    string // default ap-guangzhou

	SMSAppID          string // SmsSdkAppId, e.g. 1400006666
	SignName          string // 短信签名内容, approved
	SMSTemplate       string // TemplateId, e.g. 449739
	SMSUrgentTemplate string // optional, for Message.Urgent
	// SMSParams fills the template's {1}, {2}, … in order, from "alias",
	// "alias_en", "school", "school_en" or "link". Default: alias, school
	// (a template like "{2}有紧急报告「{1}」，请立即登录处理。").
	SMSParams []string

	VoiceAppID    string   // VoiceSdkAppid
	VoiceTemplate string   // TemplateId of an approved voice template
	VoiceParams   []string // as SMSParams; default alias, school
	PlayTimes     int      // 1–3, default 2
}

func (c TencentConfig) smsBase() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return DefaultTencentSMSBaseURL
}

func (c TencentConfig) voiceBase() string {
	switch {
	case c.VoiceBaseURL != "":
		return c.VoiceBaseURL
	case c.BaseURL != "":
		return c.BaseURL
	}
	return DefaultTencentVoiceBaseURL
}

func (c TencentConfig) region() string {
	if c.Region != "" {
		return c.Region
	}
	return "ap-guangzhou"
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// tc3Authorization signs a request with TC3-HMAC-SHA256, Tencent Cloud's
// signature v3 (https://cloud.tencent.com/document/api/382/52072):
//
//	CanonicalRequest = "POST" \n "/" \n "" \n CanonicalHeaders \n SignedHeaders \n HexSHA256(body)
//	StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/service/tc3_request \n HexSHA256(CanonicalRequest)
//	SecretSigning    = HMAC(HMAC(HMAC("TC3"+SecretKey, Date), service), "tc3_request")
//	Signature        = Hex(HMAC(SecretSigning, StringToSign))
//
// with Date the UTC date of the timestamp. headers are the headers to
// sign by lower-case name (content-type and host at least); values are
// lower-cased as the algorithm asks.
func tc3Authorization(secretID, secretKey, service string, headers map[string]string, body []byte, ts int64) string {
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var ch strings.Builder
	for _, k := range names {
		ch.WriteString(k + ":" + strings.ToLower(strings.TrimSpace(headers[k])) + "\n")
	}
	signed := strings.Join(names, ";")
	canonical := "POST\n/\n\n" + ch.String() + "\n" + signed + "\n" + sha256Hex(body)
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	sig := hex.EncodeToString(hmacSHA256(k, toSign))
	return "TC3-HMAC-SHA256 Credential=" + secretID + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + sig
}

// tencentCodes are Tencent Cloud's codes: the common ones
// (https://cloud.tencent.com/document/api/382/52075) and SMS's and VMS's.
var tencentCodes = map[string]vendorCode{
	"AuthFailure.SignatureFailure":                             {"腾讯云签名不匹配（SecretKey 错误）/ Tencent Cloud signature mismatch (wrong SecretKey)", true},
	"AuthFailure.SecretIdNotFound":                             {"SecretId 不存在 / unknown SecretId", true},
	"AuthFailure.SignatureExpire":                              {"请求时间与腾讯云相差过大（检查服务器时钟）/ request time too far from Tencent Cloud's (check the server clock)", true},
	"AuthFailure.UnauthorizedOperation":                        {"子账号无权调用 / the sub-user lacks permission", true},
	"FailedOperation.PhoneNumberInBlacklist":                   {"号码在黑名单中（用户已退订）/ the number is blacklisted (the user unsubscribed)", true},
	"InvalidParameterValue.IncorrectPhoneNumber":               {"手机号码格式错误 / invalid phone number", true},
	"FailedOperation.SignatureIncorrectOrUnapproved":           {"短信签名不存在或未审核通过 / the SMS signature does not exist or is not approved", true},
	"FailedOperation.TemplateIncorrectOrUnapproved":            {"模板不存在或未审核通过 / the template does not exist or is not approved", true},
	"FailedOperation.TemplateParamSetNotMatchApprovedTemplate": {"模板参数与模板不符 / the parameters do not match the template", true},
	"FailedOperation.InsufficientBalanceInSmsPackage":          {"短信套餐包余量不足 / the SMS package is used up", true},
	"FailedOperation.ContainSensitiveWord":                     {"内容含敏感词 / sensitive word", true},
	"UnauthorizedOperation.SmsSdkAppIdVerifyFail":              {"SmsSdkAppId 校验失败 / SmsSdkAppId check failed", true},
	"InvalidParameterValue.TemplateParameterFormatError":       {"模板参数格式错误 / bad template parameter", true},
	"InvalidParameterValue.TemplateParameterLengthLimit":       {"模板变量超出长度限制 / a template variable is too long", true},
	"LimitExceeded.PhoneNumberThirtySecondLimit":               {"号码 30 秒内发送超限 / the number's 30-second limit was reached", false},
	"LimitExceeded.PhoneNumberOneHourLimit":                    {"号码 1 小时内发送超限 / the number's hourly limit was reached", false},
	"LimitExceeded.PhoneNumberDailyLimit":                      {"号码当日发送超限 / the number's daily limit was reached", true},
	"LimitExceeded.PhoneNumberSameContentDailyLimit":           {"号码当日相同内容超限 / the number's daily limit for this text was reached", true},
	"RequestLimitExceeded":                                     {"腾讯云限流 / Tencent Cloud is rate limiting", false},
	"InternalError":                                            {"腾讯云系统错误 / Tencent Cloud system error", false},
}

func tencentFallback(code string) vendorCode {
	if strings.HasPrefix(code, "InternalError") || strings.HasPrefix(code, "RequestLimitExceeded") ||
		strings.HasPrefix(code, "LimitExceeded") || strings.HasPrefix(code, "ResourceUnavailable") {
		return vendorCode{"腾讯云暂时无法处理 / Tencent Cloud could not handle it now", false}
	}
	return vendorCode{"腾讯云拒绝了请求 / Tencent Cloud refused the request", true}
}

type tencent struct {
	c    client
	kind Kind
	cfg  TencentConfig
}

// NewTencentSMS returns the Tencent Cloud SMS channel (SendSms).
func NewTencentSMS(cfg TencentConfig, common *Config) Channel {
	return &tencent{c: newClient(SMSTencent, common), kind: SMSTencent, cfg: cfg}
}

// NewTencentVoice returns the Tencent Cloud voice message channel
// (SendTtsVoice).
func NewTencentVoice(cfg TencentConfig, common *Config) Channel {
	return &tencent{c: newClient(VoiceTencent, common), kind: VoiceTencent, cfg: cfg}
}

func (t *tencent) Kind() Kind { return t.kind }

// tencentAnswer is {"Response": {...}} with an Error on failure.
type tencentAnswer struct {
	Response struct {
		Error *struct {
			Code    string `json:"Code"`
			Message string `json:"Message"`
		} `json:"Error"`
		SendStatusSet []struct {
			Code        string `json:"Code"`
			PhoneNumber string `json:"PhoneNumber"`
		} `json:"SendStatusSet"`
		SendStatus *struct {
			CallId string `json:"CallId"`
		} `json:"SendStatus"`
		RequestId string `json:"RequestId"`
	} `json:"Response"`
}

// call signs and posts one API 3.0 call.
func (t *tencent) call(ctx context.Context, base, service, action, version string, params any) (*tencentAnswer, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, t.c.configError()
	}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, t.c.configError()
	}
	ts := t.c.now().Unix()
	const ct = "application/json; charset=utf-8"
	auth := tc3Authorization(t.cfg.SecretID, t.cfg.SecretKey, service,
		map[string]string{"content-type": ct, "host": u.Host, "x-tc-action": action}, body, ts)
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return nil, t.c.configError()
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", auth)
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-TC-Region", t.cfg.region())
	a, err := t.c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	var ans tencentAnswer
	if err := t.c.decode(a, &ans); err != nil {
		return nil, err
	}
	if e := ans.Response.Error; e != nil {
		return nil, vendorError(t.kind, e.Code, tencentCodes, tencentFallback)
	}
	if a.status != http.StatusOK {
		return nil, t.c.httpError(a.status)
	}
	return &ans, nil
}

func (t *tencent) Send(ctx context.Context, to Target, m Message) error {
	phone, err := Normalize(t.kind, to.Address)
	if err != nil {
		return err
	}
	if t.kind == VoiceTencent {
		ans, err := t.call(ctx, t.cfg.voiceBase(), "vms", "SendTtsVoice", "2020-09-02", map[string]any{
			"TemplateId":       t.cfg.VoiceTemplate,
			"TemplateParamSet": templateList(t.cfg.VoiceParams, m, false),
			"CalledNumber":     phone,
			"VoiceSdkAppid":    t.cfg.VoiceAppID,
			"PlayTimes":        playTimes(t.cfg.PlayTimes, 2),
			"SessionContext":   deliveryID(m),
		})
		if err != nil {
			return err
		}
		if ans.Response.SendStatus == nil || ans.Response.SendStatus.CallId == "" {
			return &Error{Kind: t.kind, Code: CodeBadAnswer, Reason: reasonBadAnswer}
		}
		return nil
	}
	tpl := t.cfg.SMSTemplate
	if m.Urgent && t.cfg.SMSUrgentTemplate != "" {
		tpl = t.cfg.SMSUrgentTemplate
	}
	ans, err := t.call(ctx, t.cfg.smsBase(), "sms", "SendSms", "2021-01-11", map[string]any{
		"PhoneNumberSet":   []string{phone},
		"SmsSdkAppId":      t.cfg.SMSAppID,
		"SignName":         t.cfg.SignName,
		"TemplateId":       tpl,
		"TemplateParamSet": templateList(t.cfg.SMSParams, m, true),
		"SessionContext":   deliveryID(m),
	})
	if err != nil {
		return err
	}
	// A request can succeed while its one number fails: the number's
	// own status decides.
	if len(ans.Response.SendStatusSet) != 1 {
		return &Error{Kind: t.kind, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	if c := ans.Response.SendStatusSet[0].Code; c != "Ok" {
		return vendorError(t.kind, c, tencentCodes, tencentFallback)
	}
	return nil
}

// templateList is the values of the configured fields, in order
// (Tencent's positional {1}, {2}, …).
func templateList(names []string, m Message, link bool) []string {
	out := []string{}
	for _, n := range paramNames(names, link) {
		out = append(out, templateField(n, m))
	}
	return out
}
