package main

import (
	"context"
	"strings"

	"hotline/internal/inbox"
)

func init() {
	registerMount("inbox", func(ctx context.Context, m *Main) error {
		srv, err := inbox.New(inbox.Config{
			Staff: m.Staff, Triage: m.Triage, Intake: m.Intake, Broker: m.Broker, Logger: m.Logger,
			Secure: strings.HasPrefix(m.Config.PublicURL, "https://"), IdleTimeout: m.Config.IdleTimeout, Clock: m.Clock,
		})
		if err != nil {
			return err
		}
		m.Inbox = srv
		m.Mux.Handle("/inbox/", srv)
		m.OnClose(func() error { srv.Close(); return nil })
		return nil
	})
}
