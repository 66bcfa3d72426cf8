package dialog

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/testsupport"
)

// movingClock is a clock the test moves forward.
type movingClock = testsupport.Clock

// urgentEnv is an engine and its store on a clock the test moves.
type urgentEnv struct {
	t     *testing.T
	w     *world
	s     *memStore
	e     *Engine
	clock *movingClock
}

func newUrgentEnv(t *testing.T) *urgentEnv {
	clock := testsupport.NewClock(fixedClock{}.Now())
	w := newWorld()
	s := newMemStore()
	s.clock = clock
	e := newEngine(w, s)
	e.Clock = clock
	return &urgentEnv{t: t, w: w, s: s, e: e, clock: clock}
}

func (u *urgentEnv) do(k Key, ev Event) string {
	u.t.Helper()
	rs, err := u.e.Handle(context.Background(), k, ev)
	if err != nil {
		u.t.Fatalf("%+v: %v", ev, err)
	}
	return show(rs)
}

func (u *urgentEnv) sweep() (sent, deleted int) {
	u.t.Helper()
	sent, deleted, err := u.e.Sweep(context.Background())
	if err != nil {
		u.t.Fatalf("sweep: %v", err)
	}
	return sent, deleted
}

func (u *urgentEnv) subs() []hotline.Submission {
	u.w.mu.Lock()
	defer u.w.mu.Unlock()
	return append([]hotline.Submission(nil), u.w.subs...)
}

func (u *urgentEnv) meta(k Key) Meta {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	return u.s.meta[k]
}

// TestGreetingStatesWhatHappensToADraft: before a word is written, the
// reporter is told how long a draft is kept, and that an urgent one goes
// to the school by itself, and so does one whose safety question goes
// unanswered, in both languages.
func TestGreetingStatesWhatHappensToADraft(t *testing.T) {
	u := newUrgentEnv(t)
	zh := u.do(tg, withLang(cmd("start", "demo"), "zh"))
	for _, want := range []string{"草稿保存 7 天", "10 分钟内没有发送", "自动把它作为紧急报告发给学校的值班老师", "一键", "如果我们问你是否安全而你 5 分钟内没有回答，我们也会把草稿发给学校"} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh greeting: got\n%s want %q", zh, want)
		}
	}
	en := u.do(web, withLang(withSchool(cmd("start", ""), "demo"), "en"))
	for _, want := range []string{"kept for 7 days", "within 10 minutes", "on-call staff as an urgent report automatically", "one tap", "If we ask whether you are safe and you don't answer within 5 minutes, we send the draft to the school too"} {
		if !strings.Contains(en, want) {
			t.Errorf("en greeting: got\n%s want %q", en, want)
		}
	}
}

// TestUrgentOneTapSend: an urgent text with the school known is offered
// "send now" at once, before role and kind; one tap files it, with the
// school's own on-call time in the confirmation, and what follows is a
// follow-up of that report.
func TestUrgentOneTapSend(t *testing.T) {
	u := newUrgentEnv(t)
	u.w.schools[0].Settings.Deadlines.AckUrgent = hotline.Duration(2 * time.Hour)
	u.do(tg, cmd("start", "demo"))
	rs, err := u.e.Handle(context.Background(), tg, txt("他们带着刀在楼道里堵着我"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 2 || rs[0].Kind != ReplySafety || len(rs[1].Buttons) == 0 || rs[1].Buttons[0][0].Data != dataUrgent {
		t.Fatalf("replies: got\n%s want safety, then the offer", show(rs))
	}
	if !strings.Contains(rs[1].Text, "2 小时内处理") || !strings.Contains(rs[1].Text, "10 分钟后") {
		t.Errorf("offer: got %q, want the school's 2 hours and the 10 minutes", rs[1].Text)
	}
	// The questions asked next offer it again, first.
	if got := u.do(tg, tap("role:victim")); !strings.Contains(got, "发生的事更像哪一种") || !strings.Contains(got, "(现在就发给学校|urgent:send) (身体欺凌") {
		t.Errorf("next question: got\n%s want the kind question with send-now first", got)
	}
	if m := u.meta(tg); m.UrgentSince.IsZero() || !m.Draft {
		t.Errorf("meta: got %+v, want urgent since now, draft", m)
	}
	got := u.do(tg, tap(dataUrgent))
	for _, want := range []string{"[submitted]", "作为紧急报告", "学校值班老师会在 2 小时内处理", "alias=蓝狐"} {
		if !strings.Contains(got, want) {
			t.Errorf("send now: got\n%s want %q", got, want)
		}
	}
	if strings.Contains(got, "24 小时") {
		t.Errorf("send now promises the ordinary time: %s", got)
	}
	subs := u.subs()
	if len(subs) != 1 || subs[0].ChatID != tg.ChatID || len(subs[0].Texts) != 1 || subs[0].Role != hotline.ReporterVictim || subs[0].Category.Valid() {
		t.Fatalf("submissions: got %+v, want one, without a kind", subs)
	}
	st := loadState(t, u.s, tg)
	if st.Step != stepFollow || st.Active != "tip-1" || st.hasDraft() || !st.UrgentAt.IsZero() || st.Key != nil {
		t.Errorf("state: got %+v, want follow tip-1, no draft, no key", st)
	}
	if m := u.meta(tg); !m.UrgentSince.IsZero() || m.Draft || !m.AskDue.IsZero() || len(m.Count) > 0 {
		t.Errorf("meta after send: got %+v, want none", m)
	}
	// A second tap (an old message) files nothing more.
	u.do(tg, tap(dataUrgent))
	if got := u.do(tg, txt("他们还在门口")); !strings.Contains(got, "已经转给老师了") {
		t.Errorf("follow-up: got\n%s", got)
	}
	if n := len(u.subs()); n != 1 {
		t.Errorf("submissions: got %d, want 1", n)
	}
	u.w.mu.Lock()
	defer u.w.mu.Unlock()
	if len(u.w.msgs) != 1 || u.w.msgs[0].ref.TipUID != "tip-1" {
		t.Errorf("follow-ups: got %+v, want one to tip-1", u.w.msgs)
	}
	u.clock.Add(UrgentSendAfter + time.Minute)
	if sent, _, _ := u.e.Sweep(context.Background()); sent != 0 {
		t.Errorf("sweep after a send: got %d sent, want 0", sent)
	}
}

// TestOrdinaryTextsPromiseTheOrdinaryTime: a report that is not urgent is
// promised the school's ordinary acknowledgement time.
func TestOrdinaryTextsPromiseTheOrdinaryTime(t *testing.T) {
	u := newUrgentEnv(t)
	u.w.schools[0].Settings.Deadlines.Ack = hotline.Duration(48 * time.Hour)
	u.do(tg, withLang(cmd("start", "demo"), "en"))
	for _, ev := range report("They took my lunch money.") {
		u.do(tg, ev.ev)
	}
	got := u.do(tg, tap(dataSend))
	if !strings.Contains(got, "usually within 48 hours") || strings.Contains(got, "on-call") {
		t.Errorf("submitted: got\n%s want the ordinary 48 hours", got)
	}
	if m := u.meta(tg); m.UrgentSince.IsZero() != true {
		t.Errorf("meta: got %+v", m)
	}
}

// TestUrgentBeforeSchoolIsOnlySafety: before a school is chosen there is
// no one to send to: safety guidance only; the offer comes with the school.
func TestUrgentBeforeSchoolIsOnlySafety(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", ""))
	got := u.do(tg, txt("他拿刀在厕所堵我"))
	if !strings.HasPrefix(got, "[safety]") || strings.Contains(got, dataUrgent) {
		t.Errorf("no school: got\n%s want safety without the offer", got)
	}
	if st := loadState(t, u.s, tg); !st.UrgentAt.IsZero() || u.meta(tg).UrgentSince != (time.Time{}) {
		t.Errorf("no school: got urgent since %v, want none", st.UrgentAt)
	}
	u.clock.Add(time.Hour)
	if sent, _ := u.sweep(); sent != 0 {
		t.Fatalf("sweep without a school: got %d sent, want 0", sent)
	}
	got = u.do(tg, txt("demo"))
	if !strings.Contains(got, "(现在就发给学校|urgent:send)") || !strings.HasPrefix(got, "[safety]") {
		t.Errorf("school chosen: got\n%s want safety and the offer", got)
	}
	if st := loadState(t, u.s, tg); !st.UrgentAt.Equal(u.clock.Now()) {
		t.Errorf("urgent since: got %v, want when the school was chosen", st.UrgentAt)
	}
}

// TestSweeperSendsUrgentTelegramDraft: an urgent draft nobody sends goes
// to the school after ten minutes, as the reporter's tap would; their next
// message hears of it and is added to the report.
func TestSweeperSendsUrgentTelegramDraft(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", "demo"))
	u.do(tg, tap("role:victim"))
	u.do(tg, txt("他们现在拿刀在楼道里堵着我"))
	u.clock.Add(UrgentSendAfter - time.Second)
	if sent, _ := u.sweep(); sent != 0 || len(u.subs()) != 0 {
		t.Fatalf("before ten minutes: got %d sent, want 0", sent)
	}
	u.clock.Add(time.Second)
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("at ten minutes: got %d sent, want 1", sent)
	}
	subs := u.subs()
	if len(subs) != 1 || subs[0].ChatID != tg.ChatID || subs[0].Role != hotline.ReporterVictim || subs[0].Texts[0] != "他们现在拿刀在楼道里堵着我" {
		t.Fatalf("submission: got %+v", subs)
	}
	if sent, _ := u.sweep(); sent != 0 || len(u.subs()) != 1 {
		t.Fatalf("second sweep: got %d sent, want 0", sent)
	}
	st := loadState(t, u.s, tg)
	if st.Step != stepFollow || st.Active != "tip-1" || st.hasDraft() || st.Sent == nil || st.Sent.Receipt != "" {
		t.Fatalf("state: got %+v, want follow with an untold send", st)
	}
	rs, err := u.e.Handle(context.Background(), tg, txt("他们还在"))
	if err != nil {
		t.Fatal(err)
	}
	got := show(rs)
	if rs[0].Kind != ReplySubmitted || !strings.Contains(got, "自动把它作为紧急报告发给了学校") || !strings.Contains(got, "「蓝狐」") || !strings.Contains(got, "1 小时内处理") || !strings.Contains(got, "已经转给老师了") {
		t.Errorf("next message: got\n%s want the notice, then forwarded", got)
	}
	u.w.mu.Lock()
	if len(u.w.msgs) != 1 || u.w.msgs[0].text != "他们还在" || u.w.msgs[0].ref.TipUID != "tip-1" || u.w.msgs[0].ref.ChatID != tg.ChatID {
		t.Errorf("follow-ups: got %+v", u.w.msgs)
	}
	u.w.mu.Unlock()
	if got := u.do(tg, txt("又来了")); strings.Contains(got, "自动") {
		t.Errorf("told twice: %s", got)
	}
	if st := loadState(t, u.s, tg); st.Key != nil || st.Sent != nil {
		t.Errorf("state keeps the key or notice: %+v", st)
	}
}

// TestSweeperTelegramToldAtOnce: when intake tells the Telegram reporter
// of the automatic send at once (Submitted.Notified), the next message is
// only a follow-up, without the notice again; a tap on the old "send now"
// button files nothing more.
func TestSweeperTelegramToldAtOnce(t *testing.T) {
	u := newUrgentEnv(t)
	u.w.notifies = true
	u.do(tg, cmd("start", "demo"))
	offer := u.do(tg, txt("他们现在拿刀在楼道里堵着我"))
	if !strings.Contains(offer, dataUrgent) {
		t.Fatalf("no offer: %s", offer)
	}
	u.clock.Add(UrgentSendAfter)
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("sweep: got %d sent, want 1", sent)
	}
	if s := u.subs(); len(s) != 1 || !s[0].Auto {
		t.Fatalf("submission: got %+v, want one marked automatic", s)
	}
	if got := u.do(tg, tap(dataUrgent)); strings.Contains(got, "自动") || len(u.subs()) != 1 {
		t.Fatalf("old button after the send: got\n%s with %d submissions", got, len(u.subs()))
	}
	got := u.do(tg, txt("他们还在"))
	if strings.Contains(got, "自动") || !strings.Contains(got, "已经转给老师了") {
		t.Errorf("next message: got\n%s want only forwarded", got)
	}
	if st := loadState(t, u.s, tg); st.Key != nil || st.Sent != nil {
		t.Errorf("state keeps the key or notice: %+v", st)
	}
	// The reporter's own tap is never automatic.
	tg2 := Key{Channel: hotline.ChannelTelegram, ChatID: 1002}
	u.do(tg2, cmd("start", "demo"))
	u.do(tg2, txt("有人拿着刀说要杀了我"))
	u.do(tg2, tap(dataUrgent))
	if s := u.subs(); len(s) != 2 || s[1].Auto {
		t.Errorf("tapped submission: got %+v", s[len(s)-1])
	}
}

// TestSweeperSendsDangerNowWebDraft: "someone is in danger now" makes the
// draft urgent too. A web reporter gets the receipt card on their next
// event (the page's /new on reload), which starts nothing else, and their
// next words go to the report with it.
func TestSweeperSendsDangerNowWebDraft(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(web, withSchool(cmd("start", ""), "demo"))
	for _, ev := range []Event{tap("role:witness"), tap("cat:physical"), txt("他们把他按在地上"), tap(dataDone)} {
		if got := u.do(web, ev); strings.Contains(got, dataUrgent) {
			t.Fatalf("offer before any danger: %s", got)
		}
	}
	got := u.do(web, tap(dataDangerYes))
	if !strings.HasPrefix(got, "[safety]") || !strings.Contains(got, "(现在就发给学校|urgent:send)") || !strings.Contains(got, "现在有危险：有") {
		t.Fatalf("danger now: got\n%s want safety, offer, summary", got)
	}
	u.clock.Add(UrgentSendAfter)
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("sweep: got %d sent, want 1", sent)
	}
	if s := u.subs(); len(s) != 1 || !s[0].DangerNow || s[0].Channel != hotline.ChannelWebchat {
		t.Fatalf("submission: got %+v", s)
	}
	if m := u.meta(web); !m.Draft || !m.UrgentSince.IsZero() {
		t.Errorf("meta: got %+v, want an untold send only", m)
	}
	rs, err := u.e.Handle(context.Background(), web, withSchool(cmd("new", ""), "demo"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) < 3 || rs[0].Kind != ReplySubmitted || rs[1].Kind != ReplyReceipt || rs[1].Receipt != "7KQ2M-9XFH3-DPWT8-NAB01" || !strings.Contains(rs[0].Text, "回执码") {
		t.Fatalf("next event: got\n%s want the notice and the receipt card", show(rs))
	}
	if st := loadState(t, u.s, web); st.Step != stepFollow || st.Sent != nil || strings.Contains(string(u.s.raw(web)), "NAB01") {
		t.Errorf("state: got %+v, want follow, receipt gone", st)
	}
	rs, err = u.e.HandleWithReceipt(context.Background(), web, "7KQ2M-9XFH3-DPWT8-NAB01", txt("他们走了"))
	if err != nil || !strings.Contains(show(rs), "已经转给老师了") {
		t.Fatalf("follow-up: got\n%s, %v", show(rs), err)
	}
	if len(u.subs()) != 1 {
		t.Errorf("submissions: got %d, want 1", len(u.subs()))
	}
}

// TestAutoSentWebReporterWritesOn: the first event after an automatic send
// is words: the receipt comes first, and the words go to the report with it.
func TestAutoSentWebReporterWritesOn(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(web, withSchool(txt("有人拿刀说要捅我"), "demo"))
	u.clock.Add(UrgentSendAfter)
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("sweep: got %d sent, want 1", sent)
	}
	rs, err := u.e.Handle(context.Background(), web, txt("我躲在厕所"))
	if err != nil {
		t.Fatal(err)
	}
	if kinds := kinds(rs); len(kinds) != 3 || kinds[0] != ReplySubmitted || kinds[1] != ReplyReceipt || !strings.Contains(rs[2].Text, "已经转给老师了") {
		t.Fatalf("replies: got\n%s", show(rs))
	}
	u.w.mu.Lock()
	defer u.w.mu.Unlock()
	if len(u.w.msgs) != 1 || u.w.msgs[0].ref.Receipt != "7KQ2M-9XFH3-DPWT8-NAB01" || u.w.msgs[0].text != "我躲在厕所" {
		t.Errorf("follow-up: got %+v", u.w.msgs)
	}
}

// TestSweeperAndTapRace: the sweeper and the reporter's tap at the same
// moment file the report once.
func TestSweeperAndTapRace(t *testing.T) {
	for i := range 20 {
		u := newUrgentEnv(t)
		k := Key{Channel: hotline.ChannelTelegram, ChatID: int64(5000 + i)}
		u.do(k, cmd("start", "demo"))
		u.do(k, txt("他带着刀在校门口等我"))
		u.clock.Add(UrgentSendAfter)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, _, err := u.e.Sweep(context.Background()); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			// The same engine: the process runs one for every channel
			// and the sweeper (across nodes, the store's Locker
			// serialises them).
			if _, err := u.e.Handle(context.Background(), k, tap(dataUrgent)); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if n := len(u.subs()); n != 1 {
			t.Fatalf("round %d: got %d submissions, want 1", i, n)
		}
	}
}

// TestSweeperFailureKeepsUrgentDraft: a send that fails leaves the draft
// urgent and whole, and the next sweep sends it.
func TestSweeperFailureKeepsUrgentDraft(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", "demo"))
	u.do(tg, txt("他拿刀说放学后要捅我"))
	u.clock.Add(UrgentSendAfter)
	u.w.mu.Lock()
	u.w.submitErr = hotline.Errorf(hotline.EINTERNAL, "内部错误", "internal")
	u.w.mu.Unlock()
	if sent, _, err := u.e.Sweep(context.Background()); sent != 0 || err == nil {
		t.Fatalf("failing sweep: got %d sent, %v; want 0 and an error", sent, err)
	}
	if st := loadState(t, u.s, tg); !st.hasDraft() || st.UrgentAt.IsZero() {
		t.Fatalf("state after a failure: got %+v, want the urgent draft", st)
	}
	u.w.mu.Lock()
	u.w.submitErr = nil
	u.w.mu.Unlock()
	if sent, _ := u.sweep(); sent != 1 {
		t.Fatalf("retry: got %d sent, want 1", sent)
	}
}

// TestStaleDraftsAreDeleted: a draft that is not urgent is deleted seven
// days after it was last touched; a draft beside a sent report goes
// without the link to that report.
func TestStaleDraftsAreDeleted(t *testing.T) {
	u := newUrgentEnv(t)
	u.do(tg, cmd("start", "demo"))
	u.do(tg, tap("role:victim"))
	u.do(tg, txt("他们在群里骂我"))
	// A Telegram chat that sent a report, then began another.
	other := Key{Channel: hotline.ChannelTelegram, ChatID: 2002}
	u.do(other, cmd("start", "demo"))
	for _, tr := range report("第一件事") {
		u.do(other, tr.ev)
	}
	u.do(other, tap(dataSend))
	u.do(other, cmd("new", ""))
	u.do(other, tap("role:victim"))
	u.do(other, tap("cat:verbal"))
	u.do(other, txt("第二件事还没写完"))
	// A web session with nothing but a greeting is not a draft.
	u.do(web, withSchool(cmd("start", ""), "demo"))

	u.clock.Add(DraftKeep - time.Minute)
	if sent, deleted := u.sweep(); sent+deleted != 0 {
		t.Fatalf("before seven days: got %d sent %d deleted", sent, deleted)
	}
	u.clock.Add(2 * time.Minute)
	if sent, deleted := u.sweep(); sent != 0 || deleted != 2 {
		t.Fatalf("after seven days: got %d sent %d deleted, want 0 and 2", sent, deleted)
	}
	if b := u.s.raw(tg); b != nil {
		t.Errorf("abandoned draft: got %s, want it gone", b)
	}
	st := loadState(t, u.s, other)
	if st == nil || st.hasDraft() || st.Active != "tip-1" || st.Step != stepFollow || strings.Contains(string(u.s.raw(other)), "第二件事") {
		t.Errorf("draft beside a report: got %+v, want follow tip-1 without the draft", st)
	}
	if u.s.raw(web) == nil {
		t.Error("a conversation without a draft was deleted")
	}
	if len(u.subs()) != 1 {
		t.Errorf("submissions: got %d, want 1", len(u.subs()))
	}
	if got := u.do(tg, txt("你好")); !strings.Contains(got, "哪所学校") {
		t.Errorf("after deletion: got\n%s want a fresh start", got)
	}
}
