package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/relay"
	"hotline/internal/survey"
	"hotline/internal/urgency"
)

// openBot starts the Telegram bot (long polling by default, webhook mode
// when a webhook URL is set) and registers it as the relay's Telegram
// sender (startRelay starts the worker).
func (m *Main) openBot(ctx context.Context) error {
	webhook := m.Config.TelegramWebhookURL
	if strings.HasPrefix(webhook, "/") {
		// A bare path is served under the public URL.
		webhook = m.Config.PublicURL + webhook
	}
	cfg := bot.Config{
		Token:         m.Config.TelegramToken,
		APIURL:        m.Config.TelegramAPIURL,
		WebhookURL:    webhook,
		WebhookSecret: m.Config.TelegramWebhookSecret,
		Username:      m.Config.TelegramBotName,
		Logger:        m.Logger,
		LinkStaff:     m.Staff.LinkTelegram,
		Survey:        &survey.Chats{S: m.Surveys},
		Updates:       m.DB,
		Lead: func(ctx context.Context, fn func(context.Context)) {
			m.Cluster.Lead(ctx, "telegram", fn)
		},
	}
	if webhook != "" && cfg.WebhookSecret == "" && m.DB.MultiNode() {
		// Every node checks the webhook's secret, and the leader of the
		// moment tells Telegram: they must all know the same one.
		return errors.New("on PostgreSQL, webhook mode needs a webhook secret (HOTLINE_TELEGRAM_WEBHOOK_SECRET or --telegram-webhook-secret-file), the same on every node")
	}
	if m.Relay == nil {
		m.Relay = &relay.Worker{DB: m.DB, Vault: m.Vault, Notifier: m.Cluster, Logger: m.Logger}
	}
	w := m.Relay
	if m.Tune.Bot != nil {
		m.Tune.Bot(&cfg, w)
	}
	b, err := bot.New(ctx, cfg)
	if err != nil {
		return err
	}
	m.addSender(hotline.ChannelTelegram, b)
	engine := &dialog.Engine{
		Intake:    m.Intake,
		Reporters: m.Intake,
		Schools:   m.Intake,
		Store:     intake.NewConversationStore(m.DB, m.Vault),
		Clock:     m.Clock,
		BotName:   b.Username(),
		Urgent:    urgency.Urgent,
		Unsure:    urgency.Unsure,
		Safety:    m.Intake,
	}
	if path := b.WebhookPath(); path != "" {
		m.Mux.Handle("POST "+path, b.WebhookHandler())
	}
	m.Bot = b

	m.Go(func(ctx context.Context) {
		if err := b.Run(ctx, engine); err != nil {
			m.Logger.Error("telegram bot stopped", "err", err)
		}
	})
	m.Go(func(ctx context.Context) {
		for ctx.Err() == nil {
			if err := b.SetCommands(ctx); err == nil {
				return
			} else {
				m.Logger.Warn("telegram: command menu not set yet", "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
			}
		}
	})
	m.Logger.Info("telegram bot started", "webhook", b.WebhookPath() != "")
	return nil
}
