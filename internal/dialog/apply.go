package dialog

import (
	"context"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Conversation is the conversation as a transport drives it: the Engine,
// or a transport's test fake.
type Conversation interface {
	Handle(ctx context.Context, k Key, ev Event) ([]Reply, error)
}

// Prompter is what a Conversation may also offer (the Engine does): the
// current question of a conversation, changing and writing nothing. Apply
// answers a delivery applied before with it, since that delivery's own
// answer may never have left.
type Prompter interface {
	Prompt(ctx context.Context, k Key, lang hotline.Lang) ([]Reply, error)
}

// WebConversation is the conversation as the web chat drives it: a
// session whose reporter keeps their receipt in the page (the engine never
// stores it), and returns with it.
type WebConversation interface {
	// HandleWithReceipt is Handle with the page's receipt ("" until the
	// reporter has submitted or resumed).
	HandleWithReceipt(ctx context.Context, k Key, receipt string, ev Event) ([]Reply, error)
	// Resume opens a returning reporter's thread with their receipt.
	Resume(ctx context.Context, k Key, receipt string, lang hotline.Lang) ([]Reply, error)
}

var (
	_ Conversation    = (*Engine)(nil)
	_ Prompter        = (*Engine)(nil)
	_ WebConversation = (*Engine)(nil)
)

// Deliveries is the durable record of the deliveries applied (store.DB),
// one for every channel: a messenger delivers a message again when it did
// not hear back in time (Telegram's unconfirmed updates, WeChat's three
// tries), a web page resends a message whose ack it never got, a mailbox
// form is posted twice, perhaps after a restart, and the record says which
// were applied already.
type Deliveries interface {
	Handled(ctx context.Context, key string) (bool, error)
}

// Delivery is one delivery of something a reporter did, as a transport
// that may deliver it again hands it to Apply.
type Delivery struct {
	// Lang is the reporter's language as the transport knows it, for the
	// question that answers a delivery applied before.
	Lang hotline.Lang
	// AskAgain is asked only for a delivery applied before: whether to
	// answer it with the conversation's current question (the transport
	// knows which deliveries were part of the conversation, and how often
	// a chat may be asked). Nil: never.
	AskAgain func() bool
	// Event makes the delivery an event, with ctx, which records the
	// delivery with the first write of its effect: what the transport
	// writes with it (a questionnaire's step, a staff link) is guarded as
	// the conversation's own writes are; a write that must stand even if
	// the event is not applied uses a context of its own. It is called
	// only for a delivery not applied before. A nil event is none of the
	// conversation's (the transport has answered it itself, or replies
	// says what to answer); a non-nil error means nothing was applied.
	Event func(ctx context.Context) (ev *Event, replies []Reply, err error)
}

// Outcome is what became of a delivery.
type Outcome struct {
	// Replies are what to show the reporter, in order.
	Replies []Reply
	// Again says the delivery had been applied before: nothing was
	// applied, and Replies (if any) are the conversation's current
	// question.
	Again bool
	// Duplicate says another delivery of the same thing applied it first
	// while this one ran: this one applied nothing, and it has no replies
	// (they would be wrong).
	Duplicate bool
}

// Apply runs one delivery of a channel that may deliver it again, the same
// way for every channel (Telegram, WeChat, the web chat's socket): a
// delivery recorded in deliveries as applied is not applied again but
// answered with the conversation's current question (when its transport
// asks for that); otherwise its event is handled by conv with dedupKey
// recorded in the commit of its first write, so that a second delivery
// racing it, or arriving after a crash between the commit and the answer,
// is recognised. deliveries may be nil: nothing is looked up, and the
// store's write guard still refuses to apply a delivery twice. An empty
// dedupKey is no de-duplication: the event is handled as it comes (the
// web chat's choices, which the conversation itself answers once).
//
// The error is Handle's (ErrNotApplied: nothing was stored, the transport
// should have the delivery made again), or Event's; the replies that come
// with it must still be shown.
func Apply(ctx context.Context, conv Conversation, deliveries Deliveries, k Key, dedupKey string, d Delivery) (Outcome, error) {
	var out Outcome
	before, err := Once(ctx, deliveries, dedupKey, func(ctx context.Context) error {
		ev, rs, err := d.Event(ctx)
		if ev == nil || err != nil {
			out.Replies = rs
			return err
		}
		out.Replies, err = conv.Handle(ctx, k, *ev)
		return err
	})
	switch before {
	case AppliedBefore:
		out = Outcome{Again: true}
		p, ok := conv.(Prompter)
		if !ok || d.AskAgain == nil || !d.AskAgain() {
			return out, nil
		}
		rs, err := p.Prompt(ctx, k, d.Lang)
		if err != nil {
			// Silence is better than an error about something that worked.
			return out, err
		}
		out.Replies = rs
		return out, nil
	case AppliedMeanwhile:
		return Outcome{Duplicate: true}, nil
	}
	return out, err
}

// Before says whether a delivery had been applied before Once ran it.
type Before int

const (
	// NotBefore: the delivery was run now; its effect, if it wrote
	// anything, is stored with its key.
	NotBefore Before = iota
	// AppliedBefore: deliveries recorded the key: apply was not called.
	AppliedBefore
	// AppliedMeanwhile: another delivery of the same thing stored its
	// effect first (a double click, another node, or a look-up that
	// missed): apply ran, but its first write was refused and nothing of
	// it stands; what it computed must not be shown.
	AppliedMeanwhile
)

// Once runs apply for one delivery of something a transport may deliver
// again, at most once for key: it is Apply without the conversation, for
// a post that is no conversation's event (the mailbox's report and reply
// forms). A key recorded in deliveries is not run again; otherwise apply
// runs with ctx carrying key, which the store records in the transaction
// of its first write (store.WithIdempotency), or refuses that write when
// the key is there already. Whatever apply writes must therefore come
// after, or in, the write that carries its effect. deliveries may be nil;
// an empty key runs apply as it is.
//
// The error is apply's, except for a delivery applied meanwhile, whose
// refused write is no error.
func Once(ctx context.Context, deliveries Deliveries, key string, apply func(ctx context.Context) error) (Before, error) {
	if key == "" {
		return NotBefore, apply(ctx)
	}
	ctx, idem := store.WithIdempotency(ctx, key)
	if appliedBefore(ctx, deliveries, key) {
		return AppliedBefore, nil
	}
	err := apply(ctx)
	if idem.Duplicate() {
		return AppliedMeanwhile, nil
	}
	return NotBefore, err
}

// WithReceipt is the web conversation as Apply drives it: events are
// handled with the receipt the page holds ("" until the reporter has
// submitted or resumed).
func WithReceipt(conv WebConversation, receipt string) Conversation {
	return withReceipt{conv, receipt}
}

type withReceipt struct {
	conv    WebConversation
	receipt string
}

func (w withReceipt) Handle(ctx context.Context, k Key, ev Event) ([]Reply, error) {
	return w.conv.HandleWithReceipt(ctx, k, w.receipt, ev)
}

// appliedBefore reports whether deliveries recorded key as applied. If it
// cannot tell, the delivery is handled: the write guard still refuses to
// apply it twice.
func appliedBefore(ctx context.Context, deliveries Deliveries, key string) bool {
	if deliveries == nil {
		return false
	}
	ok, err := deliveries.Handled(ctx, key)
	return err == nil && ok
}
