package dialog

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
)

// The test's own sentences: fakeUnsure is unsure of these, fakeUrgent
// sees nothing in them.
const (
	unsureZH = "有时候真想从所有人眼前消失"
	unsureEN = "sometimes I just want to disappear from everyone"
)

// handle is u.do returning the replies themselves.
func (u *urgentEnv) handle(k Key, ev Event) []Reply {
	u.t.Helper()
	rs, err := u.e.Handle(context.Background(), k, ev)
	if err != nil {
		u.t.Fatalf("%+v: %v", ev, err)
	}
	return rs
}

// toText brings a conversation on k to the "what happened" step of school
// demo.
func (u *urgentEnv) toText(k Key) {
	u.t.Helper()
	u.do(k, withSchool(cmd("start", "demo"), "demo"))
	u.do(k, tap("role:victim"))
	u.do(k, tap("cat:verbal"))
}

func isAsk(rs []Reply) bool {
	if len(rs) == 0 {
		return false
	}
	last := rs[len(rs)-1]
	return last.Kind == ReplyAsk && len(last.Buttons) >= 2 && last.Buttons[0][0].Data == dataSafeYes && last.Buttons[1][0].Data == dataSafeNo
}

// TestUnsureAsksAtOnce: an unsure text gets the question at once, last, in
// the reporter's language, with its two answers; the question and its
// deadline are saved (sealed state, clear deadline) and its asking is
// counted with the state; a second unsure text of the same draft is not
// asked again; the answers stay on the next prompts.
func TestUnsureAsksAtOnce(t *testing.T) {
	for _, tt := range []struct {
		k    Key
		lang hotline.Lang
		text string
		want string
	}{
		{tg, hotline.LangZH, unsureZH, "你现在有危险吗"},
		{web, hotline.LangEN, unsureEN, "are you in danger right now"},
	} {
		t.Run(string(tt.k.Channel), func(t *testing.T) {
			u := newUrgentEnv(t)
			u.do(tt.k, withLang(withSchool(cmd("start", "demo"), "demo"), tt.lang))
			u.do(tt.k, tap("role:victim"))
			u.do(tt.k, tap("cat:verbal"))
			rs := u.handle(tt.k, txt(tt.text))
			if !isAsk(rs) || !strings.Contains(rs[len(rs)-1].Text, tt.want) {
				t.Fatalf("replies: got\n%s want the question last, with yes and no", show(rs))
			}
			if rs[0].Kind == ReplySafety {
				t.Errorf("an unsure text got the urgent guidance first:\n%s", show(rs))
			}
			st := loadState(t, u.s, tt.k)
			due := u.clock.Now().Add(hotline.SafetyQuestionWait)
			if !st.draftWaiting() || !st.Ask.Due.Equal(due) || st.Key == nil {
				t.Fatalf("state: %+v, want the draft's question waiting until %v and the key kept", st.Ask, due)
			}
			m := u.meta(tt.k)
			if !m.AskDue.Equal(due) || !slices.Equal(m.Count, []string{hotline.SafetyCountAsked}) || m.CountSchool != "demo" {
				t.Errorf("meta: %+v, want the deadline and one asked for demo", m)
			}
			if len(st.Counts) != 0 {
				t.Errorf("counts left in the state after saving: %v", st.Counts)
			}
			rs = u.handle(tt.k, txt(tt.text+"，就是这样"))
			if isAsk(rs) {
				t.Errorf("asked twice in one draft:\n%s", show(rs))
			}
			if got := show(rs); !strings.Contains(got, dataSafeYes) || !strings.Contains(got, dataSafeNo) {
				t.Errorf("the next prompt lost the answers:\n%s", got)
			}
			if m := u.meta(tt.k); len(m.Count) != 0 {
				t.Errorf("counted again: %v", m.Count)
			}
		})
	}
}

// TestUnsureYesTakesTheUrgentPath: yes is the urgent path of today — the
// guidance first, the offer to send at once, the draft sent by itself
// after UrgentSendAfter with the flag's reason "asked".
func TestUnsureYesTakesTheUrgentPath(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(tg)
	u.do(tg, txt(unsureZH))
	rs := u.handle(tg, tap(dataSafeYes))
	if len(rs) < 2 || rs[0].Kind != ReplySafety || !strings.Contains(show(rs), dataUrgent) {
		t.Fatalf("yes: got\n%s want the guidance first and the offer to send", show(rs))
	}
	st := loadState(t, u.s, tg)
	if !st.DangerNow || st.UrgentAt.IsZero() || st.Ask.Answer != answerYes {
		t.Fatalf("state: danger %v, urgent at %v, answer %q", st.DangerNow, st.UrgentAt, st.Ask.Answer)
	}
	if m := u.meta(tg); !slices.Equal(m.Count, []string{hotline.SafetyCountYes}) || !m.AskDue.IsZero() {
		t.Errorf("meta: %+v, want yes counted and no deadline", m)
	}
	u.clock.Add(UrgentSendAfter)
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("sweeper sent %d, want the urgent draft", sent)
	}
	subs := u.subs()
	if len(subs) != 1 || !subs[0].DangerNow || !subs[0].SafetyYes || !subs[0].SafetyAsked || !subs[0].SafetyDue.IsZero() {
		t.Fatalf("submission: %+v, want danger now, yes, asked, nothing waiting", subs)
	}
}

// TestUnsureNoGoesOn: no is thanked and the report goes on as before; it
// is filed knowing it was asked, so intake does not ask again.
func TestUnsureNoGoesOn(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(web)
	u.do(web, txt(unsureZH))
	got := u.do(web, tap(dataSafeNo))
	if !strings.Contains(got, "谢谢你告诉我们") || !strings.Contains(got, "请写下发生了什么") {
		t.Fatalf("no: got\n%s want thanks, then the question of the step", got)
	}
	if st := loadState(t, u.s, web); st.DangerNow || !st.UrgentAt.IsZero() || st.Ask.Answer != answerNo {
		t.Fatalf("state after no: %+v", st)
	}
	u.do(web, tap(dataDone))
	u.do(web, tap(dataDangerNo))
	u.do(web, tap(dataSend))
	subs := u.subs()
	if len(subs) != 1 || !subs[0].SafetyAsked || subs[0].SafetyYes || subs[0].PossiblyUrgent || !subs[0].SafetyDue.IsZero() || subs[0].DangerNow {
		t.Fatalf("submission: %+v, want asked and answered no", subs)
	}
}

// TestUnsureSilenceFilesTheDraft: no answer within the wait, the school
// known — the sweeper files the draft at once, marked possibly urgent, not
// urgent (nobody paged), without waiting for role and kind, the no answer
// counted in the same commit; a restart in between loses nothing. A
// Telegram reporter is told at once by intake's notice; a web reporter at
// their next event, with their receipt. A late yes still takes the urgent
// path, on the filed report.
func TestUnsureSilenceFilesTheDraft(t *testing.T) {
	for _, tt := range []struct {
		k        Key
		notifies bool
	}{{tg, true}, {web, false}} {
		t.Run(string(tt.k.Channel), func(t *testing.T) {
			u := newUrgentEnv(t)
			u.w.notifies = tt.notifies
			u.w.schools[0].Settings.Deadlines.Ack = hotline.Duration(24 * time.Hour)
			u.do(tt.k, withSchool(cmd("start", "demo"), "demo"))
			// Asked before role and kind: the words came first.
			if rs := u.handle(tt.k, txt(unsureZH)); !isAsk(rs) || !strings.Contains(rs[len(rs)-1].Text, "5 分钟内没有回答的话，我们会把你写的内容发给学校") {
				t.Fatalf("question: got\n%s want it to say the draft goes to the school unanswered", show(rs))
			}
			u.clock.Add(hotline.SafetyQuestionWait - time.Second)
			if sent, _ := u.sweep(); sent != 0 {
				t.Fatal("sent before the wait was over")
			}
			u.clock.Add(time.Second)
			// Another engine on the same store: a restarted process.
			u.e = newEngine(u.w, u.s)
			u.e.Clock = u.clock
			if sent, deleted := u.sweep(); sent != 1 || deleted != 0 {
				t.Fatalf("sweeper sent %d, deleted %d: want the unanswered draft filed", sent, deleted)
			}
			subs := u.subs()
			if len(subs) != 1 || !subs[0].PossiblyUrgent || !subs[0].SafetyAsked || subs[0].SafetyYes || !subs[0].SafetyDue.IsZero() || !subs[0].Auto || subs[0].DangerNow || subs[0].Role.Valid() {
				t.Fatalf("submission: %+v, want one, automatic, possibly urgent, asked and unanswered, before role and kind", subs)
			}
			if u.w.tips[0].tip.Urgent || !u.w.tips[0].tip.PossiblyUrgent {
				t.Errorf("tip: urgent %v, possibly %v: want possibly urgent only", u.w.tips[0].tip.Urgent, u.w.tips[0].tip.PossiblyUrgent)
			}
			if got := u.s.counts("demo"); got[hotline.SafetyCountAsked] != 1 || got[hotline.SafetyCountNone] != 1 || len(got) != 2 {
				t.Errorf("counted: %v, want asked and no answer once", got)
			}
			st := loadState(t, u.s, tt.k)
			if st.hasDraft() || st.Step != stepFollow || st.Active != "tip-1" || st.Ask != nil || st.Sent == nil || !st.Sent.Possibly || st.Sent.Told != tt.notifies {
				t.Fatalf("state: step %s, active %q, ask %+v, sent %+v", st.Step, st.Active, st.Ask, st.Sent)
			}
			if m := u.meta(tt.k); !m.AskDue.IsZero() || !m.UrgentSince.IsZero() {
				t.Errorf("meta: %+v, want nothing left for the sweeper but the notice", m)
			}
			rs := u.handle(tt.k, txt("我在"))
			got := show(rs)
			switch {
			case tt.notifies:
				if strings.Contains(got, "没有收到回答") {
					t.Errorf("told again at the next event: got\n%s", got)
				}
			default:
				for _, want := range []string{"我们问你现在是否安全，5 分钟里没有收到回答", "请老师优先看", "学校会在 24 小时内回复", "回执码"} {
					if !strings.Contains(got, want) {
						t.Errorf("web, next event: got\n%s want %q", got, want)
					}
				}
				if !slices.ContainsFunc(rs, func(r Reply) bool { return r.Kind == ReplyReceipt && r.Receipt != "" }) {
					t.Errorf("web, next event: got\n%s want the receipt", got)
				}
				if strings.Contains(got, "紧急报告") {
					t.Errorf("web, next event: got\n%s: not an urgent report", got)
				}
			}
			u.w.mu.Lock()
			msgs := len(u.w.msgs)
			u.w.mu.Unlock()
			if msgs != 1 {
				t.Errorf("%d follow-ups, want the words written after the send", msgs)
			}
			// A late yes is still the urgent path, on the filed report now
			// (a web page answers with the receipt it was given).
			rs, err := u.e.HandleWithReceipt(context.Background(), tt.k, u.w.tips[0].receipt, tap(dataSafeYes))
			if err != nil || !strings.Contains(show(rs), "已经通知了学校的值班老师") {
				t.Errorf("late yes: got\n%s, %v", show(rs), err)
			}
			if len(u.w.answers) != 1 || !u.w.answers[0].yes || u.w.answers[0].ref.TipUID != "tip-1" {
				t.Errorf("answers: %+v, want one yes about tip-1", u.w.answers)
			}
		})
	}
}

// TestUnsureSilenceWithoutSchool: no answer and no school to send to —
// the draft is marked (the deadline gone), not sent; the reporter who
// comes back and sends it files it with the mark, and the counts go to the
// school's district once it is chosen.
func TestUnsureSilenceWithoutSchool(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", ""))
	if rs := u.handle(tg, txt(unsureZH)); !isAsk(rs) || !strings.Contains(rs[len(rs)-1].Text, "报告发给学校后，老师会优先看") {
		t.Fatalf("question without a school: got\n%s", show(rs))
	}
	u.clock.Add(hotline.SafetyQuestionWait)
	if sent, deleted := u.sweep(); sent != 0 || deleted != 0 {
		t.Fatalf("sweeper sent %d, deleted %d: no school, nothing to send", sent, deleted)
	}
	st := loadState(t, u.s, tg)
	if !st.PossiblyUrgent || st.Ask.Answer != answerNone || !st.hasDraft() || !slices.Equal(st.Counts, []string{hotline.SafetyCountAsked, hotline.SafetyCountNone}) {
		t.Fatalf("state: possibly %v, answer %q, draft %v, counts %v", st.PossiblyUrgent, st.Ask.Answer, st.hasDraft(), st.Counts)
	}
	if m := u.meta(tg); !m.AskDue.IsZero() || len(m.Count) != 0 {
		t.Errorf("meta: %+v, want no deadline, nothing counted before the school is known", m)
	}
	u.do(tg, txt("demo"))
	if got := u.s.counts("demo"); got[hotline.SafetyCountAsked] != 1 || got[hotline.SafetyCountNone] != 1 {
		t.Errorf("counted once the school is known: %v", got)
	}
	u.do(tg, tap("role:victim"))
	u.do(tg, tap("cat:verbal"))
	u.do(tg, tap(dataDone))
	u.do(tg, tap(dataDangerNo))
	u.do(tg, tap(dataSend))
	if subs := u.subs(); len(subs) != 1 || !subs[0].PossiblyUrgent || !subs[0].SafetyAsked || subs[0].Auto {
		t.Fatalf("submission: %+v, want the reporter's, with the mark", subs)
	}
}

// TestUnsureEveryQuestionHasOneOutcome: asked = yes + no + no answer +
// overtaken, whatever becomes of the draft — answered (by the question's
// buttons or the report's own danger question), turned urgent, cancelled,
// forgotten, sent unanswered, or left to expire without a school (then
// counted under no district).
func TestUnsureEveryQuestionHasOneOutcome(t *testing.T) {
	u := newUrgentEnv(t)
	chat := func(n int64) Key { return Key{Channel: hotline.ChannelTelegram, ChatID: 1000 + n} }
	// yes, no
	for i, answer := range []string{dataSafeYes, dataSafeNo} {
		k := chat(int64(i))
		u.toText(k)
		u.do(k, txt(unsureZH))
		u.do(k, tap(answer))
	}
	// overtaken by urgent words
	u.toText(chat(2))
	u.do(chat(2), txt(unsureZH))
	u.do(chat(2), txt("他们带着刀在楼道里堵着我"))
	// answered by the report's own "is anyone in danger now?"
	u.toText(chat(3))
	u.do(chat(3), txt(unsureZH))
	u.do(chat(3), tap(dataDone))
	u.do(chat(3), tap(dataDangerYes))
	// cancelled, and forgotten, while waiting
	u.toText(chat(4))
	u.do(chat(4), txt(unsureZH))
	u.do(chat(4), cmd("cancel", ""))
	u.toText(chat(5))
	u.do(chat(5), txt(unsureZH))
	u.do(chat(5), cmd("forget", ""))
	u.do(chat(5), tap(dataForgetYes))
	// sent unanswered by the sweeper
	u.toText(chat(6))
	u.do(chat(6), txt(unsureZH))
	// no school: marked, then cancelled, and another left to expire
	u.do(chat(7), cmd("start", ""))
	u.do(chat(7), txt(unsureZH))
	u.do(chat(8), cmd("start", ""))
	u.do(chat(8), txt(unsureZH))
	u.clock.Add(hotline.SafetyQuestionWait)
	u.sweep()
	u.do(chat(7), cmd("cancel", ""))
	u.clock.Add(DraftKeep + time.Minute)
	u.sweep()
	if u.s.raw(chat(8)) != nil {
		t.Fatal("the stale draft without a school was kept")
	}
	want := map[string]map[string]int{
		"demo": {hotline.SafetyCountAsked: 7, hotline.SafetyCountYes: 2, hotline.SafetyCountNo: 1, hotline.SafetyCountOvertaken: 1, hotline.SafetyCountNone: 3},
		"":     {hotline.SafetyCountAsked: 2, hotline.SafetyCountNone: 2},
	}
	for school, w := range want {
		if got := u.s.counts(school); !maps.Equal(got, w) {
			t.Errorf("counted for %q: %v, want %v", school, got, w)
		}
	}
}

// TestUnsureSentBeforeAnswer: a draft sent while its question waits (the
// words came after the danger step) files the question with it (it waits
// on the case); the answer then goes to the case.
func TestUnsureSentBeforeAnswer(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(tg)
	u.do(tg, txt("同桌又把我的书扔了"))
	u.do(tg, tap(dataDone))
	u.do(tg, tap(dataDangerNo))
	// Written at the last step: asked, and sent before the answer.
	if rs := u.handle(tg, txt(unsureZH)); !isAsk(rs) {
		t.Fatalf("at the confirm step: got\n%s want the question", show(rs))
	}
	rs := u.handle(tg, tap(dataSend))
	if !isAsk(rs) {
		t.Errorf("after sending: got\n%s want the question again, last", show(rs))
	}
	subs := u.subs()
	due := fixedClock{}.Now().Add(hotline.SafetyQuestionWait)
	if len(subs) != 1 || !subs[0].SafetyDue.Equal(due) || !subs[0].SafetyAsked {
		t.Fatalf("submission: %+v, want the question waiting until %v", subs, due)
	}
	st := loadState(t, u.s, tg)
	if st.Ask == nil || st.Ask.Tip != "tip-1" || !u.meta(tg).AskDue.IsZero() {
		t.Fatalf("state: %+v, meta %+v: want the question on tip-1, not the draft's", st.Ask, u.meta(tg))
	}
	if got := u.do(tg, tap(dataSafeNo)); !strings.Contains(got, "谢谢你告诉我们") {
		t.Errorf("no: got\n%s", got)
	}
	if len(u.w.answers) != 1 || u.w.answers[0].yes || u.w.answers[0].ref.TipUID != "tip-1" || u.w.answers[0].ref.ChatID != tg.ChatID {
		t.Errorf("answers: %+v, want one no about tip-1 from the chat", u.w.answers)
	}
}

// TestUnsureFollowUp: an unsure follow-up is asked about (intake keeps the
// question on the case); yes marks the case urgent and says who was told.
func TestUnsureFollowUp(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(web)
	u.do(web, txt("同桌又把我的书扔了"))
	u.do(web, tap(dataDone))
	u.do(web, tap(dataDangerNo))
	u.do(web, tap(dataSend))
	receipt := u.w.tips[0].receipt
	rs, err := u.e.HandleWithReceipt(context.Background(), web, receipt, txt(unsureZH))
	if err != nil || !isAsk(rs) {
		t.Fatalf("follow-up: %v\n%s want the question", err, show(rs))
	}
	rs, err = u.e.HandleWithReceipt(context.Background(), web, receipt, tap(dataSafeYes))
	if err != nil || len(rs) < 2 || rs[0].Kind != ReplySafety || !strings.Contains(show(rs), "值班老师") {
		t.Fatalf("yes: %v\n%s want the guidance first, then who was told", err, show(rs))
	}
	if len(u.w.answers) != 1 || !u.w.answers[0].yes || u.w.answers[0].ref.Receipt != receipt {
		t.Errorf("answers: %+v, want one yes with the receipt", u.w.answers)
	}
	if !u.w.tips[0].tip.Urgent {
		t.Error("the case is not urgent after yes")
	}
}

// TestUnsureAtSchoolStep: words the detector is unsure of, written before
// the school is known, are kept and asked about at once; the asking is
// counted once the school is known.
func TestUnsureAtSchoolStep(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", ""))
	rs := u.handle(tg, txt(unsureZH))
	if !isAsk(rs) || !strings.Contains(show(rs), "你写的我先记下了") {
		t.Fatalf("got\n%s want the words kept and the question", show(rs))
	}
	if m := u.meta(tg); len(m.Count) != 0 {
		t.Errorf("counted without a school: %+v", m)
	}
	if st := loadState(t, u.s, tg); !slices.Equal(st.Counts, []string{hotline.SafetyCountAsked}) {
		t.Errorf("state counts: %v, want asked kept for later", st.Counts)
	}
	u.do(tg, txt("demo"))
	if m := u.meta(tg); !slices.Equal(m.Count, []string{hotline.SafetyCountAsked}) || m.CountSchool != "demo" {
		t.Errorf("meta once the school is known: %+v", m)
	}
}

// TestUnsureSchoolName: at the school step, words the detector is unsure
// of that find a school are the school, not a report (a short code says
// too little for the detector); those that find none are kept and asked
// about.
func TestUnsureSchoolName(t *testing.T) {
	u := newUrgentEnv(t)
	u.e.Unsure = func(string) bool { return true }
	u.do(tg, cmd("start", ""))
	rs := u.handle(tg, txt("demo"))
	if isAsk(rs) || !strings.Contains(show(rs), "你的报告会送到") || strings.Contains(show(rs), "你写的我先记下了") {
		t.Fatalf("school code: got\n%s want the school chosen, nothing kept, nothing asked", show(rs))
	}
	if st := loadState(t, u.s, tg); st.Step != stepRole || len(st.Texts) != 0 {
		t.Errorf("after the code: step %q, texts %d; want role, none", st.Step, len(st.Texts))
	}
	u.do(web, cmd("start", ""))
	if rs := u.handle(web, txt(unsureZH)); !isAsk(rs) || !strings.Contains(show(rs), "你写的我先记下了") {
		t.Fatalf("no school found: got\n%s want the words kept and the question", show(rs))
	}
}

// TestYesNeverTurnedAway: a yes with no question waiting — an old button
// in the chat — is still the guidance, and on a filed report the urgent
// path; a no with nothing to answer is a stale button.
func TestYesNeverTurnedAway(t *testing.T) {
	u := newUrgentEnv(t)
	if rs := u.handle(tg, tap(dataSafeYes)); len(rs) == 0 || rs[0].Kind != ReplySafety {
		t.Errorf("yes on a new chat: got\n%s want the guidance first", show(rs))
	}
	u.toText(tg)
	u.do(tg, txt("同桌又把我的书扔了"))
	u.do(tg, tap(dataDone))
	u.do(tg, tap(dataDangerNo))
	u.do(tg, tap(dataSend))
	if got := u.do(tg, tap(dataSafeNo)); !strings.Contains(got, "这个按钮已经过期了") {
		t.Errorf("no with nothing asked: got\n%s want a stale button", got)
	}
	if rs := u.handle(tg, tap(dataSafeYes)); len(rs) == 0 || rs[0].Kind != ReplySafety || !u.w.tips[0].tip.Urgent {
		t.Errorf("yes on a filed report: got\n%s want the guidance and the case urgent", show(rs))
	}
}

// TestUrgentOvertakesTheQuestion: a draft that turns urgent while its
// question waits takes the urgent path; the question no longer waits and
// the sweeper does not mark it.
func TestUrgentOvertakesTheQuestion(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(tg)
	u.do(tg, txt(unsureZH))
	u.do(tg, txt("他现在拿着刀"))
	st := loadState(t, u.s, tg)
	if st.draftWaiting() || st.UrgentAt.IsZero() || st.Ask.Answer != answerOvertaken {
		t.Fatalf("state: %+v, urgent at %v", st.Ask, st.UrgentAt)
	}
	u.clock.Add(hotline.SafetyQuestionWait)
	u.sweep()
	if st := loadState(t, u.s, tg); st.PossiblyUrgent {
		t.Error("an urgent draft was marked possibly urgent")
	}
}

// TestPromptRepeatsTheQuestion: the reprompt of a conversation whose
// question waits shows it again.
func TestPromptRepeatsTheQuestion(t *testing.T) {
	u := newUrgentEnv(t)
	u.toText(tg)
	u.do(tg, txt(unsureZH))
	rs, err := u.e.Prompt(context.Background(), tg, "")
	if err != nil || !isAsk(rs) {
		t.Fatalf("prompt: %v\n%s want the question", err, show(rs))
	}
}

// TestSafetyQuestionWords: the question is the same words in both
// languages, and the draft's differs only in its last promise.
func TestSafetyQuestionWords(t *testing.T) {
	q, yes, no := SafetyQuestion()
	for _, l := range []hotline.Label{q, yes, no, SafetyQuestionDraft()} {
		if l.ZH == "" || l.EN == "" {
			t.Errorf("a label without both languages: %+v", l)
		}
	}
	if !strings.Contains(q.ZH, "伤害自己") || !strings.Contains(q.EN, "hurting yourself") {
		t.Errorf("the question does not ask about hurting oneself: %+v", q)
	}
}

// TestDangerStepAnswersTheQuestion: the report's own "is anyone in danger
// now?" asks what the safety question asks; it is shown alone (not beside
// the question's answers), and its answer answers the waiting question.
// The question keeps "done" reachable on a page that shows only the latest
// buttons.
func TestDangerStepAnswersTheQuestion(t *testing.T) {
	for _, yes := range []bool{true, false} {
		u := newUrgentEnv(t)
		u.toText(tg)
		rs := u.handle(tg, txt(unsureZH))
		if last := rs[len(rs)-1]; !isAsk(rs) || last.Buttons[len(last.Buttons)-1][0].Data != dataDone {
			t.Fatalf("the question: got\n%s want its answers, then done", show(rs))
		}
		got := u.do(tg, tap(dataDone))
		if strings.Contains(got, dataSafeYes) || !strings.Contains(got, dataDangerYes) {
			t.Fatalf("danger step: got\n%s want its own yes and no only", got)
		}
		answer := dataDangerNo
		if yes {
			answer = dataDangerYes
		}
		u.do(tg, tap(answer))
		st := loadState(t, u.s, tg)
		want, kind := answerNo, hotline.SafetyCountNo
		if yes {
			want, kind = answerYes, hotline.SafetyCountYes
		}
		if st.Ask.Answer != want || !slices.Equal(u.meta(tg).Count, []string{kind}) || st.DangerNow != yes {
			t.Errorf("yes=%v: answer %q, counts %v, danger now %v", yes, st.Ask.Answer, u.meta(tg).Count, st.DangerNow)
		}
	}
}
