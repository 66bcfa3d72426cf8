package main

import (
	"context"

	"hotline/internal/hotline"
	"hotline/internal/relay"
)

// openRelay wires the reply relay (NewMain made it, so that its timings
// can be set before Open). It runs only once a messenger channel is open.
func (m *Main) openRelay() {
	if m.Relay == nil {
		m.Relay = &relay.Worker{}
	}
	w := m.Relay
	w.DB, w.Vault, w.Notifier, w.Logger = m.DB, m.Vault, m.Cluster, m.Logger
}

// addSender registers the relay's sender for a messenger channel.
func (m *Main) addSender(ch hotline.Channel, s relay.Sender) {
	if m.senders == nil {
		m.senders = relay.Channels{}
	}
	m.senders[ch] = s
}

// startRelay starts the worker that delivers counselors' replies over
// every messenger channel configured (one outbox, each chat's order kept
// whatever its channel), once the channels are open.
func (m *Main) startRelay() {
	if len(m.senders) == 0 {
		return
	}
	w := m.Relay
	w.Sender = m.senders
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
