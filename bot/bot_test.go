package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
	"hotline/internal/testsupport"
)

// echo is a conversation that records what each chat said and echoes it.
type echo struct {
	mu    sync.Mutex
	got   map[int64][]string
	sleep bool
}

func (e *echo) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	if ev.Text == "boom" {
		panic("handler bug with " + ev.Text)
	}
	if e.sleep {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	}
	e.mu.Lock()
	if e.got == nil {
		e.got = map[int64][]string{}
	}
	e.got[k.ChatID] = append(e.got[k.ChatID], string(ev.Kind)+":"+ev.Text+ev.Choice+ev.Command)
	e.mu.Unlock()
	return []dialog.Reply{{Kind: dialog.ReplyText, Text: "ok " + ev.Text, Buttons: [][]hotline.Button{{{Label: "Next", Data: "next"}}}}}, nil
}

func (e *echo) said(chat int64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.got[chat]...)
}

func start(t *testing.T, srv *telegramsim.Server, conv dialog.Conversation, log *slog.Logger) *bot.Bot {
	t.Helper()
	return run(t, bot.Config{Token: srv.Token(), APIURL: srv.URL(), PollTimeout: 3 * time.Second, CallTimeout: time.Second, RetryBase: 10 * time.Millisecond, SendAttempts: 10, Logger: log}, conv)
}

// run starts a bot with cfg, driving conv, until the test ends.
func run(t *testing.T, cfg bot.Config, conv dialog.Conversation) *bot.Bot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b, err := bot.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		b.Run(ctx, conv)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b
}

func wait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	b := start(t, srv, &echo{}, slog.New(slog.DiscardHandler))
	u := srv.NewUser(telegramsim.UserOptions{LanguageCode: "en"})
	u.SendText("boom")
	u.SendText("hello")
	ms, err := srv.WaitMessages(u.ChatID(), 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ms[0].PlainText, "Something went wrong") || ms[1].PlainText != "ok hello" {
		t.Fatalf("messages: got %q, %q; want the safe error, then the echo", ms[0].PlainText, ms[1].PlainText)
	}
	if b.Panics() != 1 {
		t.Fatalf("panics: got %d, want 1", b.Panics())
	}
}

func TestCommandsButtonsAndOrder(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	conv := &echo{sleep: true}
	start(t, srv, conv, slog.New(slog.DiscardHandler))
	const users, each = 20, 30
	us := make([]*telegramsim.User, users)
	for i := range us {
		us[i] = srv.NewUser(telegramsim.UserOptions{})
		us[i].SendCommand("/start@hotline_test_bot demo")
	}
	for k := range each {
		for _, u := range us {
			u.SendText(strconv.Itoa(k))
		}
	}
	for _, u := range us {
		ms, err := srv.WaitMessages(u.ChatID(), each+1, 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.PressOn(ms[len(ms)-1], "Next"); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range us {
		wait(t, func() bool { return len(conv.said(u.ChatID())) == each+2 })
		got := conv.said(u.ChatID())
		want := []string{"command:demostart"}
		for k := range each {
			want = append(want, "text:"+strconv.Itoa(k))
		}
		want = append(want, "choice:next")
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("chat events:\n got %v\nwant %v", got, want)
		}
	}
	wait(t, func() bool { return len(srv.CallbackAnswers()) == users })
}

// Under faults, logs carry kinds and counts only: no text, chat id, user
// name or token.
func TestLogsCarryNoContent(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conv := &echo{}
	srv.SetFaults(telegramsim.Faults{Rate: 0.3, SlowDelay: 50 * time.Millisecond, Seed: 1})
	start(t, srv, conv, log)
	var canaries []string
	var us []*telegramsim.User
	for i := range 10 {
		name := fmt.Sprintf("Canaryname%d", i)
		u := srv.NewUser(telegramsim.UserOptions{FirstName: name, Username: "canaryuser" + strconv.Itoa(i)})
		text := fmt.Sprintf("secret canary text %d", i)
		u.SendText(text)
		canaries = append(canaries, name, "canaryuser"+strconv.Itoa(i), text, strconv.FormatInt(u.ChatID(), 10))
		us = append(us, u)
	}
	for _, u := range us {
		wait(t, func() bool { return len(conv.said(u.ChatID())) == 1 })
	}
	srv.ClearFaults()
	out := buf.String()
	t.Logf("%d log lines", strings.Count(out, "\n"))
	for _, c := range append(canaries, srv.Token(), strings.Split(srv.Token(), ":")[1]) {
		if strings.Contains(out, c) {
			t.Errorf("log contains %q:\n%s", c, out)
		}
	}
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer = testsupport.SyncBuffer

// holdConv blocks on "hold" until released, like a handler that has not
// yet persisted what it received.
type holdConv struct {
	echo
	entered chan struct{}
	release chan struct{}
}

func (h *holdConv) Handle(ctx context.Context, k dialog.Key, ev dialog.Event) ([]dialog.Reply, error) {
	if ev.Text == "hold" {
		close(h.entered)
		<-h.release
	}
	return h.echo.Handle(ctx, k, ev)
}

// An update is confirmed to Telegram (by the next getUpdates offset) only
// after it has been handled: a crash before that leaves it with Telegram.
func TestUpdateConfirmedOnlyAfterHandled(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	conv := &holdConv{entered: make(chan struct{}), release: make(chan struct{})}
	start(t, srv, conv, slog.New(slog.DiscardHandler))
	u := srv.NewUser(telegramsim.UserOptions{})
	u.SendText("hold")
	<-conv.entered
	time.Sleep(300 * time.Millisecond) // the library would have polled again by now
	if n := srv.PendingUpdates(); n != 1 {
		t.Fatalf("pending updates while handling: got %d, want 1 (unconfirmed)", n)
	}
	close(conv.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitUpdatesConsumed(ctx); err != nil {
		t.Fatalf("after handling: %v", err)
	}
}
