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
	"hotline/internal/sim/telegramsim"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/telegramtest"
	"hotline/internal/triage"
	"hotline/internal/urgency"
)

// world is a school, its services, the bot against a fake Bot API and the
// relay worker, as cmd/hotline wires them.
type world struct {
	ctx   context.Context
	db    *store.DB
	in    *intake.Service
	tr    *triage.Service
	sess  *staff.Session
	actor hotline.Actor
	fake  *telegramsim.Server
	w     *relay.Worker
	logs  *syncBuffer
}

func newWorld(t *testing.T) *world {
	db, v, _ := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	broker := live.NewBroker()
	in := intake.New(db, v, broker, nil)
	t.Cleanup(in.Close)
	tr := triage.New(db, v, broker, nil)
	st := staff.New(db, v, nil)
	school, err := st.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := st.Authenticate(ctx, school.Admin.Username, school.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := telegramtest.New(t, telegramsim.Config{})
	b, err := bot.New(ctx, bot.Config{Token: fake.Token(), APIURL: fake.URL(), Username: fake.Bot().Username, PollTimeout: time.Second, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	engine := &dialog.Engine{Intake: in, Reporters: in, Schools: in, Store: dialog.NewSealedStore(db, v), Urgent: urgency.Urgent}
	botDone := make(chan struct{})
	go func() { b.Run(ctx, engine); close(botDone) }()
	// A short poll: replies held for a blocked chat go out on the worker's
	// next read of the outbox after the reporter writes.
	w := &relay.Worker{DB: db, Vault: v, Sender: b, Notifier: broker, Logger: logger, PollInterval: 100 * time.Millisecond}
	relayDone := make(chan struct{})
	go func() { w.Run(ctx); close(relayDone) }()
	t.Cleanup(func() { cancel(); <-botDone; <-relayDone })
	return &world{ctx: ctx, db: db, in: in, tr: tr, sess: sess, actor: sess.Actor(), fake: fake, w: w, logs: logs}
}

// report files a Telegram report for u, as the dialog does on "send".
func (e *world) report(t *testing.T, u *telegramsim.User, text string) string {
	t.Helper()
	sub, err := e.in.Submit(e.ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, Lang: hotline.LangEN, Texts: []string{text}, ChatID: u.ChatID()})
	if err != nil {
		t.Fatal(err)
	}
	return sub.TipUID
}

func (e *world) reply(t *testing.T, uid, text string) {
	t.Helper()
	if _, err := e.tr.Reply(e.ctx, e.actor, uid, text, nil); err != nil {
		t.Fatal(err)
	}
}

func (e *world) reachable(t *testing.T, uid string) bool {
	ok, err := e.tr.ReporterReachable(e.ctx, e.actor, uid)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// block makes u block the bot and a reply to uid fail with 403: held.
func (e *world) block(t *testing.T, u *telegramsim.User, uid, text string) {
	t.Helper()
	u.BlockBot()
	e.reply(t, uid, text)
	waitUntil(t, "the 403 to mark the reporter unreachable", func() bool { return !e.reachable(t, uid) })
	if n, _ := e.db.OutboxLen(e.ctx); n != 1 {
		t.Fatalf("outbox after the 403: got %d rows, want the held reply", n)
	}
	if d := lastDelivery(t, e.tr, e.sess, uid); d != hotline.DeliveryUndeliverable {
		t.Errorf("held reply: got %q, want undeliverable while the reporter is away", d)
	}
	time.Sleep(300 * time.Millisecond)
	if s := e.w.Stats(); s.Blocked != 1 || s.Delivered != 0 {
		t.Fatalf("a held reply was tried again: %+v", s)
	}
}

// A reporter blocks the bot; a reply fails with 403 and is held, and the
// counselor sees the reporter as unreachable. The reporter unblocks the bot
// and writes to the case again: the held reply arrives, then the reply
// written after, each once and in order, both shown as delivered.
func TestBlockedReporterWritesAgainAndGetsHeldReply(t *testing.T) {
	t.Parallel()
	e := newWorld(t)
	ctx, tr, sess, fake := e.ctx, e.tr, e.sess, e.fake
	u := fake.NewUser(telegramsim.UserOptions{})
	uid := e.report(t, u, "they took my phone")
	e.block(t, u, uid, "first reply, while blocked")

	u.UnblockBot()
	u.SendCommand("/tips")
	kb, err := u.WaitMessage(ctxFor(t, 10*time.Second), func(m telegramsim.SentMessage) bool {
		_, ok := m.Button("tip:" + uid)
		return ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.PressOn(kb, "tip:"+uid); err != nil {
		t.Fatal(err)
	}
	u.SendText("I unblocked you, sorry")
	waitUntil(t, "the reporter's message to make them reachable", func() bool { return e.reachable(t, uid) })
	e.reply(t, uid, "second reply, after they wrote")
	waitUntil(t, "both replies", func() bool { return len(replies(fake, u)) >= 2 })
	time.Sleep(300 * time.Millisecond) // a duplicate would show by now
	if got, want := replies(fake, u), []string{"first reply, while blocked", "second reply, after they wrote"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("replies in the chat: got %q, want %q", got, want)
	}
	waitUntil(t, "both shown delivered", func() bool {
		_, msgs, err := tr.Thread(ctx, sess, uid)
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
	if strings.Contains(e.logs.String(), "unblocked you") || strings.Contains(e.logs.String(), "first reply") {
		t.Error("the logs quote a message")
	}
}

// A reporter blocks the bot and three replies are written while it stays
// blocked: the first fails with 403 and is held, the next two are held at
// once (never sent into the block). The reporter writes again and gets all
// three, each once, in the order they were written, all shown delivered.
func TestBlockedReporterGetsEveryReplyWrittenWhileBlocked(t *testing.T) {
	t.Parallel()
	e := newWorld(t)
	u := e.fake.NewUser(telegramsim.UserOptions{})
	uid := e.report(t, u, "they took my phone")
	e.block(t, u, uid, "reply 1, while blocked")
	e.reply(t, uid, "reply 2, while blocked")
	e.reply(t, uid, "reply 3, while blocked")
	if n, _ := e.db.OutboxLen(e.ctx); n != 3 {
		t.Fatalf("outbox while blocked: got %d rows, want the three replies held", n)
	}
	if d := lastDelivery(t, e.tr, e.sess, uid); d != hotline.DeliveryUndeliverable {
		t.Errorf("a reply written while blocked: got %q, want undeliverable until the reporter writes", d)
	}
	time.Sleep(300 * time.Millisecond)
	if s := e.w.Stats(); s.Blocked != 1 || s.Delivered != 0 {
		t.Fatalf("replies were sent into the block: %+v", s)
	}

	u.UnblockBot()
	u.SendCommand("/tips")
	kb, err := u.WaitMessage(ctxFor(t, 10*time.Second), func(m telegramsim.SentMessage) bool {
		_, ok := m.Button("tip:" + uid)
		return ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.PressOn(kb, "tip:"+uid); err != nil {
		t.Fatal(err)
	}
	u.SendText("I unblocked you, sorry")
	waitUntil(t, "the three held replies", func() bool { return len(replies(e.fake, u)) >= 3 })
	e.reply(t, uid, "reply 4, after they wrote")
	waitUntil(t, "the reply after", func() bool { return len(replies(e.fake, u)) >= 4 })
	time.Sleep(300 * time.Millisecond) // a duplicate would show by now
	want := []string{"reply 1, while blocked", "reply 2, while blocked", "reply 3, while blocked", "reply 4, after they wrote"}
	if got := replies(e.fake, u); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("replies in the chat: got %q, want %q", got, want)
	}
	waitUntil(t, "all four shown delivered", func() bool {
		_, msgs, err := e.tr.Thread(e.ctx, e.sess, uid)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Author == hotline.AuthorCounselor && m.Delivery == hotline.DeliveryDelivered {
				n++
			}
		}
		return n == 4
	})
}

// A reporter who blocked the bot and comes back with a new report gets the
// reply held for the old one too.
func TestBlockedReporterNewReportRevivesHeldReply(t *testing.T) {
	t.Parallel()
	e := newWorld(t)
	u := e.fake.NewUser(telegramsim.UserOptions{})
	old := e.report(t, u, "they took my phone")
	e.block(t, u, old, "reply to the first report")
	u.UnblockBot()
	e.report(t, u, "now they took my bag")
	if !e.reachable(t, old) {
		t.Error("the first report's reporter: still unreachable after a new report from the chat")
	}
	waitUntil(t, "the held reply", func() bool { return len(replies(e.fake, u)) >= 1 })
	if got := replies(e.fake, u); len(got) != 1 || got[0] != "reply to the first report" {
		t.Errorf("replies in the chat: got %q", got)
	}
}

// replies returns the counselor replies the bot delivered to u, without
// their header.
func replies(fake *telegramsim.Server, u *telegramsim.User) []string {
	var out []string
	for _, m := range fake.Messages(u.ChatID()) {
		if head, body, ok := strings.Cut(m.PlainText, ":\n\n"); ok && strings.Contains(head, "replied to your report") {
			out = append(out, body)
		}
	}
	return out
}

func lastDelivery(t *testing.T, tr *triage.Service, sess *staff.Session, uid string) hotline.Delivery {
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
