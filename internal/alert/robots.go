package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// Default vendor addresses.
const (
	DefaultWeComBaseURL    = "https://qyapi.weixin.qq.com"
	DefaultDingTalkBaseURL = "https://oapi.dingtalk.com"
	DefaultFeishuBaseURL   = "https://open.feishu.cn"
)

// RobotConfig is a group-robot vendor. Robots need no server credentials
// (the key and secret are the target's), so they are always available.
type RobotConfig struct {
	// BaseURL replaces the vendor's address (the simulator's URL in tests
	// and the demo); empty: the vendor's.
	BaseURL string
}

func (c RobotConfig) base(def string) string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	return def
}

// ---- 企业微信群机器人 ----

// weComRobot posts to a WeCom group robot's webhook.
type weComRobot struct {
	c    client
	base string
}

// NewWeComRobot returns the WeCom group robot channel.
func NewWeComRobot(cfg RobotConfig, common *Config) Channel {
	return &weComRobot{c: newClient(WeComRobot, common), base: cfg.base(DefaultWeComBaseURL)}
}

func (w *weComRobot) Kind() Kind { return WeComRobot }

// weComCodes are the group robot's and the application API's errcodes
// (https://developer.work.weixin.qq.com/document/path/90313).
var weComCodes = map[string]vendorCode{
	"-1":    {"企业微信系统繁忙 / WeCom is busy", false},
	"93000": {"机器人地址无效（key 错误或机器人已被移除）/ invalid robot key (wrong key or the robot was removed)", true},
	"45009": {"发送太频繁（每个机器人每分钟最多 20 条）/ sending too fast (20 messages a minute per robot)", false},
	"45033": {"接口并发调用超过限制 / too many concurrent calls", false},
	"45002": {"消息内容过长 / message too long", true},
	"44004": {"消息内容为空 / empty message", true},
	"40008": {"消息类型无效 / invalid message type", true},
	"40058": {"消息参数不合法 / invalid message parameter", true},
	"40001": {"企业微信应用 Secret 错误 / wrong WeCom app secret", true},
	"40013": {"企业 ID（corpid）无效 / invalid corp id", true},
	"40014": {"access_token 无效 / invalid access token", false},
	"42001": {"access_token 已过期 / access token expired", false},
	"40056": {"应用 agentid 无效 / invalid agent id", true},
	"60011": {"应用无权限给该成员发消息 / the app may not message this member", true},
	"60020": {"服务器 IP 不在企业微信可信 IP 中 / this server's IP is not trusted by WeCom", true},
	"81013": {"成员不存在或不在应用可见范围 / no such member in the app's visible range", true},
	"82001": {"未指定接收成员 / no recipient", true},
}

func weComFallback(code string) vendorCode {
	if strings.HasPrefix(code, "45") {
		return vendorCode{"企业微信限流 / WeCom is rate limiting", false}
	}
	return vendorCode{"企业微信拒绝了消息 / WeCom refused the message", true}
}

type weComAnswer struct {
	ErrCode        *int   `json:"errcode"`
	ErrMsg         string `json:"errmsg"`
	AccessToken    string `json:"access_token"`
	ExpiresIn      int    `json:"expires_in"`
	InvalidUser    string `json:"invaliduser"`
	UnlicensedUser string `json:"unlicenseduser"`
}

// check turns a WeCom answer into an error: an errcode other than 0 (or
// none at all) is a failure even under HTTP 200.
func (a *weComAnswer) check(k Kind) error {
	if a.ErrCode == nil {
		return &Error{Kind: k, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	if *a.ErrCode != 0 {
		return vendorError(k, strconv.Itoa(*a.ErrCode), weComCodes, weComFallback)
	}
	return nil
}

func (w *weComRobot) Send(ctx context.Context, to Target, m Message) error {
	key, err := Normalize(WeComRobot, to.Address)
	if err != nil {
		return err
	}
	text := map[string]any{"content": m.text()}
	if m.Urgent {
		// @all is what makes a group robot's message loud.
		text["mentioned_list"] = []string{"@all"}
	}
	body := map[string]any{"msgtype": "text", "text": text}
	a, err := w.c.postJSON(ctx, joinURL(w.base, "/cgi-bin/webhook/send?key="+url.QueryEscape(key)), body, nil)
	if err != nil {
		return err
	}
	var ans weComAnswer
	if err := w.c.decode(a, &ans); err != nil {
		return err
	}
	return ans.check(WeComRobot)
}

// ---- 钉钉自定义机器人 ----

type dingTalk struct {
	c    client
	base string
}

// NewDingTalk returns the DingTalk custom robot channel.
func NewDingTalk(cfg RobotConfig, common *Config) Channel {
	return &dingTalk{c: newClient(DingTalk, common), base: cfg.base(DefaultDingTalkBaseURL)}
}

func (d *dingTalk) Kind() Kind { return DingTalk }

// dingTalkSign is the custom robot's signature: base64 of
// HMAC-SHA256(key = secret, message = timestamp + "\n" + secret), with
// timestamp in milliseconds; the caller URL-encodes it.
func dingTalkSign(timestampMS int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestampMS, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// dingTalkCodes are the custom robot's errcodes
// (https://open.dingtalk.com/document/orgapp/custom-robot-access).
var dingTalkCodes = map[string]vendorCode{
	"-1":     {"钉钉系统繁忙 / DingTalk is busy", false},
	"310000": {"机器人安全设置校验未通过（签名、关键词或 IP）/ the robot's security check failed (signature, keyword or IP)", true},
	"300001": {"机器人 access_token 无效 / invalid robot access token", true},
	"300005": {"机器人 access_token 不存在 / unknown robot access token", true},
	"400101": {"机器人 access_token 不存在 / unknown robot access token", true},
	"400102": {"机器人已停用 / the robot is disabled", true},
	"400106": {"机器人不存在 / no such robot", true},
	"400013": {"群已解散 / the group was dissolved", true},
	"400105": {"不支持的消息类型 / unsupported message type", true},
	"410100": {"发送太频繁（每分钟最多 20 条）/ sending too fast (20 messages a minute)", false},
	"130101": {"发送太频繁（每分钟最多 20 条）/ sending too fast (20 messages a minute)", false},
	"430101": {"消息含不安全的链接 / refused: unsafe link", true},
	"430102": {"消息被内容审核拦截 / refused by content review", true},
	"430104": {"消息被内容审核拦截 / refused by content review", true},
}

func dingTalkFallback(string) vendorCode {
	return vendorCode{"钉钉拒绝了消息 / DingTalk refused the message", true}
}

func (d *dingTalk) Send(ctx context.Context, to Target, m Message) error {
	token, err := Normalize(DingTalk, to.Address)
	if err != nil {
		return err
	}
	if to.Secret == "" {
		return &Error{Kind: DingTalk, Code: CodeInvalidTarget, Permanent: true, Reason: "缺少加签密钥 / no signing secret"}
	}
	ts := d.c.now().UnixMilli()
	q := url.Values{"access_token": {token}, "timestamp": {strconv.FormatInt(ts, 10)}, "sign": {dingTalkSign(ts, to.Secret)}}
	body := map[string]any{
		"msgtype": "text",
		"text":    map[string]string{"content": m.text()},
		"at":      map[string]bool{"isAtAll": m.Urgent},
	}
	a, err := d.c.postJSON(ctx, joinURL(d.base, "/robot/send?"+q.Encode()), body, nil)
	if err != nil {
		return err
	}
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := d.c.decode(a, &ans); err != nil {
		return err
	}
	if ans.ErrCode == nil {
		return &Error{Kind: DingTalk, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	if *ans.ErrCode != 0 {
		return vendorError(DingTalk, strconv.Itoa(*ans.ErrCode), dingTalkCodes, dingTalkFallback)
	}
	return nil
}

// ---- 飞书自定义机器人 ----

type feishu struct {
	c    client
	base string
}

// NewFeishu returns the Feishu custom bot channel.
func NewFeishu(cfg RobotConfig, common *Config) Channel {
	return &feishu{c: newClient(Feishu, common), base: cfg.base(DefaultFeishuBaseURL)}
}

func (f *feishu) Kind() Kind { return Feishu }

// feishuSign is the custom bot's signature: base64 of HMAC-SHA256 keyed
// with timestamp + "\n" + secret over an empty message, timestamp in
// seconds (unlike DingTalk, the string is the key, not the message).
func feishuSign(timestamp int64, secret string) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// feishuCodes are the custom bot's codes
// (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot).
var feishuCodes = map[string]vendorCode{
	"19021": {"机器人签名校验失败（密钥错误或服务器时间偏差）/ bot signature check failed (wrong secret or clock skew)", true},
	"19022": {"请求 IP 不在机器人白名单 / this server's IP is not on the bot's allow list", true},
	"19024": {"消息不含机器人设置的关键词 / the message lacks the bot's keyword", true},
	"19001": {"机器人地址无效 / invalid bot address", true},
	"9499":  {"请求格式错误 / bad request", true},
	"11232": {"发送太频繁（限流）/ sending too fast (rate limited)", false},
}

func feishuFallback(string) vendorCode {
	return vendorCode{"飞书拒绝了消息 / Feishu refused the message", true}
}

func (f *feishu) Send(ctx context.Context, to Target, m Message) error {
	hook, err := Normalize(Feishu, to.Address)
	if err != nil {
		return err
	}
	if to.Secret == "" {
		return &Error{Kind: Feishu, Code: CodeInvalidTarget, Permanent: true, Reason: "缺少签名密钥 / no signing secret"}
	}
	ts := f.c.now().Unix()
	text := m.text()
	if m.Urgent {
		text = `<at user_id="all">所有人</at> ` + text
	}
	body := map[string]any{
		"timestamp": strconv.FormatInt(ts, 10),
		"sign":      feishuSign(ts, to.Secret),
		"msg_type":  "text",
		"content":   map[string]string{"text": text},
	}
	a, err := f.c.postJSON(ctx, joinURL(f.base, "/open-apis/bot/v2/hook/"+url.PathEscape(hook)), body, nil)
	if err != nil {
		return err
	}
	var ans struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
		// Old answers carry only StatusCode.
		StatusCode *int `json:"StatusCode"`
	}
	if err := f.c.decode(a, &ans); err != nil {
		return err
	}
	code := ans.Code
	if code == nil {
		code = ans.StatusCode
	}
	if code == nil {
		return &Error{Kind: Feishu, Code: CodeBadAnswer, Reason: reasonBadAnswer}
	}
	if *code != 0 {
		return vendorError(Feishu, strconv.Itoa(*code), feishuCodes, feishuFallback)
	}
	return nil
}
