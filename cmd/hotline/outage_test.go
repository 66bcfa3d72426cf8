package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// outageMarker finds the markers of the outage test in stored threads.
var outageMarker = regexp.MustCompile(`OUT-[a-z]+-[0-9]+-[0-9]+`)

// TestPostgresOutageLosesNoTelegramMessage stops PostgreSQL (a cluster of
// the test's own, never the shared one) while Telegram updates are in
// flight, again and again: follow-ups of filed reports, and words written
// into drafts, which a saved draft acknowledges with "不会丢". An update
// whose effect did not commit is not confirmed to Telegram and is applied
// once the database is back: every message is stored exactly once, no
// reporter is told "不会丢失", and a reporter told "不会丢" has those words
// in the report they file.
func TestPostgresOutageLosesNoTelegramMessage(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("the PostgreSQL pass: an outage of the database server")
	}
	const rounds, followers = 20, 4
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a hang guard
	defer cancel()
	cluster := pgtest.NewCluster(t)
	dsn := cluster.CreateDatabase("hotline")
	tg := telegramtest.New(t, telegramsim.Config{})
	logs := &syncBuffer{}
	m := MustOpenMain(t, func(m *Main) {
		m.Config.Database = dsn
		m.Config.TelegramToken = tg.Token()
		m.Config.TelegramAPIURL = tg.URL()
		fastTelegram(m)
		m.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()

	// Followers have filed a report: each round they write a follow-up.
	var fol []*student
	for range followers {
		s := &student{t: t, ctx: ctx, u: tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})}
		if _, err := s.report([]string{"课间有同学抢我的文具。"}, nil); err != nil {
			t.Fatal(err)
		}
		fol = append(fol, s)
	}
	// stored counts each marker in every thread the counselor can read.
	stored := func() map[string]int {
		n := map[string]int{}
		tips, _, err := m.Triage.Queue(ctx, sess.Actor(), hotline.TipFilter{Limit: 500})
		if err != nil {
			return nil // the database is still coming back
		}
		for _, tip := range tips {
			_, msgs, err := m.Triage.Thread(ctx, sess, tip.UID)
			if err != nil {
				return nil
			}
			for _, msg := range msgs {
				for _, mk := range outageMarker.FindAllString(msg.Body, -1) {
					n[mk]++
				}
			}
		}
		return n
	}
	var (
		mu      sync.Mutex
		written []string   // every marker a reporter sent
		drafts  []*student // reporters with words in an unsent draft
	)
	for r := range rounds {
		// A reporter who has opened the bot and writes before answering
		// the first question: the words go into the draft ("不会丢").
		d := &student{t: t, ctx: ctx, u: tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})}
		d.u.SendCommand("/start demo")
		if _, err := d.wait("role question", hasButton("role:victim")); err != nil {
			t.Fatal(err)
		}
		drafts = append(drafts, d)
		var wg sync.WaitGroup
		send := func(u *telegramsim.User, mk, text string) {
			mu.Lock()
			written = append(written, mk)
			mu.Unlock()
			u.SendText(text + mk)
		}
		for i, s := range fol {
			wg.Go(func() {
				time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
				send(s.u, fmt.Sprintf("OUT-fu-%d-%d", r, i), "他们今天又来了。")
			})
		}
		wg.Go(func() {
			time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
			send(d.u, fmt.Sprintf("OUT-draft-%d-0", r), "在操场后面被推倒了。")
		})
		// The database goes away while those are fetched and handled.
		time.Sleep(time.Duration(2+rand.IntN(15)) * time.Millisecond)
		cluster.Stop()
		wg.Wait()
		time.Sleep(time.Duration(200+rand.IntN(300)) * time.Millisecond)
		cluster.Start()
		// Every follow-up of the round reaches its thread (a lost one
		// never does: two minutes is a hang guard, not a speed bound).
		guard := time.Now().Add(2 * time.Minute)
		for {
			n := stored()
			all := n != nil
			for i := range fol {
				all = all && n[fmt.Sprintf("OUT-fu-%d-%d", r, i)] > 0
			}
			if all {
				break
			}
			if ctx.Err() != nil || time.Now().After(guard) {
				t.Fatalf("round %d: follow-ups not stored after the outage: %v\nlog:\n%s\n%s", r, n, tail(logs.String(), 4000), goroutines())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The draft writers file their reports now: their words must be in.
	for _, d := range drafts {
		for _, data := range []string{"role:victim", "cat:physical", "done", "danger:no", "send"} {
			if err := d.tap(data); err != nil {
				t.Fatalf("%v\nlog:\n%s\n%s", err, tail(logs.String(), 6000), goroutines())
			}
		}
		if _, err := d.wait("alias", containsText("/status")); err != nil {
			t.Fatalf("%v\nlog:\n%s\n%s", err, tail(logs.String(), 6000), goroutines())
		}
	}
	if err := tg.WaitUpdatesConsumed(ctx); err != nil {
		t.Fatalf("updates left unconfirmed: %v", err)
	}
	n := stored()
	var lost, dup []string
	for _, mk := range written {
		switch n[mk] {
		case 0:
			lost = append(lost, mk)
		case 1:
		default:
			dup = append(dup, fmt.Sprintf("%s ×%d", mk, n[mk]))
		}
	}
	notApplied := strings.Count(logs.String(), "update not applied")
	var falsePromise, kept, toldNotYet int
	for _, u := range append(append([]*student{}, fol...), drafts...) {
		for _, msg := range u.u.Messages() {
			switch {
			case strings.Contains(msg.PlainText, "不会丢失"):
				falsePromise++
				t.Errorf("a reporter was told %q", msg.PlainText)
			case strings.Contains(msg.PlainText, "不会丢"):
				kept++
			case strings.Contains(msg.PlainText, "还没有保存"):
				toldNotYet++
			}
		}
	}
	t.Logf("%d rounds with PostgreSQL stopped under %d updates each: %d messages written, %d lost, %d stored twice; %d tries not applied (and handled again), %d reporters told \"not saved yet\", %d told \"不会丢\" (all of whose words are stored)",
		rounds, followers+1, len(written), len(lost), len(dup), notApplied, toldNotYet, kept)
	if len(lost) > 0 {
		t.Errorf("messages lost: %v", lost)
	}
	if len(dup) > 0 {
		t.Errorf("messages stored twice: %v", dup)
	}
	if notApplied == 0 {
		t.Error("no update was in flight when the database stopped: the race was never run")
	}
	if t.Failed() {
		t.Logf("log:\n%s", tail(logs.String(), 6000))
	}
}

// TestDiskFullTelegramTextsAgree: while the database takes no writes (a
// full disk), a reporter who opens the bot and writes hears once, and only,
// that their message is not saved yet and will be handled by itself —
// never "先记下了，不会丢" beside "没有保存", never the privacy notice again
// and again; when writes come back their messages are applied in order and
// the conversation starts once.
func TestDiskFullTelegramTextsAgree(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a hang guard
	defer cancel()
	e := newBotEnv(t)
	setWritable(t, e.m, false)
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-hans"})
	s.u.SendCommand("/start demo")
	s.u.SendText("他们在厕所堵我，还抢了我的钱。")
	s.u.SendText("今天又来了。")
	if _, err := s.wait("not saved yet", containsText("还没有保存")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a dozen tries of the first update
	told := s.u.Messages()
	if len(told) != 1 {
		var got []string
		for _, m := range told {
			got = append(got, m.PlainText)
		}
		t.Fatalf("while the disk is full the reporter was told %q, want one message", got)
	}
	if m := told[0].PlainText; strings.Contains(m, "不会丢") || strings.Contains(m, "隐私") || !strings.Contains(m, "不用再发") {
		t.Errorf("while the disk is full: %q", m)
	}
	setWritable(t, e.m, true)
	if _, err := s.wait("the role question", hasButton("role:victim")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.wait("the second message kept", containsText("不会丢")); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitUpdatesConsumed(ctx); err != nil {
		t.Fatal(err)
	}
	privacy := 0
	for _, m := range s.u.Messages() {
		if strings.Contains(m.PlainText, "先说说隐私") {
			privacy++
		}
	}
	if privacy != 1 {
		t.Errorf("the privacy notice came %d times, want once", privacy)
	}
}

// goroutines is where the server's goroutines stand, grouped by stack: a
// report that never arrives after an outage (two such failures under load,
// cause not found) shows whether something is stuck, and where.
func goroutines() string {
	var b strings.Builder
	b.WriteString("goroutines:\n")
	pprof.Lookup("goroutine").WriteTo(&b, 1)
	if b.Len() > 200000 {
		return b.String()[:200000] + "…"
	}
	return b.String()
}
