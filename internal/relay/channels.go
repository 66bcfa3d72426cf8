package relay

import (
	"context"

	"hotline/internal/hotline"
)

// Channels is a Sender that hands each payload to the sender of its chat's
// messenger (Telegram, WeChat), so that one outbox and one worker keep
// every chat's order whatever its channel. A payload without a channel was
// written before there was more than one: it is Telegram's.
type Channels map[hotline.Channel]Sender

var _ Sender = Channels(nil)

// Deliver implements Sender. A channel that is not configured on this node
// (its account removed) cannot deliver: the reply is held, as for a chat
// that blocked the bot, until the reporter writes again.
func (c Channels) Deliver(ctx context.Context, p *Payload) error {
	ch := p.Channel
	if ch == "" {
		ch = hotline.ChannelTelegram
	}
	s := c[ch]
	if s == nil {
		return ErrUnreachable
	}
	return s.Deliver(ctx, p)
}

// PayloadChannel is the Channel a payload for a chat of c carries: empty
// for Telegram, so that its rows stay as they were before WeChat.
func PayloadChannel(c hotline.Channel) hotline.Channel {
	if c == hotline.ChannelTelegram {
		return ""
	}
	return c
}
