package dialog

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// Prompt repeats the current question at every step, in the
// conversation's language, and writes nothing: the saved state stays
// byte for byte, and no report or message reaches the school.
func TestPromptRepeatsQuestionWithoutWriting(t *testing.T) {
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	ctx := context.Background()
	prompt := func(step string, lang hotline.Lang, has ...string) []Reply {
		t.Helper()
		before := s.raw(tg)
		subs, msgs := len(w.subs), len(w.msgs)
		rs, err := e.Prompt(ctx, tg, lang)
		if err != nil {
			t.Fatalf("%s: error: got %v, want nil", step, err)
		}
		got := show(rs)
		for _, h := range has {
			if !strings.Contains(got, h) {
				t.Errorf("%s: got\n%s want it to contain %q", step, got, h)
			}
		}
		if after := s.raw(tg); !bytes.Equal(before, after) {
			t.Errorf("%s: saved state changed by Prompt", step)
		}
		if len(w.subs) != subs || len(w.msgs) != msgs {
			t.Errorf("%s: Prompt reached the school: submissions %d→%d, messages %d→%d", step, subs, len(w.subs), msgs, len(w.msgs))
		}
		for j, r := range rs {
			if j > 0 && r.Kind == ReplySafety {
				t.Errorf("%s: safety at position %d, want it first", step, j)
			}
		}
		return rs
	}
	handle := func(ev Event) {
		t.Helper()
		if _, err := e.Handle(ctx, tg, withLang(ev, hotline.LangEN)); err != nil {
			t.Fatal(err)
		}
	}

	// No conversation yet: the greeting, in the hinted language, unsaved.
	rs := prompt("fresh", hotline.LangEN, "|lang:zh")
	if rs[0].Kind != ReplyPrivacy || s.raw(tg) != nil {
		t.Errorf("fresh: got %v, saved %v; want the privacy notice first and nothing saved", kinds(rs), s.raw(tg) != nil)
	}

	handle(cmd("start", "demo"))
	prompt("role", hotline.LangZH, "|role:victim", "Which of these is you?")
	handle(tap("role:victim"))
	handle(tap("cat:physical"))
	handle(txt("they took my lunch money"))
	rs = prompt("draft", hotline.LangZH, "|done")
	if slices.ContainsFunc(rs, func(r Reply) bool { return r.Kind == ReplySafety }) {
		t.Errorf("draft: got safety guidance for a draft that is not urgent\n%s", show(rs))
	}
	handle(txt("he showed a knife"))
	rs = prompt("urgent draft", "", "|urgent:send", "|done", "010-1234567")
	if rs[0].Kind != ReplySafety {
		t.Errorf("urgent draft: got %v, want safety first", kinds(rs))
	}
	handle(tap(dataUrgent))
	if len(w.subs) != 1 {
		t.Fatalf("submissions: got %d, want 1", len(w.subs))
	}
	rs = prompt("sent", "", "[submitted] This report has already been sent", "Blue Fox", "|cmd:status")
	if rs[0].Kind != ReplySubmitted || rs[0].Alias != "Blue Fox" || rs[0].TipUID == "" {
		t.Errorf("sent: got %+v first, want the submitted notice with alias and tip", rs[0])
	}
}

// A key that names no conversation, or a store that cannot be read, gets
// a safe error reply and its error.
func TestPromptErrors(t *testing.T) {
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	if rs, err := e.Prompt(context.Background(), Key{Channel: hotline.ChannelTelegram}, hotline.LangEN); err == nil || len(rs) != 1 || rs[0].Kind != ReplyError {
		t.Errorf("bad key: got %v %v, want an error reply and ErrBadKey", kinds(rs), err)
	}
	s.loadErr = errBoom
	if rs, err := e.Prompt(context.Background(), tg, hotline.LangEN); err == nil || len(rs) != 1 || rs[0].Kind != ReplyError || strings.Contains(rs[0].Text, "locked") {
		t.Errorf("load failure: got %s %v, want a safe error reply and the error", show(rs), err)
	}
}
