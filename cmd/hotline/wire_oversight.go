package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/mail"
	"hotline/internal/oversight"
	"hotline/internal/scheduler"
)

func init() {
	registerMount("oversight", mountOversight)
}

// schedulers maps a *Main to its accountability scheduler: Main's fields
// belong to server.go.
var schedulers sync.Map

// tuneOversight, when set (tests), adjusts the scheduler before it starts.
var tuneOversight func(*scheduler.Scheduler)

// Scheduler returns the running deadline and alert scheduler, or nil.
func (m *Main) Scheduler() *scheduler.Scheduler {
	if s, ok := schedulers.Load(m); ok {
		return s.(*scheduler.Scheduler)
	}
	return nil
}

// botAlerter sends staff alerts through the running Telegram bot's API
// client; the bot is looked up at send time because the parts start in
// any order.
type botAlerter struct{ m *Main }

func (a botAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	b := a.m.Bot()
	if b == nil {
		return errors.New("telegram bot not running")
	}
	_, err := b.API().SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

// mountOversight starts the scheduler (deadlines, follow-ups, urgent
// paging, retention, daily ledger heads, alerts) and serves the district
// pages under /district/ behind the inbox's log-in.
func mountOversight(ctx context.Context, m *Main) error {
	sc := &scheduler.Scheduler{DB: m.DB, Vault: m.Vault, Notifier: m.Broker, BaseURL: m.Config.PublicURL, Logger: m.Logger, Interval: 30 * time.Second}
	if m.Config.TelegramToken != "" {
		sc.Telegram = botAlerter{m}
	}
	if m.Config.SMTPAddr != "" {
		mailer, err := mail.New(mail.Config{Addr: m.Config.SMTPAddr, From: m.Config.SMTPFrom, User: m.Config.SMTPUser, Password: m.Config.SMTPPass})
		if err != nil {
			return fmt.Errorf("alert e-mail: %w", err)
		}
		sc.Mail = mailer
	}
	if tuneOversight != nil {
		tuneOversight(sc)
	}
	schedulers.Store(m, sc)
	m.OnClose(func() error { schedulers.Delete(m); return nil })

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
	m.Go(func(ctx context.Context) { sc.Run(ctx, wake) })

	if m.Inbox == nil {
		m.Logger.Warn("district pages not mounted: the inbox (their log-in) is not running")
		return nil
	}
	h, err := oversight.New(oversight.Config{District: district.New(m.DB), Triage: m.Triage, Auth: m.Inbox, Logger: m.Logger})
	if err != nil {
		return err
	}
	m.Mux.Handle("/district/", h)
	return nil
}
