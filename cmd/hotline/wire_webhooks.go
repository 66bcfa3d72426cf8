package main

import (
	"context"

	"hotline/internal/platform"
)

// openPlatform makes the district platform's parts (internal/platform) as
// the database opens, before any write: the ledger hooks that queue the
// webhooks in the same transaction as their events, the worker they wake,
// and the service the district pages and the statistics endpoint use.
// Every command that opens the data directory queues alike.
func (m *Main) openPlatform() {
	if m.PlatformWorker == nil {
		m.PlatformWorker = &platform.Worker{}
	}
	w := m.PlatformWorker
	w.DB, w.Vault, w.Logger = m.DB, m.Vault, m.Logger
	hooks := &platform.Hooks{Wake: w.Wake}
	m.DB.SetLedgerHooks(hooks.Store())
	m.Platform = &platform.Service{DB: m.DB, Vault: m.Vault, District: m.District, Worker: w}
}

// startPlatform serves the statistics endpoint and starts the delivery
// worker on this node (every node runs one: rows are claimed with a
// lease). It runs after the scheduler, whose alert channels carry the
// daily head to the districts' robots and e-mail.
func (m *Main) startPlatform() {
	w := m.PlatformWorker
	w.Staff, w.Surveys, w.BaseURL = m.Staff, m.Surveys, m.Config.PublicURL
	if m.Scheduler != nil {
		w.Channels = m.Scheduler.Channels
	}
	m.Mux.Handle("/api/district/v1/stats", m.Platform.StatsHandler())
	m.Go(func(ctx context.Context) { w.Run(ctx) })
}
