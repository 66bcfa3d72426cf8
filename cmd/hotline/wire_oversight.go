package main

import (
	"context"

	tgbot "github.com/go-telegram/bot"

	"hotline/bot"
	"hotline/internal/alert"
	"hotline/internal/district"
	"hotline/internal/districtweb"
	"hotline/internal/hotline"
)

// botAlerter sends staff alerts through the Telegram bot's API client.
type botAlerter struct{ b *bot.Bot }

func (a botAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := a.b.API().SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

// openScheduler starts the scheduler (built by openAlerts): deadlines,
// follow-ups, the escalation ladders, retention, daily ledger heads, and
// alerts over every configured channel, Telegram among them once the bot
// is open.
func (m *Main) openScheduler() error {
	sc := m.Scheduler
	if m.Bot != nil {
		sc.Channels[alert.Telegram] = alert.NewTelegram(botAlerter{m.Bot})
		m.setAlertKinds()
	}
	if m.Tune.Scheduler != nil {
		m.Tune.Scheduler(sc)
	}

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
	h, err := districtweb.New(districtweb.Config{District: district.New(m.DB), Triage: m.Triage, Auth: m.Inbox, Logger: m.Logger, Staff: m.Staff, Alerts: m.Scheduler})
	if err != nil {
		return err
	}
	m.Oversight = h
	m.Mux.Handle("/district/", h)
	return nil
}
