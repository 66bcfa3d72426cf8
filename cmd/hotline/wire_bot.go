package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"hotline/bot"
	"hotline/internal/hotline"
)

// openBot starts the Telegram bot (long polling by default, webhook mode
// when a webhook URL is set), with the conversation engine every channel
// drives, and registers it as the relay's Telegram sender (startRelay
// starts the worker). Its configuration is BotConfig's with what Config
// and the services give.
func (m *Main) openBot(ctx context.Context) error {
	webhook := m.Config.TelegramWebhookURL
	if strings.HasPrefix(webhook, "/") {
		// A bare path is served under the public URL.
		webhook = m.Config.PublicURL + webhook
	}
	cfg := m.BotConfig
	cfg.Token = m.Config.TelegramToken
	cfg.APIURL = m.Config.TelegramAPIURL
	cfg.WebhookURL = webhook
	cfg.WebhookSecret = m.Config.TelegramWebhookSecret
	cfg.Username = m.Config.TelegramBotName
	cfg.Logger = m.Logger
	cfg.LinkStaff = m.Staff.LinkTelegram
	cfg.Updates = m.DB
	cfg.Lead = func(ctx context.Context, fn func(context.Context)) {
		m.Cluster.Lead(ctx, "telegram", fn)
	}
	if webhook != "" && cfg.WebhookSecret == "" && m.DB.MultiNode() {
		// Every node checks the webhook's secret, and the leader of the
		// moment tells Telegram: they must all know the same one.
		return errors.New("on PostgreSQL, webhook mode needs a webhook secret (HOTLINE_TELEGRAM_WEBHOOK_SECRET or --telegram-webhook-secret-file), the same on every node")
	}
	b, err := bot.New(ctx, cfg)
	if err != nil {
		return err
	}
	m.addSender(hotline.ChannelTelegram, b)
	if path := b.WebhookPath(); path != "" {
		m.Mux.Handle("POST "+path, b.WebhookHandler())
	}
	m.Bot = b

	m.Go(func(ctx context.Context) {
		if err := b.Run(ctx, m.Dialog); err != nil {
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
