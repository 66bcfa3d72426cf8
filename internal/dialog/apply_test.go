package dialog

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hotline/internal/hotline"
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
