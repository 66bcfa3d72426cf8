package main

import (
	"context"
	"sync"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/webchat"
)

func init() {
	registerMount("webchat", mountWebchat)
}

// webchatParts maps a *Main to its web chat server: Main's fields belong to
// server.go.
var webchatParts sync.Map

// tuneWebchat, when set (tests), adjusts the web chat's limits before it
// starts.
var tuneWebchat func(*webchat.Server)

// Webchat returns the running web chat server, or nil.
func (m *Main) Webchat() *webchat.Server {
	if p, ok := webchatParts.Load(m); ok {
		return p.(*webchat.Server)
	}
	return nil
}

// mountWebchat serves the widget, the chat page and its websocket, the
// no-JS mailbox and the posters, with the conversation engine the bot uses.
func mountWebchat(ctx context.Context, m *Main) error {
	botName := m.Config.TelegramBotName
	if b := m.Bot(); b != nil && b.Username() != "" {
		botName = b.Username()
	}
	engine := &dialog.Engine{
		Intake:    m.Intake,
		Reporters: m.Intake,
		Schools:   m.Intake,
		Store:     intake.NewConversationStore(m.DB, m.Vault),
		Clock:     m.Clock,
		BotName:   botName,
		Urgent:    intake.Urgent,
	}
	s := &webchat.Server{
		Intake:       m.Intake,
		Reporters:    m.Intake,
		Schools:      m.Intake,
		Conversation: dialogConversation{engine},
		Broker:       m.Broker,
		MAC:          m.Vault.MAC,
		CleanPhoto:   intake.CleanPhoto,
		PublicURL:    m.Config.PublicURL,
		BotName:      botName,
		Logger:       m.Logger.With("part", "webchat"),
	}
	if m.Clock != nil {
		s.Now = m.Clock.Now
	}
	if tuneWebchat != nil {
		tuneWebchat(s)
	}
	h := s.Handler()
	for _, p := range []string{"/webchat/", "/c/", "/m/", "/poster/"} {
		m.Mux.Handle(p, h)
	}
	webchatParts.Store(m, s)
	m.Go(s.Run)
	m.OnClose(func() error {
		webchatParts.Delete(m)
		return s.Close()
	})
	return nil
}

// dialogConversation adapts the dialog engine to what the web chat drives.
type dialogConversation struct{ e *dialog.Engine }

func (d dialogConversation) key(session string) dialog.Key {
	return dialog.Key{Channel: hotline.ChannelWebchat, Session: session}
}

func (d dialogConversation) Handle(ctx context.Context, session, receipt string, in webchat.Input) ([]webchat.Reply, error) {
	ev := dialog.Event{Kind: dialog.EventKind(in.Kind), Text: in.Text, Choice: in.Choice, Command: in.Command, Photo: in.Photo, Lang: in.Lang, School: in.School}
	var rs []dialog.Reply
	var err error
	if receipt != "" {
		rs, err = d.e.HandleWithReceipt(ctx, d.key(session), receipt, ev)
	} else {
		rs, err = d.e.Handle(ctx, d.key(session), ev)
	}
	return webReplies(rs), err
}

func (d dialogConversation) Resume(ctx context.Context, session, receipt string, lang hotline.Lang) ([]webchat.Reply, error) {
	rs, err := d.e.Resume(ctx, d.key(session), receipt, lang)
	return webReplies(rs), err
}

func webReplies(rs []dialog.Reply) []webchat.Reply {
	out := make([]webchat.Reply, len(rs))
	for i, r := range rs {
		w := webchat.Reply{Kind: string(r.Kind), Text: r.Text, Receipt: r.Receipt, Alias: r.Alias, TipUID: r.TipUID, Photo: r.Photo, Entry: r.Entry, Lang: r.Lang}
		for _, row := range r.Buttons {
			wr := make([]webchat.Button, len(row))
			for j, b := range row {
				wr[j] = webchat.Button{Label: b.Label, Data: b.Data}
			}
			w.Buttons = append(w.Buttons, wr)
		}
		out[i] = w
	}
	return out
}
