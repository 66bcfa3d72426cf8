package main

import (
	"context"
	"fmt"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/bot"
	"hotline/internal/alert"
	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/mail"
	"hotline/internal/oversight"
	"hotline/internal/scheduler"
)

// botAlerter sends staff alerts through the Telegram bot's API client.
type botAlerter struct{ b *bot.Bot }

func (a botAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := a.b.API().SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

// openScheduler starts the scheduler: deadlines, follow-ups, urgent
// paging, retention, daily ledger heads, and alerts by Telegram (through
// the bot, so it opens after it) and e-mail.
func (m *Main) openScheduler() error {
	channels := alert.Set{}
	if m.Bot != nil {
		channels[alert.Telegram] = tmpTelegram{botAlerter{m.Bot}}
	}
	if m.Config.SMTPAddr != "" {
		mailer, err := mail.New(mail.Config{Addr: m.Config.SMTPAddr, From: m.Config.SMTPFrom, User: m.Config.SMTPUser, Password: m.Config.SMTPPass})
		if err != nil {
			return fmt.Errorf("alert e-mail: %w", err)
		}
		channels[alert.Email] = tmpMail{mailer}
	}
	kinds := map[alert.Kind]bool{}
	for k := range channels {
		kinds[k] = true
	}
	m.Staff.AlertKinds = kinds
	sc := &scheduler.Scheduler{DB: m.DB, Vault: m.Vault, Notifier: m.Cluster, Staff: m.Staff, Channels: channels, BaseURL: m.Config.PublicURL, Logger: m.Logger, Interval: 30 * time.Second}
	if m.Tune.Scheduler != nil {
		m.Tune.Scheduler(sc)
	}
	m.Scheduler = sc

	// A new urgent tip pages staff at once, not at the next tick.
	wake := make(chan struct{}, 1)
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
				if c.Urgent && (c.Kind == hotline.ChangeNewTip || c.Kind == hotline.ChangeReporterMessage || c.Kind == hotline.ChangeUpdated) {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		}
	})
	// One node at a time runs it (on SQLite, the only one): alerts and
	// sweeps are not sent twice, and move within seconds when it dies.
	m.Go(func(ctx context.Context) {
		m.Cluster.Lead(ctx, "scheduler", func(ctx context.Context) { sc.Run(ctx, wake) })
	})
	return nil
}

// openOversight serves the district pages under /district/, behind the
// inbox's log-in, so it opens after the inbox.
func (m *Main) openOversight() error {
	h, err := oversight.New(oversight.Config{District: district.New(m.DB), Triage: m.Triage, Auth: m.Inbox, Logger: m.Logger})
	if err != nil {
		return err
	}
	m.Oversight = h
	m.Mux.Handle("/district/", h)
	return nil
}
