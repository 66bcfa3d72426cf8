package bot_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/store"
	"hotline/internal/telegramtest"
	"hotline/internal/testsupport"
)

// slowConv holds "hold" until released or its handling is cancelled (a
// shutdown), like a chat whose earlier replies are slow.
type slowConv struct {
	echo
	entered chan struct{}
	release chan struct{}
}

func (s *slowConv) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	if ev.Text == "hold" {
		close(s.entered)
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.echo.Handle(ctx, k, ev)
}

// A chat whose handling is slow holds the confirmation offset for as long
// as it takes (there is no give-up timer: many re-polls pass here), while
// other chats go on; when the process stops with it unfinished, neither it
// nor the chat's later update is lost: a new process gets both.
func TestSlowChatLosesNothingAcrossCrash(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	conv := &slowConv{entered: make(chan struct{}), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, bot.Config{Token: srv.Token(), APIURL: srv.URL(), PollTimeout: time.Second, CallTimeout: time.Second,
		RetryBase: 10 * time.Millisecond, RepollPause: 20 * time.Millisecond, DrainTimeout: 300 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		b.Run(ctx, conv)
		close(done)
	}()
	slow := srv.NewUser(telegramsim.UserOptions{})
	other := srv.NewUser(telegramsim.UserOptions{})
	slow.SendText("hold")
	<-conv.entered
	slow.SendText("later")
	for i := range 20 {
		other.SendText("x")
		if _, err := srv.WaitMessages(other.ChatID(), i+1, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	polls := srv.Calls("getUpdates")
	time.Sleep(500 * time.Millisecond) // 25 re-poll pauses
	if n := srv.Calls("getUpdates") - polls; n < 5 {
		t.Fatalf("re-polls while the slow chat is held: got %d, want polling to go on", n)
	}
	// The slow update, the one behind it and the other chat's (handled,
	// but above the offset) are all still with Telegram.
	if n := srv.PendingUpdates(); n != 22 {
		t.Fatalf("pending while the slow chat is held: got %d, want 22", n)
	}
	cancel() // shutdown: the held handling is cut short after DrainTimeout
	<-done
	if n := srv.PendingUpdates(); n != 22 {
		t.Fatalf("pending after the stop: got %d, want 22 (nothing confirmed past the unfinished update)", n)
	}

	// A new process handles both of the slow chat's updates, in order.
	conv2 := &echo{}
	start(t, srv, conv2, slog.New(slog.DiscardHandler))
	wait(t, func() bool { return len(conv2.said(slow.ChatID())) == 2 })
	if got := conv2.said(slow.ChatID()); got[0] != "text:hold" || got[1] != "text:later" {
		t.Fatalf("slow chat after the restart: got %v", got)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	if err := srv.WaitUpdatesConsumed(cctx); err != nil {
		t.Fatal(err)
	}
}

// effectConv applies each text as a row in the store, under the update's
// key (the context), and fails after the first effect of "fail-once", as a
// conversation whose state could not be saved after its message was stored.
type effectConv struct {
	db    *store.DB
	calls atomic.Int64
	fail  atomic.Bool
}

var errSave = errors.New("save failed")

func (c *effectConv) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	c.calls.Add(1)
	if err := c.db.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO test_effects (marker) VALUES (?)`, ev.Text)
		return err
	}); err != nil {
		return nil, err
	}
	if ev.Text == "fail-once" && c.fail.CompareAndSwap(false, true) {
		return []dialog.Reply{{Kind: dialog.ReplyError, Text: "could not save"}}, errSave
	}
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "ok " + ev.Text}}, nil
}

func (c *effectConv) count(t *testing.T, marker string) int {
	t.Helper()
	var n int
	if err := c.db.Reader().Get(&n, `SELECT COUNT(*) FROM test_effects WHERE marker = ?`, marker); err != nil {
		t.Fatal(err)
	}
	return n
}

// In webhook mode a failed handling answers non-200, Telegram delivers the
// update again, and the redelivery is recognised by the store: the effect
// stored before the failure is applied once.
func TestWebhookFailureRedeliveredAppliedOnce(t *testing.T) {
	db := testsupport.OpenStore(t)
	if _, err := db.Writer().Exec(`CREATE TABLE test_effects (marker TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	conv := &effectConv{db: db}
	srv := telegramtest.New(t, telegramsim.Config{})
	hook := httptest.NewServer(nil)
	t.Cleanup(hook.Close)
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, bot.Config{Token: srv.Token(), APIURL: srv.URL(), WebhookURL: hook.URL + "/hook", CallTimeout: time.Second,
		RetryBase: 10 * time.Millisecond, Updates: db, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hook.Config.Handler = b.WebhookHandler()
	done := make(chan struct{})
	go func() {
		b.Run(ctx, conv)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	u := srv.NewUser(telegramsim.UserOptions{})
	u.SendText("fail-once")
	u.SendText("fine")
	if _, err := srv.WaitMessages(u.ChatID(), 2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitUpdatesConsumed(wctx); err != nil {
		t.Fatal(err)
	}
	wh := srv.Webhook()
	if wh.LastErrorMessage == "" {
		t.Fatal("webhook: no failed delivery recorded; want a non-200 answer to the failed handling")
	}
	if n := conv.count(t, "fail-once"); n != 1 {
		t.Fatalf("effect of the failed-then-redelivered update: stored %d times, want 1", n)
	}
	if n := conv.count(t, "fine"); n != 1 {
		t.Fatalf("effect of the next update: stored %d times, want 1", n)
	}
	if conv.calls.Load() != 2 || b.Redelivered() != 1 {
		t.Fatalf("handlings: %d, redelivered %d; want 2 and 1", conv.calls.Load(), b.Redelivered())
	}
	var texts []string
	for _, m := range srv.Messages(u.ChatID()) {
		texts = append(texts, m.PlainText)
	}
	if len(texts) != 2 || texts[0] != "could not save" || texts[1] != "ok fine" {
		t.Fatalf("messages: got %q", texts)
	}
}
