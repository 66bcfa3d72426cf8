package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/relay"
)

func init() {
	registerMount("telegram", mountTelegram)
}

// telegramPart is the running bot of one Main and its relay worker.
type telegramPart struct {
	bot   *bot.Bot
	relay *relay.Worker
}

// telegramParts maps a *Main to its bot: Main's fields belong to server.go.
var telegramParts sync.Map

// tuneTelegram, when set (tests), adjusts the bot's and the relay's
// configuration before they start: shorter timeouts and backoffs.
var tuneTelegram func(*bot.Config, *relay.Worker)

// Bot returns the running Telegram bot, or nil when none is configured.
func (m *Main) Bot() *bot.Bot {
	if p, ok := telegramParts.Load(m); ok {
		return p.(*telegramPart).bot
	}
	return nil
}

// Relay returns the outbox worker delivering replies to Telegram, or nil.
func (m *Main) Relay() *relay.Worker {
	if p, ok := telegramParts.Load(m); ok {
		return p.(*telegramPart).relay
	}
	return nil
}

// mountTelegram starts the bot when a token is configured: long polling by
// default, webhook mode when a webhook URL is set; and the relay worker that
// delivers counselors' replies through it.
func mountTelegram(ctx context.Context, m *Main) error {
	if m.Config.TelegramToken == "" {
		return nil
	}
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
	}
	w := &relay.Worker{DB: m.DB, Vault: m.Vault, Notifier: m.Broker, Logger: m.Logger}
	if tuneTelegram != nil {
		tuneTelegram(&cfg, w)
	}
	b, err := bot.New(ctx, cfg)
	if err != nil {
		return err
	}
	w.Sender = b
	engine := &dialog.Engine{
		Intake:    m.Intake,
		Reporters: m.Intake,
		Schools:   m.Intake,
		Store:     intake.NewConversationStore(m.DB, m.Vault),
		Clock:     m.Clock,
		BotName:   b.Username(),
		Urgent:    intake.Urgent,
	}
	if path := b.WebhookPath(); path != "" {
		m.Mux.Handle("POST "+path, b.WebhookHandler())
	}
	telegramParts.Store(m, &telegramPart{bot: b, relay: w})
	m.OnClose(func() error {
		telegramParts.Delete(m)
		return nil
	})

	m.Go(func(ctx context.Context) {
		if err := b.Run(ctx, engine); err != nil {
			m.Logger.Error("telegram bot stopped", "err", err)
		}
	})
	m.Go(w.Run)
	// Wake the relay the moment a reply is enqueued; its own polling is
	// only the safety net.
	sub := m.Broker.SubscribeAll()
	m.Go(func(ctx context.Context) {
		defer sub.Cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case c, ok := <-sub.C:
				if !ok {
					return
				}
				if c.Kind == hotline.ChangeReply {
					w.Wake()
				}
			}
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
