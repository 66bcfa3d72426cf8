package alertsim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hotline/internal/alert"
)

// ---- registration ----

// AddWeComRobot makes a WeCom group robot with this webhook key.
func (s *Sim) AddWeComRobot(key string) {
	s.mu.Lock()
	s.wecomRobots[key] = true
	s.mu.Unlock()
}

// NewWeComRobot makes a WeCom robot with a random key and returns its
// target.
func (s *Sim) NewWeComRobot() alert.Target {
	k := uuid()
	s.AddWeComRobot(k)
	return alert.Target{Kind: alert.WeComRobot, Address: k}
}

// AddDingTalkRobot makes a DingTalk custom robot whose signing secret
// (SEC…) is secret.
func (s *Sim) AddDingTalkRobot(token, secret string) {
	s.mu.Lock()
	s.dingtalk[token] = secret
	s.mu.Unlock()
}

// NewDingTalkRobot makes a DingTalk robot with a random token and secret.
func (s *Sim) NewDingTalkRobot() alert.Target {
	t, sec := randomHex(32), "SEC"+randomHex(32)
	s.AddDingTalkRobot(t, sec)
	return alert.Target{Kind: alert.DingTalk, Address: t, Secret: sec}
}

// AddFeishuBot makes a Feishu custom bot; secret "" turns its signature
// check off, as the vendor allows.
func (s *Sim) AddFeishuBot(hook, secret string) {
	s.mu.Lock()
	s.feishu[hook] = secret
	s.mu.Unlock()
}

// NewFeishuBot makes a Feishu bot with a random hook id and secret.
func (s *Sim) NewFeishuBot() alert.Target {
	h, sec := uuid(), randomHex(11)
	s.AddFeishuBot(h, sec)
	return alert.Target{Kind: alert.Feishu, Address: h, Secret: sec}
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ---- 企业微信群机器人 ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// weComErrMsgs are the errmsg texts WeCom answers with its codes.
var weComErrMsgs = map[string]string{
	"93000": "invalid webhook url, hint: [1700000000_1_sim], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
	"45009": "api freq out of limit, hint: [1700000000_2_sim]",
	"44004": "empty content, hint: [1700000000_3_sim]",
	"45002": "content size out of limit, hint: [1700000000_4_sim]",
	"40008": "invalid message type, hint: [1700000000_5_sim]",
	"40058": "invalid Request Parameter, hint: [1700000000_6_sim]",
	"40013": "invalid corpid, hint: [1700000000_7_sim]",
	"40001": "invalid credential, hint: [1700000000_8_sim]",
	"40014": "invalid access_token, hint: [1700000000_9_sim]",
	"42001": "access_token expired, hint: [1700000000_10_sim]",
	"40056": "invalid agentid, hint: [1700000000_11_sim]",
	"81013": "user & party & tag all invalid, hint: [1700000000_12_sim]",
	"60020": "not allow to access from your ip, hint: [1700000000_13_sim]",
}

// weComError answers a WeCom errcode (HTTP 200, as WeCom does).
func (s *Sim) weComError(w http.ResponseWriter, req Request, code string) {
	n, err := strconv.Atoi(code)
	if err != nil {
		n = -1
	}
	msg := weComErrMsgs[code]
	if msg == "" {
		msg = "system error"
	}
	req.Code = code
	s.record(req, false)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": n, "errmsg": msg})
}

func (s *Sim) handleWeComRobot(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	req := Request{Kind: alert.WeComRobot, Target: key, URL: requestURL(r)}
	if f, ok := s.faultFor(alert.WeComRobot, key); ok && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.weComError(w, req, "45002")
		return
	}
	s.mu.Lock()
	known := s.wecomRobots[key]
	s.mu.Unlock()
	if !known {
		s.weComError(w, req, "93000")
		return
	}
	var m struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content       string   `json:"content"`
			MentionedList []string `json:"mentioned_list"`
		} `json:"text"`
		Markdown *struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		s.weComError(w, req, "40058")
		return
	}
	switch {
	case m.MsgType == "text" && m.Text != nil:
		req.Text, req.Urgent = m.Text.Content, slices.Contains(m.Text.MentionedList, "@all")
		if len(req.Text) > 2048 {
			s.weComError(w, req, "45002")
			return
		}
	case m.MsgType == "markdown" && m.Markdown != nil:
		req.Text = m.Markdown.Content
		if len(req.Text) > 4096 {
			s.weComError(w, req, "45002")
			return
		}
	default:
		s.weComError(w, req, "40008")
		return
	}
	if strings.TrimSpace(req.Text) == "" {
		s.weComError(w, req, "44004")
		return
	}
	if f, ok := s.faultFor(alert.WeComRobot, key); ok {
		s.weComError(w, req, f.code)
		return
	}
	s.record(req, true)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// ---- 企业微信应用消息 ----

type wecomCorp struct {
	secret  string
	agentID int64
	users   map[string]bool
}

type wecomToken struct {
	corp    string
	expires time.Time
	revoked bool
}

// AddWeComCorp makes a WeCom corp with one self-built application.
func (s *Sim) AddWeComCorp(corpID, secret string, agentID int64) {
	s.mu.Lock()
	s.wecomCorps[corpID] = &wecomCorp{secret: secret, agentID: agentID, users: map[string]bool{}}
	s.mu.Unlock()
}

// AddWeComUser makes userid a member of corpID, in its application's
// visible range.
func (s *Sim) AddWeComUser(corpID, userid string) alert.Target {
	s.mu.Lock()
	if c := s.wecomCorps[corpID]; c != nil {
		c.users[userid] = true
	}
	s.mu.Unlock()
	return alert.Target{Kind: alert.WeComApp, Address: userid}
}

// ExpireWeComTokens makes every access token handed out so far answer
// 42001 (expired), as WeCom does when a token is renewed elsewhere.
func (s *Sim) ExpireWeComTokens() {
	s.mu.Lock()
	for k, t := range s.wecomTokens {
		t.revoked = true
		s.wecomTokens[k] = t
	}
	s.mu.Unlock()
}

func (s *Sim) handleWeComToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := Request{Kind: alert.WeComApp, Target: "gettoken", URL: "/cgi-bin/gettoken"}
	s.mu.Lock()
	c := s.wecomCorps[q.Get("corpid")]
	s.mu.Unlock()
	switch {
	case c == nil:
		s.weComError(w, req, "40013")
		return
	case !hmac.Equal([]byte(c.secret), []byte(q.Get("corpsecret"))):
		s.weComError(w, req, "40001")
		return
	}
	tok := randomHex(32)
	s.mu.Lock()
	s.wecomTokens[tok] = wecomToken{corp: q.Get("corpid"), expires: s.now().Add(2 * time.Hour)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
}

func (s *Sim) handleWeComApp(w http.ResponseWriter, r *http.Request) {
	req := Request{Kind: alert.WeComApp, URL: "/cgi-bin/message/send"}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.weComError(w, req, "45002")
		return
	}
	s.mu.Lock()
	tok, ok := s.wecomTokens[r.URL.Query().Get("access_token")]
	var c *wecomCorp
	if ok {
		c = s.wecomCorps[tok.corp]
	}
	expired := ok && (tok.revoked || s.now().After(tok.expires))
	s.mu.Unlock()
	switch {
	case !ok || c == nil:
		s.weComError(w, req, "40014")
		return
	case expired:
		s.weComError(w, req, "42001")
		return
	}
	var m struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		AgentID int64  `json:"agentid"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		s.weComError(w, req, "40058")
		return
	}
	req.Target = m.ToUser
	if f, ok := s.faultFor(alert.WeComApp, m.ToUser); ok && f.unreachable {
		drop(w)
		return
	}
	switch {
	case m.AgentID != c.agentID:
		s.weComError(w, req, "40056")
		return
	case m.MsgType != "text" || m.Text == nil:
		s.weComError(w, req, "40008")
		return
	case strings.TrimSpace(m.Text.Content) == "":
		s.weComError(w, req, "44004")
		return
	case len(m.Text.Content) > 2048:
		s.weComError(w, req, "45002")
		return
	}
	req.Text = m.Text.Content
	s.mu.Lock()
	known := c.users[m.ToUser]
	s.mu.Unlock()
	if !known {
		req.Code = "81013"
		s.record(req, false)
		writeJSON(w, http.StatusOK, map[string]any{"errcode": 81013, "errmsg": weComErrMsgs["81013"], "invaliduser": m.ToUser})
		return
	}
	if f, ok := s.faultFor(alert.WeComApp, m.ToUser); ok {
		s.weComError(w, req, f.code)
		return
	}
	s.record(req, true)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": "", "invalidparty": "",
		"invalidtag": "", "unlicenseduser": "", "msgid": randomHex(16), "response_code": ""})
}

// ---- 钉钉自定义机器人 ----

var dingTalkErrMsgs = map[string]string{
	"300001": "错误描述:robot 不存在；解决方案:请确认 token 是否正确；",
	"310000": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
	"410100": "send too fast, exceed 20 times per minute",
	"400102": "机器人已停用",
	"400013": "群已被解散",
	"40035":  "缺少参数 json",
}

func (s *Sim) dingTalkError(w http.ResponseWriter, req Request, code, msg string) {
	n, err := strconv.Atoi(code)
	if err != nil {
		n = -1
	}
	if msg == "" {
		msg = dingTalkErrMsgs[code]
	}
	if msg == "" {
		msg = "系统繁忙"
	}
	req.Code = code
	s.record(req, false)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": n, "errmsg": msg})
}

func (s *Sim) handleDingTalk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	token := q.Get("access_token")
	req := Request{Kind: alert.DingTalk, Target: token, URL: requestURL(r)}
	if f, ok := s.faultFor(alert.DingTalk, token); ok && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.dingTalkError(w, req, "40035", "")
		return
	}
	s.mu.Lock()
	secret, known := s.dingtalk[token]
	now := s.now()
	s.mu.Unlock()
	if !known {
		s.dingTalkError(w, req, "300001", "")
		return
	}
	if secret != "" {
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
			s.dingTalkError(w, req, "310000", "invalid timestamp")
			return
		}
		// HMAC-SHA256(key = secret, timestamp "\n" secret), base64.
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(q.Get("sign"))) {
			s.dingTalkError(w, req, "310000", "")
			return
		}
	}
	var m struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown *struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		At struct {
			IsAtAll bool `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		s.dingTalkError(w, req, "40035", "")
		return
	}
	switch {
	case m.MsgType == "text" && m.Text != nil && m.Text.Content != "":
		req.Text = m.Text.Content
	case m.MsgType == "markdown" && m.Markdown != nil && m.Markdown.Text != "" && m.Markdown.Title != "":
		req.Text = m.Markdown.Text
	default:
		s.dingTalkError(w, req, "40035", "缺少参数 "+m.MsgType)
		return
	}
	req.Urgent = m.At.IsAtAll
	if f, ok := s.faultFor(alert.DingTalk, token); ok {
		s.dingTalkError(w, req, f.code, "")
		return
	}
	s.record(req, true)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// ---- 飞书自定义机器人 ----

var feishuErrMsgs = map[string]string{
	"19001": "param invalid: incoming webhook access token invalid",
	"19021": "sign match fail or timestamp is not within one hour from current time",
	"19022": "Ip Not Allowed",
	"19024": "Key Words Not Found",
	"9499":  "Bad Request",
	"11232": "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]",
}

func (s *Sim) feishuError(w http.ResponseWriter, req Request, code string) {
	n, err := strconv.Atoi(code)
	if err != nil {
		n = 9499
	}
	msg := feishuErrMsgs[code]
	if msg == "" {
		msg = "system error"
	}
	req.Code = code
	s.record(req, false)
	writeJSON(w, http.StatusOK, map[string]any{"code": n, "msg": msg, "data": map[string]any{}})
}

func (s *Sim) handleFeishu(w http.ResponseWriter, r *http.Request) {
	hook := r.PathValue("hook")
	req := Request{Kind: alert.Feishu, Target: hook, URL: requestURL(r)}
	if f, ok := s.faultFor(alert.Feishu, hook); ok && f.unreachable {
		drop(w)
		return
	}
	body, err := readBody(r)
	req.Body = body
	if err != nil {
		s.feishuError(w, req, "9499")
		return
	}
	s.mu.Lock()
	secret, known := s.feishu[hook]
	now := s.now()
	s.mu.Unlock()
	if !known {
		s.feishuError(w, req, "19001")
		return
	}
	var m struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
		Content   *struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		s.feishuError(w, req, "9499")
		return
	}
	if secret != "" {
		ts, err := strconv.ParseInt(m.Timestamp, 10, 64)
		// HMAC-SHA256 keyed with timestamp "\n" secret, over nothing.
		mac := hmac.New(sha256.New, []byte(m.Timestamp+"\n"+secret))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > time.Hour || !hmac.Equal([]byte(want), []byte(m.Sign)) {
			s.feishuError(w, req, "19021")
			return
		}
	}
	if m.MsgType != "text" || m.Content == nil || strings.TrimSpace(m.Content.Text) == "" {
		s.feishuError(w, req, "9499")
		return
	}
	req.Text = m.Content.Text
	req.Urgent = strings.Contains(req.Text, `<at user_id="all">`)
	if f, ok := s.faultFor(alert.Feishu, hook); ok {
		s.feishuError(w, req, f.code)
		return
	}
	s.record(req, true)
	writeJSON(w, http.StatusOK, map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": map[string]any{}, "msg": "success"})
}
