package dialog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// handledKeys says the deliveries in it were applied before.
type handledKeys map[string]bool

func (h handledKeys) Handled(_ context.Context, key string) (bool, error) { return h[key], nil }

// TestApply: a delivery applied before is answered with the current
// question only when its transport asks for that, and never applied
// again; a new one is applied; one that is no event answers what its
// transport says; a failure to make the event applies nothing.
func TestApply(t *testing.T) {
	ctx := context.Background()
	e := newEngine(newWorld(), newMemStore())
	k := Key{Channel: hotline.ChannelTelegram, ChatID: 4242}
	log := handledKeys{"tg:1": true}
	event := func(ev Event) func(context.Context) (*Event, []Reply, error) {
		return func(context.Context) (*Event, []Reply, error) { return &ev, nil, nil }
	}
	out, err := Apply(ctx, e, log, k, "tg:2", Delivery{Event: event(withSchool(cmd("start", "demo"), "demo"))})
	if err != nil || out.Again || out.Duplicate || len(out.Replies) == 0 {
		t.Fatalf("new delivery: got %+v, %v; want replies", out, err)
	}
	asked := 0
	for _, tc := range []struct {
		name string
		ask  func() bool
		want bool
	}{
		{"asked again", func() bool { asked++; return true }, true},
		{"not asked", func() bool { asked++; return false }, false},
		{"no policy", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			applied := false
			out, err := Apply(ctx, e, log, k, "tg:1", Delivery{Lang: hotline.LangEN, AskAgain: tc.ask,
				Event: func(context.Context) (*Event, []Reply, error) { applied = true; return nil, nil, nil }})
			if err != nil || !out.Again || applied {
				t.Fatalf("got %+v, %v, applied %v; want again, not applied", out, err, applied)
			}
			if got := len(out.Replies) > 0; got != tc.want {
				t.Errorf("replies: got %v, want %v", show(out.Replies), tc.want)
			}
			if tc.want && !strings.Contains(show(out.Replies), "我正在被欺负") {
				t.Errorf("replies: got\n%s want the role question", show(out.Replies))
			}
		})
	}
	if asked != 2 {
		t.Errorf("AskAgain calls: got %d, want 2", asked)
	}
	own := []Reply{{Kind: ReplyText, Text: "unsupported"}}
	out, err = Apply(ctx, e, log, k, "tg:3", Delivery{Event: func(context.Context) (*Event, []Reply, error) { return nil, own, nil }})
	if err != nil || len(out.Replies) != 1 || out.Replies[0].Text != "unsupported" {
		t.Errorf("no event: got %+v, %v; want the transport's reply", out, err)
	}
	boom := errors.New("boom")
	out, err = Apply(ctx, e, log, k, "tg:4", Delivery{Event: func(context.Context) (*Event, []Reply, error) { return nil, nil, boom }})
	if !errors.Is(err, boom) || len(out.Replies) != 0 {
		t.Errorf("failed event: got %+v, %v; want %v", out, err, boom)
	}
}

// TestOnce: a key recorded before is not run again; a new key runs with
// the key in its context and hands back its error; an empty key runs as
// it is, with no key (the store's refusal of a second write, the third
// outcome, needs a database: webchat's mailbox tests hold it).
func TestOnce(t *testing.T) {
	ctx := context.Background()
	log := handledKeys{"mbs:1": true}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		key     string
		err     error
		want    Before
		ran     bool
		keyed   bool
		wantErr error
	}{
		{"applied before", "mbs:1", nil, AppliedBefore, false, false, nil},
		{"new", "mbs:2", nil, NotBefore, true, true, nil},
		{"new, failed", "mbs:3", boom, NotBefore, true, true, boom},
		{"no key", "", nil, NotBefore, true, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran, keyed := false, false
			got, err := Once(ctx, log, tc.key, func(ctx context.Context) error {
				ran = true
				keyed = store.IdempotencyFrom(ctx) != nil && store.IdempotencyFrom(ctx).Key == tc.key
				return tc.err
			})
			if got != tc.want || !errors.Is(err, tc.wantErr) || ran != tc.ran || keyed != tc.keyed {
				t.Errorf("got %v, %v, ran %v, keyed %v; want %v, %v, ran %v, keyed %v", got, err, ran, keyed, tc.want, tc.wantErr, tc.ran, tc.keyed)
			}
		})
	}
}

// receiptConv is a web conversation that says which receipt it was given.
type receiptConv struct{ WebConversation }

func (receiptConv) HandleWithReceipt(_ context.Context, _ Key, receipt string, _ Event) ([]Reply, error) {
	return []Reply{{Kind: ReplyText, Text: "receipt:" + receipt}}, nil
}

// TestApplyWithReceipt: the web chat's messages reach the conversation
// with the page's receipt, and one without a key (a choice) is handled
// every time it comes.
func TestApplyWithReceipt(t *testing.T) {
	ctx := context.Background()
	k := Key{Channel: hotline.ChannelWebchat, Session: "s"}
	ev := Event{Kind: EventChoice, Choice: "send"}
	for range 2 {
		out, err := Apply(ctx, WithReceipt(receiptConv{}, "R-1"), handledKeys{}, k, "", Delivery{
			Event: func(context.Context) (*Event, []Reply, error) { return &ev, nil, nil }})
		if err != nil || out.Again || out.Duplicate || !strings.Contains(show(out.Replies), "receipt:R-1") {
			t.Fatalf("got %+v (%s), %v; want the reply to receipt R-1", out, show(out.Replies), err)
		}
	}
}
