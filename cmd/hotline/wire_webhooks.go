package main

import (
	"context"

	"hotline/internal/district"
	"hotline/internal/platform"
)

// openPlatform makes the district platform's parts (internal/platform) as
// the database opens, before any write: the ledger hooks that queue the
// webhooks in the same transaction as their events, the worker they wake,
// and the service the district pages and the statistics endpoint use.
// Every command that opens the data directory queues alike.
func (m *Main) openPlatform() {
	m.platformWorker = &platform.Worker{DB: m.DB, Vault: m.Vault, Logger: m.Logger}
	hooks := &platform.Hooks{Wake: m.platformWorker.Wake}
	m.DB.SetLedgerHooks(hooks.Store())
	m.Platform = &platform.Service{DB: m.DB, Vault: m.Vault, District: district.New(m.DB), Worker: m.platformWorker}
}

// startPlatform serves the statistics endpoint and starts the delivery
// worker on this node (every node runs one: rows are claimed with a
// lease). It runs after the scheduler, whose alert channels carry the
// daily head to the districts' robots and e-mail.
func (m *Main) startPlatform() {
	w := m.platformWorker
	w.Staff, w.Surveys, w.BaseURL = m.Staff, m.Surveys, m.Config.PublicURL
	if m.Scheduler != nil {
		w.Channels = m.Scheduler.Channels
	}
	if m.Tune.Platform != nil {
		m.Tune.Platform(w)
	}
	m.Mux.Handle("/api/district/v1/stats", m.Platform.StatsHandler())
	m.Go(func(ctx context.Context) { w.Run(ctx) })
}
