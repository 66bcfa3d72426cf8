package main

import (
	"strings"

	"hotline/internal/dialog"
	"hotline/internal/inboxweb"
	"hotline/internal/throttle"
)

// openInbox serves the counselor inbox under /inbox/.
func (m *Main) openInbox() error {
	for _, p := range m.clientIP().Wide() {
		m.Logger.Warn("trusted proxy covers a whole network: any host in it can choose the client address its requests count against; list only the proxies", "trusted_proxy", p.String())
	}
	srv, err := inboxweb.New(inboxweb.Config{
		Staff: m.Staff, Triage: m.Triage, Intake: m.Intake, Broker: m.Broker, Logger: m.Logger,
		ClientIP: m.clientIP(), Secure: strings.HasPrefix(m.Config.PublicURL, "https://"), IdleTimeout: m.Config.IdleTimeout, Clock: m.Clock,
		PublicURL: m.Config.PublicURL, BotName: m.botName, WechatAccounts: m.inboxWechatAccounts,
		District: m.District, Alerts: m.Scheduler, VAPIDPublicKey: m.vapidPublic, SafetyWords: dialog.SafetyQuestion,
		Evidence: m.evidence(),
	})
	if err != nil {
		return err
	}
	m.Inbox = srv
	m.Mux.Handle("/inbox/", srv)
	m.OnClose(func() error { srv.Close(); return nil })
	return nil
}

// clientIP says how the web chat and the inbox find a request's client for
// their per-client limits: the TCP peer, or behind a trusted reverse proxy
// the address its header names.
func (m *Main) clientIP() throttle.ClientIP {
	return throttle.ClientIP{Trusted: m.Config.TrustedProxies, Header: m.Config.ProxyHeader}
}

// botName is the Telegram bot's username for t.me links: the running bot's,
// else --telegram-bot-name, else "".
func (m *Main) botName() string {
	if m.Bot != nil && m.Bot.Username() != "" {
		return m.Bot.Username()
	}
	return m.Config.TelegramBotName
}
