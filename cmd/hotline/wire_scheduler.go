package main

import (
	"context"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/bot"
	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/scheduler"
)

// openScheduler builds the scheduler over the alert channels set (Open);
// Run gives it the public URL its links carry, and starts it.
func (m *Main) openScheduler(set alert.Set) {
	m.Scheduler = &scheduler.Scheduler{DB: m.DB, Vault: m.Vault, Notifier: m.Cluster, Staff: m.Staff, Channels: set,
		BaseURL: m.Config.PublicURL, Logger: m.Logger, Interval: 30 * time.Second}
}

// botAlerter sends staff alerts through the Telegram bot's API client.
type botAlerter struct{ b *bot.Bot }

func (a botAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := a.b.API().SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

// startScheduler starts the scheduler: deadlines, follow-ups, the
// escalation ladders, retention, daily ledger heads, and alerts over every
// configured channel, Telegram among them once the bot is open.
func (m *Main) startScheduler() {
	sc := m.Scheduler
	if m.Bot != nil {
		sc.Channels[alert.Telegram] = alert.NewTelegram(botAlerter{m.Bot})
		m.setAlertKinds()
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
}
