package dialog

import (
	"context"
	"strings"
	"testing"
)

// TestHelpFitsTheChannel: the web chat's help names no Telegram-only
// command and tells how to come back; Telegram's names /forget and /tips.
func TestHelpFitsTheChannel(t *testing.T) {
	e := newEngine(newWorld(), newMemStore())
	ctx := context.Background()
	text := func(k Key) string {
		replies, err := e.Handle(ctx, k, cmd("help", ""))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, r := range replies {
			b.WriteString(r.Text)
		}
		return b.String()
	}
	webHelp, tgHelp := text(web), text(tg)
	if strings.Contains(webHelp, "/forget") || strings.Contains(webHelp, "/tips") || !strings.Contains(webHelp, "回执码") {
		t.Errorf("web help:\n%s", webHelp)
	}
	if !strings.Contains(tgHelp, "/forget") || !strings.Contains(tgHelp, "/tips") {
		t.Errorf("telegram help:\n%s", tgHelp)
	}
}

// TestStartKeepsAnUnsentDraft: tapping the poster's deep link again in the
// middle of a report keeps what the child already wrote.
func TestStartKeepsAnUnsentDraft(t *testing.T) {
	w := newWorld()
	e := newEngine(w, newMemStore())
	ctx := context.Background()
	for _, ev := range []Event{cmd("start", "demo"), tap("role:victim"), tap("cat:physical"), txt("他们在厕所打我")} {
		if _, err := e.Handle(ctx, tg, ev); err != nil {
			t.Fatal(err)
		}
	}
	replies, err := e.Handle(ctx, tg, cmd("start", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, r := range replies {
		all.WriteString(r.Text)
	}
	if !strings.Contains(all.String(), "帮你留着") {
		t.Fatalf("start with a draft said:\n%s", all.String())
	}
	for _, ev := range []Event{tap("done"), tap("danger:no"), tap("send")} {
		if _, err := e.Handle(ctx, tg, ev); err != nil {
			t.Fatal(err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.subs) != 1 || len(w.subs[0].Texts) != 1 || w.subs[0].Texts[0] != "他们在厕所打我" {
		t.Fatalf("submissions = %+v", w.subs)
	}
}

// TestSafetyGuidanceInFullOnceThenShort: the full guidance comes the moment
// danger shows; repeats in the same report are short but keep the numbers.
func TestSafetyGuidanceInFullOnceThenShort(t *testing.T) {
	e := newEngine(newWorld(), newMemStore())
	ctx := context.Background()
	safety := func(ev Event) (string, bool) {
		replies, err := e.Handle(ctx, tg, ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(replies) > 0 && replies[0].Kind == ReplySafety {
			return replies[0].Text, true
		}
		return "", false
	}
	for _, ev := range []Event{cmd("start", "demo"), tap("role:victim"), tap("cat:physical")} {
		safety(ev)
	}
	first, ok := safety(txt("他说放学后要带刀来找我"))
	if !ok || !strings.Contains(first, "先去安全") || !strings.Contains(first, "010-1234567") {
		t.Fatalf("first guidance: %q", first)
	}
	safety(tap("done"))
	again, ok := safety(tap("danger:yes"))
	if !ok || strings.Contains(again, "先去安全") {
		t.Fatalf("repeat should be short: %q", again)
	}
	for _, n := range []string{"110", "120", "12355", "010-1234567"} {
		if !strings.Contains(again, n) {
			t.Errorf("short reminder lacks %s: %q", n, again)
		}
	}
	if atSend, ok := safety(tap("send")); !ok || !strings.Contains(atSend, "110") {
		t.Fatalf("submission of an urgent report must start with safety: %q", atSend)
	}
}
