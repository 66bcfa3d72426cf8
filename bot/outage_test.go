package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/telegramtest"
)

// downConv is a conversation over a database that is down until up is
// set: every event is not applied (dialog.ErrNotApplied), with the safety
// guidance when its words are urgent.
type downConv struct {
	echo
	up    atomic.Bool
	tries atomic.Int64
}

func (d *downConv) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	if !d.up.Load() {
		d.tries.Add(1)
		var out []dialog.Reply
		if strings.Contains(ev.Text, "刀") {
			out = append(out, dialog.Reply{Kind: dialog.ReplySafety, Text: "如果有危险，请马上打 110。"})
		}
		out = append(out, dialog.Reply{Kind: dialog.ReplyError, Text: "dialog's own not saved"})
		return out, fmt.Errorf("%w: save: connection refused", dialog.ErrNotApplied)
	}
	return d.echo.Handle(ctx, k, ev)
}

// While the database is down a polled update is not confirmed: it is
// tried again in place, its chat's later updates wait behind it, the
// reporter is told once that it is not saved yet (not asked to send it
// again, and never that it was kept), with the safety guidance when the
// words were urgent; once the database is back every update is applied
// once, in order, and confirmed.
func TestUpdateNotAppliedIsNotConfirmed(t *testing.T) {
	srv := telegramtest.NewT(t, telegramtest.Config{})
	conv := &downConv{}
	start(t, srv, conv, slog.New(slog.DiscardHandler))
	u := srv.NewUser(telegramtest.UserOptions{LanguageCode: "zh-hans"})
	other := srv.NewUser(telegramtest.UserOptions{LanguageCode: "zh-hans"})
	u.SendText("他拿着刀在门口等我")
	u.SendText("第二条")
	other.SendText("别的聊天")
	wait(t, func() bool { return conv.tries.Load() >= 6 })
	if n := srv.PendingUpdates(); n != 3 {
		t.Fatalf("updates still with Telegram while the database is down: %d, want 3", n)
	}
	msgs := srv.Texts(u.ChatID())
	if len(msgs) != 2 || !strings.Contains(msgs[0], "110") || !strings.Contains(msgs[1], "还没有保存") || !strings.Contains(msgs[1], "不用再发") {
		t.Fatalf("the reporter was told %q, want the safety guidance, then once that it is not saved yet", msgs)
	}
	for _, m := range append(msgs, srv.Texts(other.ChatID())...) {
		if strings.Contains(m, "不会丢") || strings.Contains(m, "dialog's own") {
			t.Errorf("told %q while nothing was stored", m)
		}
	}
	conv.up.Store(true)
	wait(t, func() bool { return len(conv.said(u.ChatID())) == 2 && len(conv.said(other.ChatID())) == 1 })
	if got := conv.said(u.ChatID()); got[0] != "text:他拿着刀在门口等我" || got[1] != "text:第二条" {
		t.Errorf("applied after the outage: %q, want both in order", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.WaitUpdatesConsumed(ctx); err != nil {
		t.Fatalf("updates not confirmed after the outage: %v", err)
	}
	wait(t, func() bool { return len(srv.Texts(u.ChatID())) == 4 })
	if got := srv.Texts(u.ChatID()); got[2] != "ok 他拿着刀在门口等我" || got[3] != "ok 第二条" {
		t.Errorf("answers after the outage: %q", got)
	}
}
