package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/sim/wechatsim"
	"hotline/internal/staff"
	"hotline/internal/urgency"
	"hotline/wechat"
)

// Ask when unsure, end to end, one test per channel: a message the
// detector is unsure of gets the safety question at once; "yes" files the
// urgent report and pages the on-call staff as any urgent report does;
// silence puts the report in the counselor's queue marked "possibly
// urgent" — a draft whose school is known is filed by the sweeper and its
// reporter told as after an automatic urgent send, without paging anyone.
//
// The sentences are the tests' own, never lines of the corpus. Which of
// them the built-in detector is unsure of depends on its model file, so
// each test takes the first that the detector answers "unsure": a model
// trained again keeps the tests meaningful.

var unsureCandidates = []string{
	"最近总觉得自己是多余的，大家没有我可能会轻松一点",
	"我不想再给任何人添麻烦了，以后也不会了",
	"好累啊，真想睡一觉就再也不用面对明天",
	"把我最喜欢的那本漫画送给同桌了，反正以后也用不上了",
	"我有点害怕今天放学回家",
	"他们说放学以后还会来找我，我不知道该怎么办",
	"感觉自己撑不了多久了",
	"sometimes I think everyone would be better off if I just wasn't around",
	"I gave my favourite things away today, I won't need them",
	"I'm scared to go home after school today",
}

// unsureSentence returns a sentence of the test's own that the built-in
// detector is unsure of, and a second one for a second reporter.
func unsureSentence(t *testing.T, skip int) string {
	t.Helper()
	for _, s := range unsureCandidates {
		if urgency.Unsure(s) {
			if skip == 0 {
				return s
			}
			skip--
		}
	}
	t.Fatalf("the built-in detector is unsure of none of the test's sentences: add one it is unsure of")
	return ""
}

// notPaged checks, after the scheduler had time to act, that nobody was
// paged for tip: a possibly urgent case waits in the queue.
func notPaged(t *testing.T, m *Main, tip *hotline.Tip) {
	t.Helper()
	time.Sleep(300 * time.Millisecond) // many sweeps and scheduler turns
	var n int
	if err := m.DB.Reader().Get(&n, m.DB.Reader().Rebind(`SELECT COUNT(*) FROM ladders WHERE tip_id = ?`), tip.ID); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("the possibly urgent case %s started %d escalation ladders, want none", tip.Alias.ZH, n)
	}
}

// silentTip checks the case silence filed: the reporter's words, marked
// possibly urgent, not urgent, and nobody paged.
func silentTip(t *testing.T, m *Main, sess *staff.Session, ch hotline.Channel, text string) *hotline.Tip {
	t.Helper()
	tip := possiblyUrgent(t, m, sess.Actor(), ch, func(tip *hotline.Tip) bool {
		_, msgs, err := m.Triage.Thread(t.Context(), sess, tip.UID)
		return err == nil && len(msgs) == 1 && msgs[0].Body == text
	})
	notPaged(t, m, tip)
	return tip
}

// silenceAsk is what the question says once the school is known.
const silenceAsk = "5 分钟内没有回答的话，我们会把你写的内容发给学校"

// silenceTold is what a reporter whose draft silence sent is told.
const silenceTold = "我们问你现在是否安全，5 分钟里没有收到回答"

// possiblyUrgent waits for the school's queue, filtered on the mark, to
// hold a case of channel that match accepts, and returns it. (The demo
// school's own cases may be marked too: the detector may be unsure of
// them.)
func possiblyUrgent(t *testing.T, m *Main, actor hotline.Actor, ch hotline.Channel, match func(*hotline.Tip) bool) *hotline.Tip {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		tips, _, err := m.Triage.Queue(t.Context(), actor, hotline.TipFilter{PossiblyUrgent: true, OpenOnly: true, Channel: ch})
		if err != nil {
			t.Fatal(err)
		}
		for _, tip := range tips {
			if !match(tip) {
				continue
			}
			if !tip.PossiblyUrgent || tip.Urgent {
				t.Fatalf("queue: %+v, want possibly urgent, not urgent", tip)
			}
			return tip
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue filtered on possibly urgent holds %d cases of %s, none the one sought", len(tips), ch)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oncallAlert waits for the scheduler to page the on-call staff for tip:
// its escalation ladder has paged a first rung.
func oncallAlert(t *testing.T, m *Main, tip *hotline.Tip) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := m.DB.Reader().Get(&n, m.DB.Reader().Rebind(`SELECT COUNT(*) FROM ladders WHERE tip_id = ? AND rung >= 1`), tip.ID); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no on-call alert for the urgent case %s", tip.Alias.ZH)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tgAsk matches the safety question (the prompts before it carry its
// buttons too, so that a page showing the latest buttons keeps them).
func tgAsk(m telegramsim.SentMessage) bool {
	_, ok := m.Button("safe:yes")
	return ok && strings.Contains(m.PlainText, "你现在有危险吗")
}

func TestUnsureOnTelegram(t *testing.T) {
	e := newUrgentEnv(t)
	text := unsureSentence(t, 0)

	// Yes: the urgent path.
	kid := e.api.NewUser(telegramsim.UserOptions{FirstName: "小", LanguageCode: "zh-hans"})
	kid.SendCommand("/start demo")
	e.tgWait(kid, "greeting", tgContains("你好"))
	kid.SendText(text)
	ask := e.tgWait(kid, "the safety question", tgAsk)
	if !strings.Contains(ask.PlainText, "你现在有危险吗") || !strings.Contains(ask.PlainText, "伤害自己") {
		t.Fatalf("question: got %q", ask.PlainText)
	}
	if _, ok := ask.Button("safe:no"); !ok {
		t.Fatalf("question without its no: %v", ask.Buttons())
	}
	if _, err := kid.PressOn(ask, "safe:yes"); err != nil {
		t.Fatal(err)
	}
	e.tgWait(kid, "safety guidance", tgContains("110"))
	e.tgWait(kid, "send-now offer", tgHasButton("urgent:send"))
	e.clock.Add(dialog.UrgentSendAfter)
	tip, msgs := e.newUrgentTip()
	if !tip.Urgent || tip.Channel != hotline.ChannelTelegram || len(msgs) != 1 || msgs[0].Body != text {
		t.Fatalf("tip: %+v with %d messages, want the urgent draft", tip, len(msgs))
	}
	e.alerted(tip)
	if reason, _ := e.m.DB.UrgentReason(e.ctx, tip.ID); reason != "asked" {
		t.Errorf("flag reason %q, want asked", reason)
	}

	// Silence: the child stops answering. The draft reaches the school
	// marked possibly urgent, before role and kind were given; the child
	// is told at once, by the system's notice; nobody is paged.
	other := e.api.NewUser(telegramsim.UserOptions{FirstName: "明", LanguageCode: "zh-hans"})
	other.SendCommand("/start demo")
	e.tgWait(other, "greeting", tgContains("你好"))
	quiet := unsureSentence(t, 1)
	other.SendText(quiet)
	if ask := e.tgWait(other, "the safety question", tgAsk); !strings.Contains(ask.PlainText, silenceAsk) {
		t.Errorf("question: got %q, want it to say the draft goes to the school unanswered", ask.PlainText)
	}
	e.clock.Add(hotline.SafetyQuestionWait - time.Second)
	e.noNewTip("silence files nothing before the wait is over")
	e.clock.Add(time.Second)
	told := e.tgWait(other, "told of the send", tgContains(silenceTold))
	if strings.Contains(told.PlainText, "紧急报告") {
		t.Errorf("notice: got %q, the report is not urgent", told.PlainText)
	}
	marked := silentTip(t, e.m, e.sess, hotline.ChannelTelegram, quiet)
	// What the child writes next is added to that case.
	other.SendText("我还在")
	e.tgWait(other, "follow-up", tgContains("已经转给老师了"))
	if _, msgs, _ := e.m.Triage.Thread(e.ctx, e.sess, marked.UID); len(msgs) != 2 {
		t.Errorf("thread: %d messages, want the follow-up added", len(msgs))
	}
}

func TestUnsureInWebchat(t *testing.T) {
	e := newUrgentEnv(t)
	text := unsureSentence(t, 0)

	p := e.page(randToken(), 0)
	p.do(map[string]any{"type": "command", "command": "new"})
	fs := p.do(map[string]any{"type": "text", "text": text})
	last := lastReply(fs)
	if last == nil || last.Kind != "ask" || !strings.Contains(last.Text, "你现在有危险吗") || len(last.Buttons) < 2 ||
		last.Buttons[0][0].Data != "safe:yes" || last.Buttons[1][0].Data != "safe:no" {
		t.Fatalf("after the unsure text: got\n%s want the question last, with yes and no", urgentShow(fs))
	}
	got := urgentShow(p.do(map[string]any{"type": "choice", "data": "safe:yes"}))
	if !strings.HasPrefix(got, "[safety]") || !strings.Contains(got, "(urgent:send)") {
		t.Fatalf("yes: got\n%s want the guidance first and the offer", got)
	}
	p.ws.Close() // the child leaves the page
	e.clock.Add(dialog.UrgentSendAfter)
	tip, msgs := e.newUrgentTip()
	if tip.Channel != hotline.ChannelWebchat || len(msgs) != 1 || msgs[0].Body != text {
		t.Fatalf("tip: %+v with %d messages", tip, len(msgs))
	}
	e.alerted(tip)

	// Silence: the child asked leaves the page. The draft reaches the
	// school marked possibly urgent, nobody paged; back on the page, the
	// child reads that it was sent, with the receipt.
	session := randToken()
	q := e.page(session, 0)
	q.do(map[string]any{"type": "command", "command": "new"})
	quiet := unsureSentence(t, 1)
	if l := lastReply(q.do(map[string]any{"type": "text", "text": quiet})); l == nil || l.Kind != "ask" || !strings.Contains(l.Text, silenceAsk) {
		t.Fatalf("the second reporter was not asked, or not told what silence does: %+v", l)
	}
	q.ws.Close()
	e.clock.Add(hotline.SafetyQuestionWait)
	marked := silentTip(t, e.m, e.sess, hotline.ChannelWebchat, quiet)
	q = e.page(session, q.lastSeq)
	back := q.do(map[string]any{"type": "command", "command": "new"})
	var receipt string
	for _, f := range back {
		if f.Reply != nil && f.Reply.Kind == "receipt" {
			receipt = f.Reply.Receipt
		}
	}
	if got := urgentShow(back); receipt == "" || !strings.Contains(got, silenceTold) || strings.Contains(got, "紧急报告") {
		t.Fatalf("back on the page: got\n%s want the notice of the send and the receipt", got)
	}
	if rt, _, err := e.m.Intake.ThreadByReceipt(e.ctx, receipt); err != nil || rt.UID != marked.UID {
		t.Fatalf("receipt opens %v, %v; want the marked case", rt, err)
	}
}

// lastReply is the last conversation reply among frames.
func lastReply(fs []urgentFrame) *struct {
	Kind    string `json:"kind"`
	Text    string `json:"text"`
	Receipt string `json:"receipt"`
	Buttons [][]struct {
		Data string `json:"data"`
	} `json:"buttons"`
} {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Reply != nil {
			return fs[i].Reply
		}
	}
	return nil
}

var (
	formTokenRe = regexp.MustCompile(`name="token" value="([^"]+)"`)
	receiptRe   = regexp.MustCompile(`id="receipt-code">([0-9A-Z-]+)<`)
	askFormRe   = regexp.MustCompile(`(?s)<form class="card ask[^"]*" method="post" action="/m/safety".*?</form>`)
)

// mailboxPost files a report through the mailbox form and returns the
// receipt page.
func mailboxPost(t *testing.T, e *urgentEnv, text string) string {
	t.Helper()
	form := getBody(t, e.m.URL()+"/m/"+demoSchool)
	if !strings.Contains(form, "现在有人有危险，或者我在想伤害自己") {
		t.Errorf("the form's danger-now box does not ask about hurting oneself")
	}
	tok := formTokenRe.FindStringSubmatch(form)
	if tok == nil {
		t.Fatal("no form token")
	}
	code, body := postForm(t, e.m.URL()+"/m/"+demoSchool, url.Values{"token": {tok[1]}, "role": {"victim"}, "category": {"verbal"}, "text": {text}})
	if code != http.StatusOK || receiptRe.FindStringSubmatch(body) == nil {
		t.Fatalf("mailbox post: %d\n%s", code, body)
	}
	return body
}

func TestUnsureInMailbox(t *testing.T) {
	e := newUrgentEnv(t)
	text := unsureSentence(t, 0)

	// The receipt page asks; yes comes back to the receipt (not lost) with
	// the guidance, and the case is urgent and paged.
	body := mailboxPost(t, e, text)
	receipt := receiptRe.FindStringSubmatch(body)[1]
	ask := askFormRe.FindString(body)
	if ask == "" || !strings.Contains(ask, "你现在有危险吗") || !strings.Contains(ask, `value="yes"`) || !strings.Contains(ask, `value="no"`) {
		t.Fatalf("receipt page: no safety question\n%s", body)
	}
	tok := formTokenRe.FindStringSubmatch(ask)
	code, page := postForm(t, e.m.URL()+"/m/safety", url.Values{"token": {tok[1]}, "receipt": {receipt}, "answer": {"yes"}, "from": {"receipt"}})
	if code != http.StatusOK || !strings.Contains(page, receipt) || !strings.Contains(page, "tel:110") || !strings.Contains(page, "已经通知了学校的值班老师") || askFormRe.MatchString(page) {
		t.Fatalf("after yes: %d\n%s\nwant the receipt again, the guidance, no question", code, page)
	}
	tip, err := e.m.Intake.TipStatus(e.ctx, receipt)
	if err != nil || !tip.Urgent {
		t.Fatalf("case after yes: %+v, %v; want urgent", tip, err)
	}
	e.alerted(tip)

	// A form token for the answer is bound to it: another form's token is
	// refused, and so is a made-up answer.
	other := mailboxPost(t, e, unsureSentence(t, 1))
	receipt2 := receiptRe.FindStringSubmatch(other)[1]
	mailTok := formTokenRe.FindStringSubmatch(getBody(t, e.m.URL()+"/m/"+demoSchool))[1]
	if code, _ := postForm(t, e.m.URL()+"/m/safety", url.Values{"token": {mailTok}, "receipt": {receipt2}, "answer": {"yes"}}); code != http.StatusForbidden {
		t.Errorf("the mailbox form's token answered: %d, want 403", code)
	}
	if tip, _ := e.m.Intake.TipStatus(e.ctx, receipt2); tip.Urgent {
		t.Fatal("a refused answer marked the case urgent")
	}

	// Silence: the case is marked for the queue, and the thread page no
	// longer asks.
	e.clock.Add(hotline.SafetyQuestionWait)
	unanswered, err := e.m.Intake.TipStatus(e.ctx, receipt2)
	if err != nil {
		t.Fatal(err)
	}
	possiblyUrgent(t, e.m, e.sess.Actor(), hotline.ChannelMailbox, func(tip *hotline.Tip) bool { return tip.UID == unanswered.UID })
	statusTok := formTokenRe.FindStringSubmatch(getBody(t, e.m.URL()+"/m/status"))[1]
	if _, page := postForm(t, e.m.URL()+"/m/status", url.Values{"token": {statusTok}, "receipt": {receipt2}}); askFormRe.MatchString(page) {
		t.Errorf("the thread page still asks after the wait")
	}
}

func TestUnsureOnWechat(t *testing.T) {
	e := newWechatEnvMain(t, nil, func(m *Main) { m.SweepInterval = 20 * time.Millisecond })
	text := unsureSentence(t, 0)
	report := func(u *wechatsim.User) string {
		got := e.said(u, func() (*wechatsim.Reply, error) { return u.Click(e.ctx, wechat.MenuReport) })
		got = e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, demoSchool) })
		got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "role:")) })
		return e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "cat:")) })
	}

	u := e.fake.NewUser(e.serverURL())
	report(u)
	got := e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, text) })
	if !strings.Contains(got, "你现在有危险吗") || choice(t, got, "safe:no") == "" {
		t.Fatalf("after the unsure text: got\n%s want the question with both answers", got)
	}
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "safe:yes")) })
	if !strings.Contains(got, "110") {
		t.Fatalf("yes: got\n%s want the guidance", got)
	}
	e.clock.Add(dialog.UrgentSendAfter)
	var tip *hotline.Tip
	deadline := time.Now().Add(time.Minute)
	for tip == nil {
		tips, _, err := e.m.Triage.Queue(e.ctx, e.sess.Actor(), hotline.TipFilter{Channel: hotline.ChannelWechat})
		if err != nil {
			t.Fatal(err)
		}
		if len(tips) == 1 {
			tip = tips[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("%d WeChat cases after the send time, want the urgent one", len(tips))
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !tip.Urgent {
		t.Fatalf("case: %+v, want urgent", tip)
	}
	oncallAlert(t, e.m, tip)

	// Silence: the draft reaches the school marked possibly urgent, the
	// child is told at once through customer service, nobody is paged.
	v := e.fake.NewUser(e.serverURL())
	report(v)
	quiet := unsureSentence(t, 1)
	got = e.said(v, func() (*wechatsim.Reply, error) { return v.Text(e.ctx, quiet) })
	if !strings.Contains(got, "你现在有危险吗") || !strings.Contains(got, silenceAsk) {
		t.Fatalf("second reporter not asked, or not told what silence does: got\n%s", got)
	}
	before := len(e.fake.Sent(v.OpenID))
	e.clock.Add(hotline.SafetyQuestionWait)
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	m, _, err := e.fake.Wait(ctx, v.OpenID, before, func(s wechatsim.Sent) bool { return s.Kind == "text" && strings.Contains(s.Text, silenceTold) })
	if err != nil {
		t.Fatalf("not told of the send: %v", err)
	}
	if strings.Contains(m.Text, "紧急报告") {
		t.Errorf("notice: got %q, the report is not urgent", m.Text)
	}
	silentTip(t, e.m, e.sess, hotline.ChannelWechat, quiet)
}
