package main

import (
	"context"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/survey"
	"hotline/internal/urgency"
)

// openDialog builds the reporters' conversation engine, the one every
// channel drives: the Telegram bot, the WeChat adapter and the web chat.
// It is built once for the process; what a transport calls itself (the
// bot's name) comes with its events.
func (m *Main) openDialog() {
	m.Dialog = &dialog.Engine{
		Intake:    m.Intake,
		Reporters: m.Intake,
		Schools:   m.Intake,
		Store:     dialog.NewSealedStore(m.DB, m.Vault),
		Clock:     m.Clock,
		Urgent:    urgency.Urgent,
		Unsure:    urgency.Unsure,
		Safety:    m.Intake,
		// Only web pages claim a receipt whose answer was lost.
		Receipts: m.Intake,
		// Questionnaires in Telegram chats: their buttons, deep links and
		// answers are routed here, beside the conversation.
		Surveys: &survey.Chats{S: m.Surveys},
		Logger:  m.Logger.With("part", "dialog"),
	}
}

// startDialog runs the conversation's sweeper: urgent drafts left unsent
// go to their school; stale drafts are deleted.
func (m *Main) startDialog() {
	m.Go(func(ctx context.Context) {
		m.Dialog.RunSweeper(ctx, m.sweepInterval(), m.Logger.With("part", "dialog"))
	})
}

// sweepInterval is how often the dialog sweeper looks for drafts to send or
// delete (SweepInterval, else 30 s).
func (m *Main) sweepInterval() time.Duration {
	if m.SweepInterval > 0 {
		return m.SweepInterval
	}
	return 30 * time.Second
}
