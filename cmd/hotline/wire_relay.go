package main

import (
	"context"

	"hotline/internal/hotline"
	"hotline/internal/relay"
)

// addSender registers the relay's sender for a messenger channel, creating
// the relay worker with the first one.
func (m *Main) addSender(ch hotline.Channel, s relay.Sender) {
	if m.Relay == nil {
		m.Relay = &relay.Worker{DB: m.DB, Vault: m.Vault, Notifier: m.Cluster, Logger: m.Logger}
	}
	if m.senders == nil {
		m.senders = relay.Channels{}
	}
	m.senders[ch] = s
}

// startRelay starts the worker that delivers counselors' replies over
// every messenger channel configured (one outbox, each chat's order kept
// whatever its channel), once the channels are open.
func (m *Main) startRelay() {
	w := m.Relay
	if w == nil {
		return
	}
	w.Sender = m.senders
	if m.Tune.Relay != nil {
		m.Tune.Relay(w)
	}
	m.Go(w.Run)
	// Wake the relay the moment a reply is enqueued, or a reporter writes
	// (which releases replies held while their chat blocked the bot, or
	// while WeChat's window was closed); its own polling is only the
	// safety net.
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
				if c.Kind == hotline.ChangeReply || c.Kind == hotline.ChangeReporterMessage || c.Kind == hotline.ChangeNewTip {
					w.Wake()
				}
			}
		}
	})
}
