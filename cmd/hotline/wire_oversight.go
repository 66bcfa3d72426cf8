package main

import (
	"hotline/internal/districtweb"
)

// openOversight serves the district pages under /district/, behind the
// inbox's log-in, so it opens after the inbox.
func (m *Main) openOversight() error {
	h, err := districtweb.New(districtweb.Config{District: m.District, Triage: m.Triage, Auth: m.Inbox, Logger: m.Logger, Staff: m.Staff, Alerts: m.Scheduler,
		Evidence: m.evidence(), Platform: m.Platform, PublicURL: m.Config.PublicURL})
	if err != nil {
		return err
	}
	m.Oversight = h
	m.Mux.Handle("/district/", h)
	return nil
}
