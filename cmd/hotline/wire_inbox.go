package main

import (
	"strings"

	"hotline/internal/inbox"
	"hotline/internal/throttle"
)

// openInbox serves the counselor inbox under /inbox/.
func (m *Main) openInbox() error {
	srv, err := inbox.New(inbox.Config{
		Staff: m.Staff, Triage: m.Triage, Intake: m.Intake, Broker: m.Broker, Logger: m.Logger,
		ClientIP: m.clientIP(), Secure: strings.HasPrefix(m.Config.PublicURL, "https://"), IdleTimeout: m.Config.IdleTimeout, Clock: m.Clock,
	})
	if err != nil {
		return err
	}
	m.Inbox = srv
	m.Mux.Handle("/inbox/", srv)
	m.OnClose(func() error { srv.Close(); return nil })
	return nil
}

// clientIP says how the web chat and the inbox find a request's client for
// their per-client limits: the TCP peer, or behind a trusted reverse proxy
// the address its header names.
func (m *Main) clientIP() throttle.ClientIP {
	return throttle.ClientIP{Trusted: m.Config.TrustedProxies, Header: m.Config.ProxyHeader}
}
