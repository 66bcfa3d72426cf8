package alertsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"hotline/internal/alert"
)

// ---- registration ----

// AddAliyun makes an Aliyun AccessKey.
func (s *Sim) AddAliyun(accessKeyID, secret string) {
	s.mu.Lock()
	s.aliyunKeys[accessKeyID] = secret
	s.mu.Unlock()
}

// AddAliyunSign approves an SMS signature (签名).
func (s *Sim) AddAliyunSign(name string) {
	s.mu.Lock()
	s.aliyunSigns[name] = true
	s.mu.Unlock()
}

// AddAliyunTemplate approves an SMS (SMS_…) or TTS (TTS_…) template whose
// text names its variables as ${alias}.
func (s *Sim) AddAliyunTemplate(code, text string) {
	s.mu.Lock()
	s.aliyunTpls[code] = text
	s.mu.Unlock()
}

// AddTencent makes a Tencent Cloud API key.
func (s *Sim) AddTencent(secretID, secretKey string) {
	s.mu.Lock()
	s.tcKeys[secretID] = secretKey
	s.mu.Unlock()
}

// AddTencentSMSApp makes an SMS application (SmsSdkAppId) with an
// approved signature.
func (s *Sim) AddTencentSMSApp(appID, signName string) {
	s.mu.Lock()
	s.tcSMSApps[appID] = true
	s.tcSigns[signName] = true
	s.mu.Unlock()
}

// AddTencentVoiceApp makes a voice application (VoiceSdkAppid).
func (s *Sim) AddTencentVoiceApp(appID string) {
	s.mu.Lock()
	s.tcVoiceApps[appID] = true
	s.mu.Unlock()
}

// AddTencentTemplate approves a template whose text numbers its
// parameters {1}, {2}, ….
func (s *Sim) AddTencentTemplate(id, text string) {
	s.mu.Lock()
	s.tcTpls[id] = text
	s.mu.Unlock()
}

// handleCloud serves POST / for both clouds, told apart as their gateways
// are: by the signature scheme and action headers.
func (s *Sim) handleCloud(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(auth, "TC3-HMAC-SHA256") || r.Header.Get("X-TC-Action") != "":
		s.handleTencent(w, r)
	case strings.HasPrefix(auth, "ACS3-HMAC-SHA256") || r.Header.Get("x-acs-action") != "":
		s.handleAliyun(w, r)
	default:
		http.Error(w, "unknown API", http.StatusNotFound)
	}
}

// ---- 阿里云 (ACS3-HMAC-SHA256) ----

// acsEncode is RFC 3986 percent-encoding, as Aliyun's V3 signature
// wants: only A-Z a-z 0-9 - _ . ~ stay as they are.
func acsEncode(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}

var reAliyunAuth = regexp.MustCompile(`^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$`)

type aliyunAPI struct {
	version string
	kind    alert.Kind
}

var aliyunActions = map[string]aliyunAPI{
	"SendSms":         {"2017-05-25", alert.SMSAliyun},
	"SingleCallByTts": {"2017-05-25", alert.VoiceAliyun},
}

func (s *Sim) aliyunError(w http.ResponseWriter, req Request, status int, code, msg string) {
	req.Code = code
	s.record(req, false)
	writeJSON(w, status, map[string]any{"RequestId": strings.ToUpper(uuid()), "HostId": "dysmsapi.aliyuncs.com", "Code": code, "Message": msg,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + code})
}

// aliyunVerify checks the request's ACS3 signature as Aliyun's gateway
// does; it returns the HTTP status, code and message of the refusal.
func (s *Sim) aliyunVerify(r *http.Request, body []byte) (int, string, string) {
	m := reAliyunAuth.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
	}
	s.mu.Lock()
	secret, ok := s.aliyunKeys[m[1]]
	now := s.now()
	s.mu.Unlock()
	if !ok {
		return http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
	}
	date, err := time.Parse("2006-01-02T15:04:05Z", r.Header.Get("x-acs-date"))
	if err != nil || now.Sub(date).Abs() > 15*time.Minute {
		return http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
	}
	sum := sha256.Sum256(body)
	if r.Header.Get("x-acs-content-sha256") != hex.EncodeToString(sum[:]) {
		return http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
	}
	signed := strings.Split(m[2], ";")
	need := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	for _, n := range need {
		if !contains(signed, n) {
			return http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
		}
	}
	if !sort.StringsAreSorted(signed) {
		return http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
	}
	var ch strings.Builder
	for _, n := range signed {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		ch.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			pairs = append(pairs, acsEncode(k)+"="+acsEncode(v))
		}
	}
	path := r.URL.EscapedPath()
	canonical := strings.Join([]string{r.Method, path, strings.Join(pairs, "&"), ch.String(), m[2], hex.EncodeToString(sum[:])}, "\n")
	hc := sha256.Sum256([]byte(canonical))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("ACS3-HMAC-SHA256\n" + hex.EncodeToString(hc[:])))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(m[3])) {
		return http.StatusBadRequest, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256"
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	s.mu.Lock()
	defer s.mu.Unlock()
	for n, t := range s.nonces {
		if now.Sub(t) > 15*time.Minute {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[nonce]; used || nonce == "" {
		return http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already."
	}
	s.nonces[nonce] = now
	return 0, "", ""
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

var reAliyunVar = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

// fillAliyun fills a template's ${var}s from params; missing names a
// variable without a value.
func fillAliyun(tpl string, params map[string]string) (text string, missing bool) {
	text = reAliyunVar.ReplaceAllStringFunc(tpl, func(v string) string {
		name := v[2 : len(v)-1]
		val, ok := params[name]
		if !ok {
			missing = true
		}
		return val
	})
	return text, missing
}

var reMainland = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// aliyunPhone reads an Aliyun phone number: 11 mainland digits (maybe
// after 86, +86 or 0086) or an international number with its country code
// and no +. It returns E.164.
func aliyunPhone(p string) (string, bool) {
	for _, pre := range []string{"+86", "0086"} {
		p = strings.TrimPrefix(p, pre)
	}
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		p = p[2:]
	}
	if reMainland.MatchString(p) {
		return "+86" + p, true
	}
	if len(p) >= 8 && len(p) <= 15 && strings.Trim(p, "0123456789") == "" && !strings.HasPrefix(p, "86") && p[0] != '0' {
		return "+" + p, true
	}
	return "", false
}

func (s *Sim) handleAliyun(w http.ResponseWriter, r *http.Request) {
	action := r.Header.Get("x-acs-action")
	api, ok := aliyunActions[action]
	req := Request{Kind: api.kind, URL: requestURL(r)}
	if !ok {
		req.Kind = alert.SMSAliyun
		s.aliyunError(w, req, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	if f, ok := s.faultFor(api.kind, ""); ok && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.aliyunError(w, req, http.StatusBadRequest, "isv.INVALID_PARAMETERS", "request too large")
		return
	}
	if status, code, msg := s.aliyunVerify(r, body); status != 0 {
		s.aliyunError(w, req, status, code, msg)
		return
	}
	if r.Header.Get("x-acs-version") != api.version {
		s.aliyunError(w, req, http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
		return
	}
	p := r.URL.Query()
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		form, _ := url.ParseQuery(string(body))
		for k, v := range form {
			p[k] = v
		}
	}
	number, tplCode, paramJSON := p.Get("PhoneNumbers"), p.Get("TemplateCode"), p.Get("TemplateParam")
	if api.kind == alert.VoiceAliyun {
		number, tplCode, paramJSON = p.Get("CalledNumber"), p.Get("TtsCode"), p.Get("TtsParam")
	}
	phone, ok := aliyunPhone(number)
	req.Target = phone
	if f, ok := s.faultFor(api.kind, phone); ok && f.unreachable {
		drop(w)
		return
	}
	if !ok || strings.Contains(number, ",") || (api.kind == alert.VoiceAliyun && !strings.HasPrefix(phone, "+86")) {
		req.Target = ""
		s.aliyunError(w, req, http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number")
		return
	}
	s.mu.Lock()
	tpl, tplOK := s.aliyunTpls[tplCode]
	signOK := s.aliyunSigns[p.Get("SignName")]
	s.mu.Unlock()
	if api.kind == alert.SMSAliyun && !signOK {
		s.aliyunError(w, req, http.StatusOK, "isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
		return
	}
	if !tplOK {
		code := "isv.SMS_TEMPLATE_ILLEGAL"
		if api.kind == alert.VoiceAliyun {
			code = "isv.INVALID_PARAMETERS"
		}
		s.aliyunError(w, req, http.StatusOK, code, "该账号下找不到对应模板")
		return
	}
	params := map[string]string{}
	if paramJSON != "" {
		if err := json.Unmarshal([]byte(paramJSON), &params); err != nil {
			s.aliyunError(w, req, http.StatusOK, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
			return
		}
	}
	text, missing := fillAliyun(tpl, params)
	if missing {
		s.aliyunError(w, req, http.StatusOK, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
		return
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		req.Params = append(req.Params, k+"="+params[k])
	}
	if api.kind == alert.SMSAliyun {
		text = "【" + p.Get("SignName") + "】" + text
	}
	req.Text = text
	req.Urgent = api.kind == alert.VoiceAliyun || strings.Contains(tpl, "紧急")
	if f, ok := s.faultFor(api.kind, phone); ok {
		s.aliyunError(w, req, http.StatusOK, f.code, "simulated failure")
		return
	}
	s.record(req, true)
	answer := map[string]any{"Code": "OK", "Message": "OK", "RequestId": strings.ToUpper(uuid())}
	if api.kind == alert.SMSAliyun {
		answer["BizId"] = strconv.FormatInt(s.clock().UnixNano()%1e15, 10) + "^0"
	} else {
		answer["CallId"] = strconv.FormatInt(s.clock().UnixNano()%1e12, 10) + "^1" + randomHex(4)
	}
	writeJSON(w, http.StatusOK, answer)
}

// ---- 腾讯云 (TC3-HMAC-SHA256) ----

var reTencentAuth = regexp.MustCompile(`^TC3-HMAC-SHA256 Credential=([^/]+)/([0-9]{4}-[0-9]{2}-[0-9]{2})/([a-z]+)/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

type tencentAPI struct {
	service, version string
	kind             alert.Kind
}

var tencentActions = map[string]tencentAPI{
	"SendSms":      {"sms", "2021-01-11", alert.SMSTencent},
	"SendTtsVoice": {"vms", "2020-09-02", alert.VoiceTencent},
}

// tencentError answers a request-level error: HTTP 200 with
// Response.Error, as API 3.0 does.
func (s *Sim) tencentError(w http.ResponseWriter, req Request, code, msg string) {
	req.Code = code
	s.record(req, false)
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
		"Error": map[string]string{"Code": code, "Message": msg}, "RequestId": uuid()}})
}

func hmacSum(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// tencentVerify checks the TC3 signature as Tencent's gateway does.
func (s *Sim) tencentVerify(r *http.Request, body []byte, api tencentAPI) (string, string) {
	m := reTencentAuth.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "AuthFailure.InvalidAuthorization", "Authorization is invalid."
	}
	s.mu.Lock()
	key, ok := s.tcKeys[m[1]]
	now := s.now()
	s.mu.Unlock()
	if !ok {
		return "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct."
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return "AuthFailure.SignatureExpire", "Signature expired. Timestamp and server time are too different."
	}
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	if m[2] != date || m[3] != api.service {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated because of exceeding request size limit, please use new signature method `TC3-HMAC-SHA256`."
	}
	signed := strings.Split(m[4], ";")
	if !contains(signed, "content-type") || !contains(signed, "host") || !sort.StringsAreSorted(signed) {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."
	}
	var ch strings.Builder
	for _, n := range signed {
		v := r.Header.Get(n)
		if n == "host" {
			v = r.Host
		}
		ch.WriteString(n + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	bh := sha256.Sum256(body)
	canonical := "POST\n/\n\n" + ch.String() + "\n" + m[4] + "\n" + hex.EncodeToString(bh[:])
	hc := sha256.Sum256([]byte(canonical))
	toSign := "TC3-HMAC-SHA256\n" + r.Header.Get("X-TC-Timestamp") + "\n" + date + "/" + api.service + "/tc3_request\n" + hex.EncodeToString(hc[:])
	k := hmacSum(hmacSum(hmacSum([]byte("TC3"+key), date), api.service), "tc3_request")
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSum(k, toSign))), []byte(m[5])) {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct."
	}
	return "", ""
}

var reTencentParam = regexp.MustCompile(`\{([0-9]+)\}`)

// fillTencent fills {1}, {2}, … and reports whether the count matches.
func fillTencent(tpl string, params []string) (string, bool) {
	n := 0
	for _, m := range reTencentParam.FindAllStringSubmatch(tpl, -1) {
		i, _ := strconv.Atoi(m[1])
		n = max(n, i)
	}
	if n != len(params) {
		return "", false
	}
	return reTencentParam.ReplaceAllStringFunc(tpl, func(v string) string {
		i, _ := strconv.Atoi(v[1 : len(v)-1])
		return params[i-1]
	}), true
}

var reE164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func tencentPhone(p string) bool {
	if !reE164.MatchString(p) {
		return false
	}
	return !strings.HasPrefix(p, "+86") || reMainland.MatchString(p[3:])
}

// perNumber reports whether a code is answered in SendStatusSet rather
// than as a request error.
func perNumber(code string) bool {
	return strings.HasPrefix(code, "FailedOperation.PhoneNumber") || strings.HasPrefix(code, "LimitExceeded.PhoneNumber") ||
		code == "InvalidParameterValue.IncorrectPhoneNumber"
}

func (s *Sim) handleTencent(w http.ResponseWriter, r *http.Request) {
	action := r.Header.Get("X-TC-Action")
	api, ok := tencentActions[action]
	req := Request{Kind: api.kind, URL: requestURL(r)}
	if !ok {
		req.Kind = alert.SMSTencent
		s.tencentError(w, req, "InvalidAction", "The requested action does not exist.")
		return
	}
	if f, ok := s.faultFor(api.kind, ""); ok && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.tencentError(w, req, "InvalidParameter", "request too large")
		return
	}
	if code, msg := s.tencentVerify(r, body, api); code != "" {
		s.tencentError(w, req, code, msg)
		return
	}
	if r.Header.Get("X-TC-Version") != api.version {
		s.tencentError(w, req, "InvalidParameterValue", "The Version is invalid.")
		return
	}
	if r.Header.Get("X-TC-Region") == "" {
		s.tencentError(w, req, "MissingParameter", "The request is missing a required parameter `Region`.")
		return
	}
	var p struct {
		PhoneNumberSet   []string
		SmsSdkAppId      string
		SignName         string
		TemplateId       string
		TemplateParamSet []string
		CalledNumber     string
		VoiceSdkAppid    string
		SessionContext   string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		s.tencentError(w, req, "InvalidParameter", "The request body is not valid JSON.")
		return
	}
	s.mu.Lock()
	tpl, tplOK := s.tcTpls[p.TemplateId]
	smsApp, voiceApp, signOK := s.tcSMSApps[p.SmsSdkAppId], s.tcVoiceApps[p.VoiceSdkAppid], s.tcSigns[p.SignName]
	s.mu.Unlock()
	phone := p.CalledNumber
	if api.kind == alert.SMSTencent {
		switch {
		case len(p.PhoneNumberSet) != 1:
			s.tencentError(w, req, "InvalidParameterValue.IncorrectPhoneNumber", "this simulator sends to one number at a time")
			return
		case !smsApp:
			s.tencentError(w, req, "UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId verify failed.")
			return
		case !signOK:
			s.tencentError(w, req, "FailedOperation.SignatureIncorrectOrUnapproved", "signature format error or signature not approved.")
			return
		}
		phone = p.PhoneNumberSet[0]
	} else if !voiceApp {
		s.tencentError(w, req, "UnauthorizedOperation.SdkAppIdIsDisabled", "VoiceSdkAppid is not valid.")
		return
	}
	req.Target = phone
	if f, ok := s.faultFor(api.kind, phone); ok && f.unreachable {
		drop(w)
		return
	}
	if !tplOK {
		s.tencentError(w, req, "FailedOperation.TemplateIncorrectOrUnapproved", "template format error or template not approved.")
		return
	}
	text, ok := fillTencent(tpl, p.TemplateParamSet)
	if !ok {
		s.tencentError(w, req, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "request content does not match the approved template.")
		return
	}
	req.Params = p.TemplateParamSet
	req.Text = text
	req.Urgent = api.kind == alert.VoiceTencent || strings.Contains(tpl, "紧急")
	if api.kind == alert.SMSTencent {
		req.Text = "【" + p.SignName + "】" + text
	}
	code := "Ok"
	switch f, faulty := s.faultFor(api.kind, phone); {
	case !tencentPhone(phone) || (api.kind == alert.VoiceTencent && !strings.HasPrefix(phone, "+86")):
		code = "InvalidParameterValue.IncorrectPhoneNumber"
	case faulty && (api.kind == alert.VoiceTencent || !perNumber(f.code)):
		s.tencentError(w, req, f.code, "simulated failure")
		return
	case faulty:
		code = f.code
	}
	if api.kind == alert.VoiceTencent {
		if code != "Ok" {
			s.tencentError(w, req, code, "simulated failure")
			return
		}
		s.record(req, true)
		writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
			"SendStatus": map[string]string{"CallId": uuid(), "SessionContext": p.SessionContext}, "RequestId": uuid()}})
		return
	}
	msg := "send success"
	if code != "Ok" {
		req.Code = code
		s.record(req, false)
		msg = "simulated failure"
	} else {
		s.record(req, true)
	}
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
		"SendStatusSet": []map[string]any{{"SerialNo": "2640:" + randomHex(8), "PhoneNumber": phone, "Fee": 1,
			"SessionContext": p.SessionContext, "Code": code, "Message": msg, "IsoCode": "CN"}},
		"RequestId": uuid()}})
}
