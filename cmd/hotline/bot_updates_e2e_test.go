package main

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"hotline/internal/sim/telegramsim"
)

// countBodies counts the messages of a tip's thread whose body is text.
func (e *botEnv) countBodies(uid, text string) int {
	n := 0
	for _, m := range e.threadBodies(uid) {
		if m.Body == text {
			n++
		}
	}
	return n
}

// plainTexts lists the messages' texts, for failure messages.
func plainTexts(ms []telegramsim.SentMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.PlainText
	}
	return out
}

// Every update is handled and stored, then the process stops before
// Telegram hears of it (the fake keeps every update, as after a crash
// before the confirming poll); the restarted process is sent everything
// again and applies none of it twice: one case per chat, the report's
// text, a follow-up and a draft each stored once; instead of the replies,
// which are not sent again, each chat gets its current question once.
func TestBotCrashBeforeConfirmAppliesOnce(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	e.srv.SetKeepUpdates(true)
	ctx := context.Background()

	a := e.student(ctx, telegramsim.UserOptions{LanguageCode: "en"})
	reportText := canaryText("REPORT-")
	if _, err := a.report([]string{reportText}, nil); err != nil {
		t.Fatal(err)
	}
	followUp := canaryText("FOLLOWUP-")
	a.u.SendText(followUp)
	if _, err := a.wait("follow-up acknowledged", containsText("Sent to the counselor")); err != nil {
		t.Fatal(err)
	}

	b := e.student(ctx, telegramsim.UserOptions{LanguageCode: "en"})
	b.u.SendCommand("/start demo")
	for _, data := range []string{"role:victim", "cat:physical"} {
		if err := b.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	draft := canaryText("DRAFT-")
	b.u.SendText(draft)
	doneMsg, err := b.wait("draft acknowledged", hasButton("done"))
	if err != nil {
		t.Fatal(err)
	}

	sentA, sentB := len(e.srv.Messages(a.u.ChatID())), len(e.srv.Messages(b.u.ChatID()))
	updates := e.srv.PendingUpdates()
	e.restart()
	deadline := time.Now().Add(30 * time.Second)
	for e.m.Bot.Redelivered() < int64(updates) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.m.Bot.Redelivered(); got != int64(updates) {
		t.Errorf("redelivered updates recognised: got %d, want all %d", got, updates)
	}
	e.srv.SetKeepUpdates(false)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := e.srv.WaitUpdatesConsumed(wctx); err != nil {
		t.Fatalf("after the restart: %v", err)
	}
	// Each chat is answered once, whatever number of its updates came
	// again, with where it stands: the answers before the crash may never
	// have left. A is told its report was sent and that it can write on;
	// B is asked for more of its draft, with the "done" button.
	afterA, afterB := e.srv.Messages(a.u.ChatID())[sentA:], e.srv.Messages(b.u.ChatID())[sentB:]
	// The detector may be unsure of the random canaries: the safety
	// question is then the last answer before the crash (sent after the
	// message the test waited for) and, still waiting, part of where the
	// chat stands after it, last.
	afterA, afterB = withoutSafetyQuestion(afterA), withoutSafetyQuestion(afterB)
	if len(afterA) != 2 || !strings.Contains(afterA[0].PlainText, "already been sent") || !hasButton("cmd:status")(afterA[1]) {
		t.Errorf("chat A after the redelivery: got %q, want the sent notice and the follow-up prompt once", plainTexts(afterA))
	}
	if len(afterB) != 1 || !hasButton("done")(afterB[0]) {
		t.Errorf("chat B after the redelivery: got %q, want the draft's question once", plainTexts(afterB))
	}
	if n := e.countBodies(e.chatTip(a.u.ChatID()).UID, followUp); n != 1 {
		t.Errorf("follow-up after the redelivery: stored %d times, want once", n)
	}

	// The draft goes on where it was, from the repeated question, and is
	// sent once.
	if len(afterB) > 0 {
		doneMsg = afterB[len(afterB)-1]
	}
	if _, err := b.u.PressOn(doneMsg, "done"); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{"danger:no", "send"} {
		if err := b.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.wait("alias", containsText("/status")); err != nil {
		t.Fatal(err)
	}
	tipA, tipB := e.chatTip(a.u.ChatID()), e.chatTip(b.u.ChatID())
	for _, c := range []struct {
		tip, text string
	}{{tipA.UID, reportText}, {tipA.UID, followUp}, {tipB.UID, draft}} {
		if n := e.countBodies(c.tip, c.text); n != 1 {
			t.Errorf("%.9s…: stored %d times, want once", c.text, n)
		}
	}
	t.Logf("%d updates redelivered after the restart, all recognised", updates)
}

// Telegram's full 4096 characters are accepted and stored whole; 4097 are
// refused with a message that names the limit; an edit gets a note that
// the school does not see it, and the edited text stays out of the case.
func TestBotLongTextAndEdit(t *testing.T) {
	t.Parallel()
	e := newBotEnv(t)
	ctx := context.Background()
	s := e.student(ctx, telegramsim.UserOptions{LanguageCode: "en"})
	s.u.SendCommand("/start demo")
	for _, data := range []string{"role:witness", "cat:verbal"} {
		if err := s.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	s.u.SendText(strings.Repeat("欺", 4097))
	if _, err := s.wait("too long", containsText("at most 4096 characters")); err != nil {
		t.Fatal(err)
	}
	full := strings.Repeat("欺", 4095) + "!"
	sent := s.u.SendText(full)
	doneMsg, err := s.wait("4096 characters accepted", hasButton("done"))
	if err != nil {
		t.Fatal(err)
	}
	s.u.EditText(sent, "EDITED-TEXT")
	if _, err := s.wait("edit note", containsText("the school does not see edits")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.u.PressOn(doneMsg, "done"); err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{"danger:no", "send"} {
		if err := s.tap(data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.wait("alias", containsText("/status")); err != nil {
		t.Fatal(err)
	}
	msgs := e.threadBodies(e.chatTip(s.u.ChatID()).UID)
	if len(msgs) != 1 || msgs[0].Body != full || utf8.RuneCountInString(msgs[0].Body) != 4096 {
		t.Fatalf("thread: got %d messages, first of %d characters; want the 4096 characters once", len(msgs), utf8.RuneCountInString(msgs[0].Body))
	}

	// In Chinese too.
	z := e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-hans"})
	first := z.u.SendText("你好")
	if _, err := z.wait("an answer", func(telegramsim.SentMessage) bool { return true }); err != nil {
		t.Fatal(err)
	}
	z.u.EditText(first, "改了")
	if _, err := z.wait("edit note in Chinese", containsText("学校看不到修改后的内容")); err != nil {
		t.Fatal(err)
	}
}

// withoutSafetyQuestion drops the safety question from the start and the
// end of ms.
func withoutSafetyQuestion(ms []telegramsim.SentMessage) []telegramsim.SentMessage {
	ask := func(m telegramsim.SentMessage) bool {
		return hasButton("safe:yes")(m) && strings.Contains(m.PlainText, "straight out")
	}
	if len(ms) > 0 && ask(ms[0]) {
		ms = ms[1:]
	}
	if len(ms) > 0 && ask(ms[len(ms)-1]) {
		ms = ms[:len(ms)-1]
	}
	return ms
}
