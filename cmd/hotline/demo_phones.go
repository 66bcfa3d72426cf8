package main

import (
	"crypto/rand"
	"net"

	"hotline/internal/sim/phones"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/sim/wechatsim"
)

// The demo plays a pupil on Telegram and WeChat without accounts: it
// starts the simulators of both services in-process and points the real
// bot and the real WeChat adapter at them, through the same flags a
// deployment uses for the real services (--telegram-api-url,
// --wechat-api-url), so the code paths are production's and only the base
// URLs differ. /demo/phones is the phones' page; serve never mounts it.

// demoPhones is the demo's simulators and the page on them.
type demoPhones struct {
	tg *telegramsim.Server // nil when the demo was given a real bot
	wx *wechatsim.Server   // nil when the demo was given a real account
}

const (
	// demoWechatAccount is the simulated account's name: its callbacks
	// come to /wechat/demo. It is the demo school's own account, as a
	// school that runs one has it.
	demoWechatAccount = "demo"
	demoWechatName    = "第三中学心理热线（演示）"
	// demoBotName is the simulated bot's username. The demo's web chat
	// and poster print t.me links with it: a hyphen is never in a
	// Telegram username, so such a link, scanned with a real phone, can
	// lead to no one's bot.
	demoBotName = "hotline-demo-simulated-bot"
)

// startDemoPhones starts the simulators for the channels the demo was not
// given real accounts for, and configures Main to use them; before Open.
func startDemoPhones(m *Main) (*demoPhones, error) {
	p := &demoPhones{}
	c := &m.Config
	if c.TelegramToken == "" {
		tg, err := telegramsim.Start(telegramsim.Config{BotUsername: demoBotName, BotFirstName: "学校心理热线（演示）"})
		if err != nil {
			return nil, err
		}
		p.tg = tg
		c.TelegramToken, c.TelegramAPIURL = tg.Token(), tg.URL()
		// The bot polls the simulator: no webhook for it to post to.
		c.TelegramWebhookURL, c.TelegramBotName = "", ""
	}
	if c.WechatAppID == "" && c.WechatAccountsFile == "" {
		// A fresh account at each start: the simulator keeps nothing.
		cfg := wechatsim.Config{AppID: "wxdemo" + rand.Text()[:12], Secret: rand.Text(), Token: rand.Text(), AESKey: wechatsim.NewAESKey()}
		wx, err := wechatsim.Start(cfg)
		if err != nil {
			p.Close()
			return nil, err
		}
		p.wx = wx
		c.WechatAppID, c.WechatSecret, c.WechatToken, c.WechatAESKey = cfg.AppID, cfg.Secret, cfg.Token, cfg.AESKey
		c.WechatName, c.WechatSchool, c.WechatAPIURL = demoWechatAccount, demoSchool, wx.URL()
	}
	return p, nil
}

// Close stops the simulators.
func (p *demoPhones) Close() {
	if p.tg != nil {
		p.tg.Close()
	}
	if p.wx != nil {
		p.wx.Close()
	}
}

// routes serves the phones' page. The simulated WeChat users post their
// callbacks straight to the address this process listens on, not to the
// public URL, which may be a proxy's.
func (p *demoPhones) routes(m *Main) {
	cfg := phones.Config{Logger: m.Logger, WebChat: "/c/" + demoSchool + "?preview=1", Links: []phones.Link{
		{LabelZH: "网页聊天", LabelEN: "web chat", Href: "/c/" + demoSchool},
		{LabelZH: "网上信箱（无需 JavaScript）", LabelEN: "mailbox (no JavaScript)", Href: "/m/" + demoSchool},
		{LabelZH: "辅导老师收件箱", LabelEN: "counselor inbox", Href: "/inbox/", Note: "用户名 / username " + demoUser + " · 密码 / password " + demoPassword},
		{LabelZH: "发出的紧急提醒", LabelEN: "alerts sent", Href: "/demo/alerts"},
	}}
	if p.tg != nil {
		cfg.Telegram, cfg.TelegramStart = p.tg, "/start "+demoSchool
	}
	if p.wx != nil {
		cfg.Wechat, cfg.WechatName = p.wx, demoWechatName
		cfg.WechatURL = "http://" + loopback(m.Addr()) + "/wechat/" + demoWechatAccount
	}
	phones.New(cfg).Register(m.Mux)
}

// loopback turns a listening address on every interface into one this
// machine can dial.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}

// usePhones gives the opened Main the phones' page, and stops the
// simulators when Main closes, after the bot and the adapter that call
// them.
func (m *Main) usePhones(p *demoPhones) {
	m.phones = p
	m.OnClose(func() error { p.Close(); return nil })
}
