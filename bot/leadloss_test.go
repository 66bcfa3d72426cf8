package bot_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// gateConv holds the event "first" until release is closed, and records
// what it applied, per chat.
type gateConv struct {
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	said    []string
}

func (g *gateConv) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	if ev.Text == "first" {
		g.started <- struct{}{}
		<-g.release
	}
	g.mu.Lock()
	g.said = append(g.said, ev.Text)
	g.mu.Unlock()
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "ok " + ev.Text}}, nil
}

func (g *gateConv) applied() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.said)
}

// TestLeadLostWhileQueueingLeavesNoUpdateBehind: polling runs while this
// node leads. An update it has fetched but could not queue when the lead
// was lost (its chat's queue full behind an update still being handled)
// is fetched and handled again when the node leads again. It was left
// taken for ever: the offset could not pass it, the next polls brought
// back the same hundred updates and nothing newer, and the bot went
// silent (the outage test's "waiting for alias" and "follow-ups not
// stored", each after the node lost the lead while the database was down).
func TestLeadLostWhileQueueingLeavesNoUpdateBehind(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	conv := &gateConv{started: make(chan struct{}, 1), release: make(chan struct{})}
	lost := make(chan struct{})
	b := run(t, bot.Config{Token: srv.Token(), APIURL: srv.URL(), PollTimeout: time.Second, CallTimeout: time.Second,
		RetryBase: 10 * time.Millisecond, SendAttempts: 10, Logger: slog.New(slog.DiscardHandler), Workers: 1, ChatQueue: 1,
		Lead: func(ctx context.Context, fn func(context.Context)) {
			first, lose := context.WithCancel(ctx)
			go func() {
				select {
				case <-lost:
				case <-ctx.Done():
				}
				lose()
			}()
			fn(first) // until the lead is lost
			if ctx.Err() == nil {
				fn(ctx) // and led again
			}
		}}, conv)
	u := srv.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
	u.SendText("first")
	select {
	case <-conv.started:
	case <-time.After(15 * time.Second): // a hang guard
		t.Fatal("the first update was not handled")
	}
	after := b.Taken()
	// The same chat's next update is fetched and waits for its queue,
	// which holds one update per chat: the first, still being handled.
	u.SendText("second")
	wait(t, func() bool { return b.Taken() > after })
	// The lead is lost while "second" waits to be queued, and comes back
	// (each lead begins with deleteWebhook) before "first" is done.
	leads := srv.Calls("deleteWebhook")
	close(lost)
	wait(t, func() bool { return srv.Calls("deleteWebhook") > leads })
	close(conv.release)
	wait(t, func() bool { return slices.Contains(conv.applied(), "second") })
	if got := conv.applied(); !slices.Equal(got, []string{"first", "second"}) {
		t.Errorf("applied %q, want first then second, once each", got)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := srv.WaitUpdatesConsumed(wctx); err != nil {
		t.Fatalf("updates not confirmed after the lead came back: %v", err)
	}
}
