package inboxweb

import (
	"net/url"
	"strings"
)

// WechatAccount is a WeChat official account the server runs, as the setup
// page shows it to a school admin.
type WechatAccount struct {
	// Name is the account's name in Hotline: its server URL is
	// PUBLIC/wechat/NAME.
	Name string
	// School is, for a school's own account, its school code; empty for a
	// district account, which serves every school.
	School string
	// Token is the 令牌 pasted into 公众平台 beside the server URL. It is a
	// secret shared with WeChat: the page shows it to the admins of the
	// account's own school only, never a district account's to schools.
	Token string
	// QR says whether the poster carries the account's QR code.
	QR bool
}

// wechatSetup is one account on the setup page.
type wechatSetup struct {
	Name      string
	ServerURL string
	Token     string // empty for a district account: the district keeps it
	Own       bool
	QR        bool
}

// wechatSetups lists the accounts that serve school code: its own, then
// the district's.
func (s *Server) wechatSetups(base, code string) []wechatSetup {
	if s.cfg.WechatAccounts == nil {
		return nil
	}
	var own, district []wechatSetup
	for _, a := range s.cfg.WechatAccounts() {
		w := wechatSetup{Name: a.Name, ServerURL: base + "/wechat/" + url.PathEscape(a.Name), QR: a.QR}
		switch {
		case a.School == "":
			district = append(district, w)
		case strings.EqualFold(a.School, code):
			w.Own, w.Token = true, a.Token
			own = append(own, w)
		}
	}
	return append(own, district...)
}

// wechatSetupTexts are the setup page's WeChat words, zh-CN then English.
var wechatSetupTexts = map[string][2]string{
	"setup_wechat":          {"微信公众号", "WeChat official account"},
	"setup_wechat_how":      {"学生和家长在微信里给公众号发消息就能匿名举报，对话和 Telegram 机器人一样。", "Pupils and parents report anonymously by writing to the official account in WeChat; the conversation is the same as the Telegram bot's."},
	"setup_wechat_own":      {"本校自己的公众号：举报直接送到本校。", "The school's own account: reports come straight to this school."},
	"setup_wechat_district": {"区教育局的公众号：学生在对话里选择学校。这个公众号由区教育局在公众平台配置，学校不需要填写任何东西；它的令牌由区里保管，不在这里显示。", "The district's account: reporters pick their school in the chat. The district configures this account in 公众平台; the school has nothing to enter, and its token stays with the district and is not shown here."},
	"setup_wechat_paste":    {"在微信公众平台（mp.weixin.qq.com）的「设置与开发 → 基本配置 → 服务器配置」里，填写下面的服务器地址（URL）和令牌（Token），消息加解密方式选「安全模式」，EncodingAESKey 与服务器上配置的相同。明文模式和兼容模式的消息会被拒收。", "In 公众平台 (mp.weixin.qq.com), under 设置与开发 → 基本配置 → 服务器配置 (server configuration), enter the server URL and the token below, choose 安全模式 (safe mode) for message encryption, and the same EncodingAESKey as the server's. Messages in plain or compatible mode are refused."},
	"setup_wechat_url":      {"服务器地址（URL）", "Server URL"},
	"setup_wechat_token":    {"令牌（Token）", "Token"},
	"setup_wechat_secret":   {"令牌是服务器和微信之间共用的密钥，只有管理员能看到。不要发到群里、不要截图外传；如果泄露了，请在服务器上换一个新令牌，并同时修改公众平台里的设置。", "The token is a secret shared by the server and WeChat; only admins see it. Do not post it in a group chat or share a screenshot of it; if it leaks, set a new token on the server and in 公众平台 at the same time."},
	"setup_wechat_qr":       {"海报上印有这个公众号的二维码。", "The poster carries this account's QR code."},
	"setup_wechat_no_qr":    {"海报上还没有这个公众号的二维码：在公众平台「设置与开发 → 公众号设置」下载二维码图片，放到服务器上，用 --wechat-qr（或账号文件里的 qr_image）指定它。", "The poster does not carry this account's QR code yet: download it in 公众平台 (设置与开发 → 公众号设置), put it on the server and name it with --wechat-qr (or qr_image in the accounts file)."},
	// The case page's note when a WeChat reporter cannot get a reply now
	// (the Telegram one speaks of a blocked bot).
	"unreachable_wechat": {"注意：这位报告人现在收不到回复。可能是微信的 48 小时客服窗口关了（对方超过 48 小时没有发消息），也可能对方已解除关联或取消关注了公众号。窗口关着时，回复会保存起来（最多 30 天），对方下次发消息时自动送达；如果公众号配置了通知模板，对方会收到一条不含任何内容的“有新回复”提醒。回复仍会记入案件。", "Note: this reporter cannot get replies now. WeChat's 48-hour customer-service window may be closed (they have not written for over 48 hours), or they unlinked or unfollowed the account. While the window is closed, replies are kept (up to 30 days) and go out when they next write; if the account has a notice template, they get one content-free \"new reply\" notice. A reply is still recorded in the case."},
	"setup_no_wechat":    {"服务器没有配置为本校服务的微信公众号（--wechat-appid 或 --wechat-accounts）。", "The server has no WeChat official account serving this school (--wechat-appid or --wechat-accounts)."},
}

func init() {
	for k, v := range wechatSetupTexts {
		texts[k] = v
	}
}
