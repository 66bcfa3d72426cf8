package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decode the cleaned photo
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

func canaryText(prefix string) string { return fmt.Sprintf("%s%016x", prefix, rand.Uint64()) }

// userCanaries are what identifies a simulated user: the chat id in every
// encoding, the username and the first name.
func userCanaries(u *telegramsim.User) [][]byte {
	out := chatCanaries(u.ChatID())
	return append(out, []byte(u.Info().Username), []byte(u.Info().FirstName))
}

// threadBodies returns the non-empty bodies of a tip's thread, in order.
func (e *botEnv) threadBodies(uid string) []*hotline.Message {
	e.t.Helper()
	_, msgs, err := e.m.Triage.Thread(context.Background(), e.sess, uid)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

// chatTip returns the one tip linked to a chat.
func (e *botEnv) chatTip(chatID int64) *hotline.Tip {
	e.t.Helper()
	tips, err := e.m.Intake.ChatTips(context.Background(), chatID)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(tips) != 1 {
		e.t.Fatalf("tips of the chat: got %d, want 1", len(tips))
	}
	return tips[0]
}

// A student opens t.me/<bot>?start=demo, reports in Chinese with a photo
// carrying EXIF/GPS, gets an alias; the tip is in the school's queue; a
// counselor's reply arrives in the chat; the student's answer joins the
// thread. Afterwards nothing identifying or said is readable at rest.
func TestBotReportReplyAndAnswer(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := context.Background()
	exifCanary := canaryText("GPSCANARY")
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-hans", FirstName: canaryText("小明"), Username: canaryText("xm_")})
	texts := []string{canaryText("他们在厕所里推我，还抢我的饭卡 "), canaryText("已经两个星期了 ")}
	submitted, err := s.report(texts, exifJPEG(t, exifCanary))
	if err != nil {
		t.Fatal(err)
	}
	tip := e.chatTip(s.u.ChatID())
	if !strings.Contains(submitted.PlainText, "「"+tip.Alias.ZH+"」") {
		t.Fatalf("submitted message: got %q, want the alias 「%s」", submitted.PlainText, tip.Alias.ZH)
	}

	// The tip is in the school's queue, from Telegram, not urgent.
	queue, _, err := e.m.Triage.Queue(ctx, e.actor(), hotline.TipFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var inQueue *hotline.Tip
	for _, q := range queue {
		if q.UID == tip.UID {
			inQueue = q
		}
	}
	if inQueue == nil || inQueue.Channel != hotline.ChannelTelegram || inQueue.Urgent {
		t.Fatalf("queue: got %+v, want the tip from telegram, not urgent", inQueue)
	}
	msgs := e.threadBodies(tip.UID)
	if len(msgs) != 3 || msgs[0].Body != strings.TrimSpace(texts[0]) || msgs[1].Body != strings.TrimSpace(texts[1]) || msgs[2].Photo == nil {
		t.Fatalf("thread: got %d messages %+v, want the two texts and the photo", len(msgs), msgs)
	}

	// The photo has lost its EXIF/GPS, decodes, and carries no canary.
	photo, err := e.m.Triage.Photo(ctx, e.sess, msgs[2].UID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := image.Decode(bytes.NewReader(photo.Data)); err != nil {
		t.Fatalf("cleaned photo: got %v, want a decodable image", err)
	}
	for _, bad := range []string{"Exif\x00\x00", exifCanary, "MM\x00*"} {
		if bytes.Contains(photo.Data, []byte(bad)) {
			t.Errorf("cleaned photo contains %q", bad)
		}
	}

	// A counselor replies; it arrives in the chat, reading naturally.
	reply := canaryText("谢谢你告诉我们，这不是你的错。")
	if _, err := e.m.Triage.Reply(ctx, e.actor(), tip.UID, reply, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.wait("the counselor's reply", containsText(reply))
	if err != nil {
		t.Fatal(err)
	}
	if want := "学校老师回复了你的报告「" + tip.Alias.ZH + "」：\n\n" + reply; got.PlainText != want {
		t.Errorf("reply in chat: got %q, want %q", got.PlainText, want)
	}

	// The student answers; it joins the thread after the reply.
	answer := canaryText("好的，我明天中午有空 ")
	s.u.SendText(answer)
	if _, err := s.wait("answer acknowledged", func(telegramsim.SentMessage) bool { return true }); err != nil {
		t.Fatal(err)
	}
	msgs = e.threadBodies(tip.UID)
	last := msgs[len(msgs)-1]
	if last.Body != strings.TrimSpace(answer) || last.Author != hotline.AuthorReporter || msgs[len(msgs)-2].Body != reply {
		t.Fatalf("thread end: got %q by %s after %q, want the answer after the reply", last.Body, last.Author, msgs[len(msgs)-2].Body)
	}
	if msgs[len(msgs)-2].Delivery != hotline.DeliveryDelivered {
		t.Errorf("reply delivery: got %q, want delivered", msgs[len(msgs)-2].Delivery)
	}

	// Every callback query was answered, and the command menu is set in zh and en.
	if n := len(e.srv.CallbackAnswers()); n < 5 {
		t.Errorf("callback answers: got %d, want one per button press (5)", n)
	}
	for _, lang := range []string{"zh", "en"} {
		if len(e.srv.Commands(lang)) == 0 {
			t.Errorf("setMyCommands %s: none", lang)
		}
	}

	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	canaries := userCanaries(s.u)
	for _, c := range append(texts, reply, answer, exifCanary) {
		canaries = append(canaries, []byte(strings.TrimSpace(c)))
	}
	scanDataDir(t, e.dir, canaries)
}

// An urgent message gets the safety guidance first, then the tip is urgent.
func TestBotUrgentSafetyFirst(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := context.Background()
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-CN"})
	s.u.SendCommand("/start demo")
	for _, data := range []string{"role:victim", "cat:physical"} {
		if err := s.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.wait("what happened?", containsText("发生了什么")); err != nil {
		t.Fatal(err)
	}
	s.u.SendText("他说放学后要带刀来找我")
	first, err := s.wait("the reply to the urgent text", func(telegramsim.SentMessage) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"110", "120", "12355", "010-6543 2100"} {
		if !strings.Contains(first.PlainText, want) {
			t.Errorf("first reply to an urgent text: got %q, want it to contain %q", first.PlainText, want)
		}
	}
	done, err := s.wait("done button", hasButton("done"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.u.PressOn(done, "done"); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{"danger:yes", "send"} {
		if err := s.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.wait("alias", containsText("/status")); err != nil {
		t.Fatal(err)
	}
	if tip := e.chatTip(s.u.ChatID()); !tip.Urgent {
		t.Fatalf("tip: got urgent=false, want urgent")
	}
}

// 100 students chat at once, each sending several messages back to back:
// every message lands in its own student's thread, in the order sent.
func TestBotManyStudentsAtOnce(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := context.Background()
	const n, follow = 100, 4
	students := make([]*student, n)
	markers := make([]string, n)
	for i := range students {
		students[i] = e.student(ctx, telegramsim.UserOptions{LanguageCode: []string{"zh-hans", "en"}[i%2]})
		markers[i] = canaryText(fmt.Sprintf("M%03d-", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, s := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.report([]string{markers[i] + " first"}, nil); err != nil {
				errs <- fmt.Errorf("student %d: %w", i, err)
				return
			}
			// Follow-ups back to back, without waiting: order is the bot's job.
			for k := range follow {
				s.u.SendText(fmt.Sprintf("%s follow %d", markers[i], k))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var canaries [][]byte
	for i, s := range students {
		tip := e.chatTip(s.u.ChatID())
		want := []string{markers[i] + " first"}
		for k := range follow {
			want = append(want, fmt.Sprintf("%s follow %d", markers[i], k))
		}
		var got []string
		for {
			got = got[:0]
			for _, m := range e.threadBodies(tip.UID) {
				got = append(got, m.Body)
			}
			if len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("student %d thread:\n got %q\nwant %q", i, got, want)
		}
		canaries = append(canaries, userCanaries(s.u)...)
		canaries = append(canaries, []byte(markers[i]))
	}
	if p := e.m.Bot.Panics(); p != 0 {
		t.Errorf("handler panics: got %d, want 0", p)
	}
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	scanDataDir(t, e.dir, canaries)
}

// With 30% of Bot API calls failing (429, 500, slow past the timeout,
// dropped, accepted with the answer lost) and a restart of the server half
// way, every counselor reply reaches its chat, in order; a reply shows up
// twice only where Telegram accepted it and the answer was lost.
//
// Not parallel: it counts a duplicate as explained only by an injected lost
// answer, which holds while an ordinary call answers within the 1s call
// timeout; other tests of the package loading the CPU break that.
func TestBotRepliesSurviveFaultsAndRestart(t *testing.T) {
	e := &botEnv{t: t, dir: t.TempDir(), srv: telegramtest.New(t, telegramsim.Config{}), logs: &syncBuffer{}}
	e.start()
	ctx := context.Background()
	const chats, before, after = 20, 5, 3
	type chat struct {
		u   *telegramsim.User
		tip string
	}
	cs := make([]chat, chats)
	for i := range cs {
		u := e.srv.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
		res, err := e.m.Intake.Submit(ctx, hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelTelegram, Lang: hotline.LangZH,
			Texts: []string{fmt.Sprintf("report %d", i)}, ChatID: u.ChatID()})
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = chat{u, res.TipUID}
	}
	marker := func(i, k int) string { return fmt.Sprintf("R%02d-%02d.", i, k) }
	reply := func(from, to int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := from; k < to; k++ {
					if _, err := e.m.Triage.Reply(ctx, e.actor(), cs[i].tip, marker(i, k)+" 请明天中午来心理咨询室", nil); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	// Slow answers stay under the send timeout: the fake handles a slow
	// request even after the client gave up on it, which is a lost answer
	// it does not mark. Dropped connections stand for timeouts.
	e.srv.SetFaults(telegramsim.Faults{Rate: 0.3, RetryAfter: 1, SlowDelay: 300 * time.Millisecond, Seed: 42})
	reply(0, before)

	// seq returns, per chat, which replies arrived, in arrival order.
	seq := func(i int) (got []int, msgs []telegramsim.SentMessage) {
		msgs = e.srv.Messages(cs[i].u.ChatID())
		for _, m := range msgs {
			for k := range before + after {
				if strings.Contains(m.PlainText, marker(i, k)) {
					got = append(got, k)
				}
			}
		}
		return got, msgs
	}
	delivered := func() int {
		n := 0
		for i := range cs {
			got, _ := seq(i)
			n += len(got)
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for delivered() < chats*before/2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	pending, _ := e.m.DB.OutboxLen(ctx)
	e.restart()
	reply(before, before+after)

	total := before + after
	complete := func() bool {
		for i := range cs {
			got, _ := seq(i)
			seen := map[int]bool{}
			for _, k := range got {
				seen[k] = true
			}
			if len(seen) < total {
				return false
			}
		}
		n, err := e.m.DB.OutboxLen(ctx)
		return err == nil && n == 0
	}
	deadline = time.Now().Add(60 * time.Second)
	for !complete() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	e.srv.ClearFaults()

	dups, lost := 0, 0
	for i := range cs {
		got, msgs := seq(i)
		for _, m := range msgs {
			if m.AnswerLost {
				lost++
			}
		}
		var firsts []int
		seen := map[int]bool{}
		lostCopy := map[int]bool{} // a copy of reply k was accepted with its answer lost
		for _, m := range msgs {
			for k := range total {
				if !strings.Contains(m.PlainText, marker(i, k)) {
					continue
				}
				if !seen[k] {
					seen[k] = true
					firsts = append(firsts, k)
				} else {
					dups++
					if !lostCopy[k] {
						t.Errorf("chat %d: reply %d arrived again without a lost answer before it", i, k)
					}
				}
				lostCopy[k] = lostCopy[k] || m.AnswerLost
			}
		}
		want := make([]int, total)
		for k := range want {
			want[k] = k
		}
		if fmt.Sprint(firsts) != fmt.Sprint(want) {
			t.Errorf("chat %d: replies arrived as %v, want %v", i, got, want)
		}
		_, thread, err := e.m.Triage.Thread(ctx, e.sess, cs[i].tip)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range thread {
			if m.Author == hotline.AuthorCounselor && m.Delivery != hotline.DeliveryDelivered {
				t.Errorf("chat %d: reply delivery %q, want delivered", i, m.Delivery)
			}
		}
	}
	if dups > lost {
		t.Errorf("duplicates: got %d, want at most the %d lost answers", dups, lost)
	}
	if pending == 0 {
		t.Errorf("restart: nothing was waiting in the outbox; want a restart mid-way")
	}
	// The logs, at debug level, name no chat and quote no reply.
	logs := e.logs.String()
	for i := range cs {
		for _, c := range append([]string{marker(i, 0), "请明天中午来心理咨询室", e.srv.Token()}, string(chatCanaries(cs[i].u.ChatID())[0])) {
			if strings.Contains(logs, c) {
				t.Errorf("logs contain %q", c)
			}
		}
	}
	t.Logf("%d log lines; faults injected: %v; replies: %d (%d waiting at the restart), duplicates: %d, lost answers: %d", strings.Count(logs, "\n"), e.srv.FaultCounts(), chats*total, pending, dups, lost)
}

// A chat that blocked the bot: its replies are marked undeliverable, the
// handle too, and the case's timeline says so; other chats are unaffected.
func TestBotBlockedChatUndeliverable(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := context.Background()
	var tips []string
	var users []*telegramsim.User
	for i := range 2 {
		u := e.srv.NewUser(telegramsim.UserOptions{})
		res, err := e.m.Intake.Submit(ctx, hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelTelegram, Lang: hotline.LangEN,
			Texts: []string{fmt.Sprintf("report %d", i)}, ChatID: u.ChatID()})
		if err != nil {
			t.Fatal(err)
		}
		tips, users = append(tips, res.TipUID), append(users, u)
	}
	users[0].BlockBot()
	for _, uid := range tips {
		if _, err := e.m.Triage.Reply(ctx, e.actor(), uid, "Thank you for telling us.", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.srv.WaitMessage(ctxTimeout(t, 10*time.Second), users[1].ChatID(), containsText("Thank you")); err != nil {
		t.Fatal(err)
	}
	if m := e.srv.Messages(users[1].ChatID())[0].PlainText; m != "A counselor at your school replied to your report \""+e.chatTip(users[1].ChatID()).Alias.EN+"\":\n\nThank you for telling us." {
		t.Errorf("English reply: got %q", m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		reachable, err := e.m.Triage.ReporterReachable(ctx, e.actor(), tips[0])
		if err != nil {
			t.Fatal(err)
		}
		if !reachable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("blocked chat: still reachable")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, thread, err := e.m.Triage.Thread(ctx, e.sess, tips[0])
	if err != nil {
		t.Fatal(err)
	}
	if d := thread[len(thread)-1].Delivery; d != hotline.DeliveryUndeliverable {
		t.Errorf("blocked chat reply: got %q, want undeliverable", d)
	}
	events, err := e.m.Triage.Timeline(ctx, e.actor(), tips[0])
	if err != nil {
		t.Fatal(err)
	}
	if events[len(events)-1].Kind != hotline.EventUndeliverable {
		t.Errorf("last event: got %s, want %s", events[len(events)-1].Kind, hotline.EventUndeliverable)
	}
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// In webhook mode the fake pushes updates to Main's webhook path with the
// secret token; a request without it is refused.
func TestBotWebhookMode(t *testing.T) {
	t.Parallel()
	e := &botEnv{t: t, dir: t.TempDir(), srv: telegramtest.New(t, telegramsim.Config{}), webhook: "/telegram/hook"}
	e.start()
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Webhook().URL == "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	wh := e.srv.Webhook()
	if wh.URL != e.m.URL()+"/telegram/hook" || wh.SecretToken != testWebhookSecret {
		t.Fatalf("webhook: got %q with a %d-byte secret, want %q with the configured secret", wh.URL, len(wh.SecretToken), e.m.URL()+"/telegram/hook")
	}
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "en"})
	if _, err := s.report([]string{"They took my phone at lunch."}, nil); err != nil {
		t.Fatal(err)
	}
	if tip := e.chatTip(s.u.ChatID()); tip.Channel != hotline.ChannelTelegram {
		t.Fatalf("tip channel: got %s", tip.Channel)
	}
	for _, secret := range []string{"", "wrong"} {
		code, err := e.srv.PostUpdate(ctx, wh.URL, secret, telegramsim.Update{UpdateID: 999999})
		if err != nil || code != 403 {
			t.Errorf("webhook with secret %q: got %d %v, want 403", secret, code, err)
		}
	}
}
