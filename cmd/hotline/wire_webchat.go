package main

import (
	"hotline/internal/dialog"
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
		Conversation: m.Dialog,
		Safety:       m.Intake,
		SafetyWords:  dialog.SafetyQuestion,
		Broker:       m.Broker,
		MAC:          m.Vault.MAC,
		CleanPhoto:   photo.CleanContext,
		Deliveries:   m.DB,
		Seen:         m.DB,
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
