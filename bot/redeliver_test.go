package bot_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// promptConv answers each event with "ok TEXT" and Prompt with "where you
// are", counting both.
type promptConv struct {
	mu      sync.Mutex
	handled []string
	prompts map[int64]int
}

func (c *promptConv) Handle(_ context.Context, _ dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handled = append(c.handled, ev.Text)
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "ok " + ev.Text}}, nil
}

func (c *promptConv) Prompt(_ context.Context, k dialog.Key, lang hotline.Lang) ([]dialog.Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.prompts[k.ChatID]++
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "where you are " + string(lang)}}, nil
}

// handledLog says the updates in it were applied before.
type handledLog map[string]bool

func (l handledLog) Handled(_ context.Context, key string) (bool, error) { return l[key], nil }

// A redelivered update is answered with the conversation's current
// question instead of being applied again: once for a run of a chat's
// redelivered updates, again only after the chat was heard from anew, and
// never for a staff member's /link, which is no conversation.
func TestRedeliveredUpdateGetsCurrentPrompt(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	a := srv.NewUser(telegramsim.UserOptions{LanguageCode: "en"})
	b := srv.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
	staff := srv.NewUser(telegramsim.UserOptions{})
	log := handledLog{}
	old := func(u telegramsim.Update) { log["tg:"+strconv.FormatInt(u.UpdateID, 10)] = true }
	// Everything is queued before the bot starts, as after a crash.
	old(a.SendText("x"))
	old(a.SendText("y"))
	old(b.SendText("z"))
	old(staff.SendCommand("/link 123456"))
	a.SendText("w")
	old(a.SendText("v"))

	conv := &promptConv{prompts: map[int64]int{}}
	bt := run(t, bot.Config{Token: srv.Token(), APIURL: srv.URL(), PollTimeout: time.Second, CallTimeout: time.Second,
		RetryBase: 10 * time.Millisecond, Updates: log, Logger: slog.New(slog.DiscardHandler),
		LinkStaff: func(context.Context, string, int64) error {
			t.Error("a redelivered /link was applied again")
			return nil
		}}, conv)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := srv.WaitUpdatesConsumed(wctx); err != nil {
		t.Fatal(err)
	}
	texts := func(u *telegramsim.User) []string {
		var out []string
		for _, m := range u.Messages() {
			out = append(out, m.PlainText)
		}
		return out
	}
	if got := texts(a); len(got) != 3 || got[0] != "where you are en" || got[1] != "ok w" || got[2] != "where you are en" {
		t.Errorf("chat A: got %q, want the question once for x and y, the answer to w, the question for v", got)
	}
	if got := texts(b); len(got) != 1 || got[0] != "where you are zh" {
		t.Errorf("chat B: got %q, want the question once, in its language", got)
	}
	if got := texts(staff); len(got) != 0 {
		t.Errorf("staff chat: got %q, want nothing for a redelivered /link", got)
	}
	conv.mu.Lock()
	defer conv.mu.Unlock()
	if len(conv.handled) != 1 || conv.handled[0] != "w" {
		t.Errorf("applied: got %q, want only the new update", conv.handled)
	}
	if bt.Redelivered() != 5 {
		t.Errorf("redelivered: got %d, want 5", bt.Redelivered())
	}
}
