package main

import (
	"context"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/photo"
	"hotline/webchat"
)

// openWebchat serves the widget, the chat page and its websocket, the
// no-JS mailbox and the posters, with the conversation engine the other
// channels drive. It links to the bot, so it opens after it.
func (m *Main) openWebchat() {
	s := &webchat.Server{
		Intake:       m.Intake,
		Reporters:    m.Intake,
		Schools:      m.Intake,
		Conversation: dialogConversation{m.Dialog},
		Safety:       m.Intake,
		SafetyWords:  dialog.SafetyQuestion,
		Broker:       m.Broker,
		MAC:          m.Vault.MAC,
		CleanPhoto:   photo.CleanContext,
		Applied:      m.DB,
		PublicURL:    m.Config.PublicURL,
		BotName:      m.botName(),
		Logger:       m.Logger.With("part", "webchat"),
		Limits:       m.WebchatLimits,
		ClientIP:     m.clientIP(),
		WechatQR:     m.wechatQR,
	}
	if m.Clock != nil {
		s.Now = m.Clock.Now
	}
	h := s.Handler()
	for _, p := range []string{"/webchat/", "/c/", "/m/", "/poster/"} {
		m.Mux.Handle(p, h)
	}
	m.Webchat = s
	m.Go(s.Run)
	m.OnClose(s.Close)
}

// dialogConversation adapts the dialog engine to what the web chat drives.
type dialogConversation struct{ e *dialog.Engine }

func (d dialogConversation) key(session string) dialog.Key {
	return dialog.Key{Channel: hotline.ChannelWebchat, Session: session}
}

func (d dialogConversation) Handle(ctx context.Context, session, receipt string, in webchat.Input) ([]webchat.Reply, error) {
	ev := dialog.Event{Kind: dialog.EventKind(in.Kind), Text: in.Text, Choice: in.Choice, Command: in.Command, Photo: in.Photo, Lang: in.Lang, School: in.School, PageSecret: in.PageSecret}
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
		out[i] = webchat.Reply{Kind: string(r.Kind), Text: r.Text, Buttons: r.Buttons, Receipt: r.Receipt, Alias: r.Alias, TipUID: r.TipUID, Photo: r.Photo, Entry: r.Entry, Lang: r.Lang}
	}
	return out
}
