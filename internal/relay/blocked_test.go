package relay_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/relay"
	"hotline/internal/telegramtest"
	"hotline/internal/triage"
)

// A reporter blocks the bot; a reply fails with 403 and is held, and the
// counselor sees the reporter as unreachable. The reporter unblocks the bot
// and writes to the case again: the held reply arrives, then the reply
// written after, each once and in order, both shown as delivered.
func TestBlockedReporterWritesAgainAndGetsHeldReply(t *testing.T) {
	t.Parallel()
	db, v, _ := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	broker := live.NewBroker()
	in := intake.New(db, v, broker, nil)
	t.Cleanup(in.Close)
	tr := triage.New(db, v, broker, nil)
	school, err := tr.CreateSchool(ctx, triage.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := tr.Authenticate(ctx, school.Admin.Username, school.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	actor := sess.Actor()

	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := telegramtest.NewT(t, telegramtest.Config{})
	b, err := bot.New(ctx, bot.Config{Token: fake.Token(), APIURL: fake.URL(), Username: fake.Bot().Username, PollTimeout: time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	engine := &dialog.Engine{Intake: in, Reporters: in, Schools: in, Store: intake.NewConversationStore(db, v), BotName: b.Username(), Urgent: intake.Urgent}
	botDone := make(chan struct{})
	go func() { b.Run(ctx, engine); close(botDone) }()
	// A short poll: replies held for a blocked chat go out on the worker's
	// next read of the outbox after the reporter writes.
	w := &relay.Worker{DB: db, Vault: v, Sender: b, Notifier: broker, Logger: logger, PollInterval: 100 * time.Millisecond}
	relayDone := make(chan struct{})
	go func() { w.Run(ctx); close(relayDone) }()
	defer func() { cancel(); <-botDone; <-relayDone }()

	u := fake.NewUser(telegramtest.UserOptions{})
	sub, err := in.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, Lang: hotline.LangEN, Texts: []string{"they took my phone"}, ChatID: u.ChatID()})
	if err != nil {
		t.Fatal(err)
	}
	reachable := func() bool {
		ok, err := tr.ReporterReachable(ctx, actor, sub.TipUID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	u.BlockBot()
	if _, err := tr.Reply(ctx, actor, sub.TipUID, "first reply, while blocked", nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the 403 to mark the reporter unreachable", func() bool { return !reachable() })
	if n, _ := db.OutboxLen(ctx); n != 1 {
		t.Fatalf("outbox after the 403: got %d rows, want the held reply", n)
	}
	if d := lastDelivery(t, tr, sess, sub.TipUID); d != hotline.DeliveryUndeliverable {
		t.Errorf("held reply: got %q, want undeliverable while the reporter is away", d)
	}
	time.Sleep(300 * time.Millisecond)
	if s := w.Stats(); s.Blocked != 1 || s.Delivered != 0 {
		t.Fatalf("a held reply was tried again: %+v", s)
	}

	u.UnblockBot()
	u.SendCommand("/tips")
	kb, err := u.WaitMessage(ctxFor(t, 10*time.Second), func(m telegramtest.SentMessage) bool {
		_, ok := m.Button("tip:" + sub.TipUID)
		return ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.PressOn(kb, "tip:"+sub.TipUID); err != nil {
		t.Fatal(err)
	}
	u.SendText("I unblocked you, sorry")
	waitUntil(t, "the reporter's message to make them reachable", reachable)
	if _, err := tr.Reply(ctx, actor, sub.TipUID, "second reply, after they wrote", nil); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "both replies", func() bool { return len(replies(fake, u)) >= 2 })
	time.Sleep(300 * time.Millisecond) // a duplicate would show by now
	if got, want := replies(fake, u), []string{"first reply, while blocked", "second reply, after they wrote"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("replies in the chat: got %q, want %q", got, want)
	}
	waitUntil(t, "both shown delivered", func() bool {
		_, msgs, err := tr.Thread(ctx, sess, sub.TipUID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Author == hotline.AuthorCounselor && m.Delivery == hotline.DeliveryDelivered {
				n++
			}
		}
		return n == 2
	})
	if strings.Contains(logs.String(), "unblocked you") || strings.Contains(logs.String(), "first reply") {
		t.Error("the logs quote a message")
	}
}

// replies returns the counselor replies the bot delivered to u, without
// their header.
func replies(fake *telegramtest.Server, u *telegramtest.User) []string {
	var out []string
	for _, m := range fake.Messages(u.ChatID()) {
		if head, body, ok := strings.Cut(m.PlainText, ":\n\n"); ok && strings.Contains(head, "replied to your report") {
			out = append(out, body)
		}
	}
	return out
}

func lastDelivery(t *testing.T, tr *triage.Service, sess *triage.Session, uid string) hotline.Delivery {
	t.Helper()
	_, msgs, err := tr.Thread(context.Background(), sess, uid)
	if err != nil {
		t.Fatal(err)
	}
	return msgs[len(msgs)-1].Delivery
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
