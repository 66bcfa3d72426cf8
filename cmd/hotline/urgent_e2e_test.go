package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/live"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/staff"
	"hotline/internal/telegramtest"
	"hotline/internal/testsupport"
)

// urgentClock is the program's clock, moved by the test: ten minutes and
// seven days pass without sleeping.
type urgentClock = testsupport.Clock

// urgentEnv is the real program with the demo school, the bot against a
// fake Telegram, a counselor whose Telegram chat gets alerts, and a clock
// the test moves.
type urgentEnv struct {
	t       *testing.T
	ctx     context.Context
	m       *Main
	api     *telegramsim.Server
	clock   *urgentClock
	sess    *staff.Session
	staff   *telegramsim.User
	changes *live.Subscription
}

func newUrgentEnv(t *testing.T) *urgentEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	e := &urgentEnv{t: t, ctx: ctx, api: telegramtest.New(t, telegramsim.Config{}),
		clock: testsupport.NewClock(time.Now().UTC().Truncate(time.Microsecond))}
	m := NewMain()
	m.Config.DataDir = t.TempDir()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.TelegramToken = e.api.Token()
	m.Config.TelegramAPIURL = e.api.URL()
	m.Argon = cheapArgon
	m.InitKey = true
	m.Clock = e.clock
	fastTelegram(m)
	m.SweepInterval = 20 * time.Millisecond
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e.m = m
	var err error
	if e.sess, err = m.Staff.Authenticate(ctx, demoUser, demoPassword); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.sess.Wipe)
	// The demo counselor links their Telegram chat for alerts.
	code, _, err := m.Staff.NewLinkCode(ctx, e.sess)
	if err != nil {
		t.Fatal(err)
	}
	e.staff = e.api.NewUser(telegramsim.UserOptions{FirstName: "王", LanguageCode: "zh-hans"})
	e.staff.SendCommand("/link " + code)
	e.tgWait(e.staff, "linked", func(m telegramsim.SentMessage) bool { return strings.Contains(m.PlainText, "已绑定") })
	e.changes = m.Broker.SubscribeAll()
	t.Cleanup(e.changes.Cancel)
	return e
}

// tgWait waits for the next message to u that satisfies pred.
func (e *urgentEnv) tgWait(u *telegramsim.User, what string, pred func(telegramsim.SentMessage) bool) telegramsim.SentMessage {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	m, err := u.WaitMessage(ctx, pred)
	if err != nil {
		var got []string
		for _, m := range u.Messages() {
			got = append(got, m.PlainText)
		}
		e.t.Fatalf("waiting for %s: %v; messages: %s", what, err, strings.Join(got, " ‖ "))
	}
	return m
}

func tgHasButton(data string) func(telegramsim.SentMessage) bool {
	return func(m telegramsim.SentMessage) bool {
		_, ok := m.Button(data)
		return ok
	}
}

func tgContains(s string) func(telegramsim.SentMessage) bool {
	return func(m telegramsim.SentMessage) bool { return strings.Contains(m.PlainText, s) }
}

// newUrgentTip waits for the urgent new tip that pages the on-call staff,
// and reads it as the school does.
func (e *urgentEnv) newUrgentTip() (*hotline.Tip, []*hotline.Message) {
	e.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case c := <-e.changes.C:
			if c.Kind != hotline.ChangeNewTip {
				continue
			}
			if !c.Urgent {
				e.t.Fatalf("new tip %+v, want urgent", c)
			}
			tip, msgs, err := e.m.Triage.Thread(e.ctx, e.sess, c.TipUID)
			if err != nil {
				e.t.Fatal(err)
			}
			return tip, msgs
		case <-timeout:
			e.t.Fatal("no urgent tip reached the school")
		}
	}
}

// alerted waits for the on-call alert of a tip in the counselor's chat.
func (e *urgentEnv) alerted(tip *hotline.Tip) {
	e.t.Helper()
	e.tgWait(e.staff, "on-call alert for "+tip.Alias.ZH, tgContains("紧急报告「"+tip.Alias.ZH+"」"))
}

func (e *urgentEnv) noNewTip(what string) {
	e.t.Helper()
	deadline := time.After(300 * time.Millisecond) // many sweeps
	for {
		select {
		case c := <-e.changes.C:
			if c.Kind == hotline.ChangeNewTip {
				e.t.Fatalf("%s: a tip was filed: %+v", what, c)
			}
		case <-deadline:
			return
		}
	}
}

// TestUrgentDraftReachesSchoolOnTelegram: an urgent draft left unsent in
// Telegram reaches the school as an urgent tip ten minutes later without
// the reporter pressing send, the on-call counselor is paged, and the
// reporter is told at once, without writing again, by a notice of the
// system (not a counselor's reply) through the relay; their next message
// is added to the report and does not repeat the notice. The one-tap
// "send now" files at once.
func TestUrgentDraftReachesSchoolOnTelegram(t *testing.T) {
	e := newUrgentEnv(t)
	const secret = "他说放学后要带刀来找我 CANARY-TG-8812"
	kid := e.api.NewUser(telegramsim.UserOptions{FirstName: "小", LanguageCode: "zh-hans"})
	kid.SendCommand("/start demo")
	greeting := e.tgWait(kid, "greeting", tgContains("你好"))
	if !strings.Contains(greeting.PlainText, "草稿保存 7 天") || !strings.Contains(greeting.PlainText, "10 分钟内没有发送") {
		t.Errorf("greeting: got %q, want the 7 days and the 10 minutes", greeting.PlainText)
	}
	kid.SendText(secret)
	e.tgWait(kid, "safety", tgContains("110"))
	offer := e.tgWait(kid, "send-now offer", tgHasButton("urgent:send"))
	if !strings.Contains(offer.PlainText, "1 小时内处理") {
		t.Errorf("offer: got %q, want the school's on-call hour", offer.PlainText)
	}

	e.clock.Add(dialog.UrgentSendAfter - time.Minute)
	e.noNewTip("nine minutes")
	e.clock.Add(time.Minute)
	tip, msgs := e.newUrgentTip()
	if !tip.Urgent || tip.Channel != hotline.ChannelTelegram || len(msgs) != 1 || msgs[0].Body != secret {
		t.Fatalf("tip: got %+v with %d messages, want the urgent draft", tip, len(msgs))
	}
	e.alerted(tip)
	told := e.tgWait(kid, "told of the send without writing again", tgContains("自动把它作为紧急报告发给了学校"))
	if !strings.Contains(told.PlainText, "「"+tip.Alias.ZH+"」") || !strings.Contains(told.PlainText, "10 分钟") ||
		!strings.Contains(told.PlainText, "1 小时内处理") || strings.Contains(told.PlainText, "老师回复了") || strings.Contains(told.PlainText, "CANARY") {
		t.Errorf("notice: got %q, want the system's notice with the alias and the on-call hour, no content", told.PlainText)
	}
	e.noNewTip("after the send")

	kid.SendText("他们还在楼道里")
	e.tgWait(kid, "follow-up forwarded", tgContains("已经转给老师了"))
	notices := 0
	for _, m := range kid.Messages() {
		if strings.Contains(m.PlainText, "自动把它作为紧急报告发给了学校") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("the reporter was told of the send %d times, want once", notices)
	}
	if _, msgs, _ = e.m.Triage.Thread(e.ctx, e.sess, tip.UID); len(msgs) != 2 || msgs[1].Body != "他们还在楼道里" {
		t.Fatalf("thread: got %d messages, want the follow-up appended", len(msgs))
	}

	// One tap: another child sends at once.
	other := e.api.NewUser(telegramsim.UserOptions{FirstName: "明", LanguageCode: "zh-hans"})
	other.SendCommand("/start demo")
	other.SendText("有人拿着刀说要杀了我")
	offer = e.tgWait(other, "send-now offer", tgHasButton("urgent:send"))
	if _, err := other.PressOn(offer, "urgent:send"); err != nil {
		t.Fatal(err)
	}
	sent := e.tgWait(other, "sent", tgContains("作为紧急报告送到学校"))
	if !strings.Contains(sent.PlainText, "学校值班老师会在 1 小时内处理") || strings.Contains(sent.PlainText, "24 小时") {
		t.Errorf("confirmation: got %q, want the on-call hour only", sent.PlainText)
	}
	tip, _ = e.newUrgentTip()
	e.alerted(tip)
	e.clock.Add(dialog.UrgentSendAfter)
	e.noNewTip("a sweep after the tap")
}

// urgentPage is a websocket client speaking the chat page's protocol.
type urgentPage struct {
	t       *testing.T
	ws      *websocket.Conn
	prefix  string // message ids are unique across a session's pages
	n       int
	lastSeq int64
}

type urgentFrame struct {
	Type  string `json:"type"`
	Seq   int64  `json:"seq"`
	ID    string `json:"id"`
	Reply *struct {
		Kind    string `json:"kind"`
		Text    string `json:"text"`
		Receipt string `json:"receipt"`
		Buttons [][]struct {
			Data string `json:"data"`
		} `json:"buttons"`
	} `json:"reply"`
}

// page opens the chat page's connection; lastSeq is what an earlier page
// of the session showed, so that it is not replayed.
func (e *urgentEnv) page(session string, lastSeq int64) *urgentPage {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.m.URL(), "http")+"/webchat/ws", http.Header{"Origin": {e.m.URL()}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { ws.Close() })
	p := &urgentPage{t: e.t, ws: ws, prefix: randToken()[:8], lastSeq: lastSeq}
	p.write(map[string]any{"type": "hello", "session": session, "school": demoSchool, "lang": "zh", "last_seq": lastSeq})
	if fs := p.until("welcome", ""); fs[len(fs)-1].Type != "welcome" {
		e.t.Fatalf("hello: got %+v", fs)
	}
	return p
}

func (p *urgentPage) write(v map[string]any) {
	p.t.Helper()
	v["v"] = 1
	if err := p.ws.WriteJSON(v); err != nil {
		p.t.Fatal(err)
	}
}

// until reads frames up to one of type typ (and id, when set).
func (p *urgentPage) until(typ, id string) []urgentFrame {
	p.t.Helper()
	var out []urgentFrame
	for {
		p.ws.SetReadDeadline(time.Now().Add(time.Minute))
		var f urgentFrame
		if err := p.ws.ReadJSON(&f); err != nil {
			p.t.Fatalf("read: %v (so far %+v)", err, out)
		}
		if f.Seq != 0 {
			if f.Seq <= p.lastSeq {
				continue // shown by an earlier page
			}
			p.lastSeq = f.Seq
		}
		out = append(out, f)
		if f.Type == typ && (id == "" || f.ID == id) || f.Type == "error" && f.ID == id && id != "" {
			return out
		}
	}
}

// do sends one message and returns the replies up to its ack.
func (p *urgentPage) do(v map[string]any) []urgentFrame {
	p.t.Helper()
	p.n++
	id := fmt.Sprintf("%s-%d", p.prefix, p.n)
	v["id"] = id
	p.write(v)
	return p.until("ack", id)
}

func urgentShow(fs []urgentFrame) string {
	var b strings.Builder
	for _, f := range fs {
		if f.Reply != nil {
			fmt.Fprintf(&b, "[%s] %s", f.Reply.Kind, f.Reply.Text)
			for _, row := range f.Reply.Buttons {
				for _, btn := range row {
					fmt.Fprintf(&b, " (%s)", btn.Data)
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestUrgentDraftReachesSchoolInWebchat: an urgent draft left unsent in the
// web chat reaches the school as an urgent tip after ten minutes, the
// on-call counselor is paged, and the reporter who reloads the page gets
// the receipt card; their later message is added to the report. An
// ordinary draft left alone is gone after seven days.
func TestUrgentDraftReachesSchoolInWebchat(t *testing.T) {
	e := newUrgentEnv(t)
	const secret = "他拿着刀说放学后要捅我 CANARY-WEB-4471"
	session := randToken()
	p := e.page(session, 0)
	got := urgentShow(p.do(map[string]any{"type": "command", "command": "new"}))
	if !strings.Contains(got, "草稿保存 7 天") || !strings.Contains(got, "10 分钟内没有发送") {
		t.Errorf("greeting: got\n%s", got)
	}
	got = urgentShow(p.do(map[string]any{"type": "text", "text": secret}))
	if !strings.HasPrefix(got, "[safety]") || !strings.Contains(got, "(urgent:send)") {
		t.Fatalf("urgent text: got\n%s want safety, then the offer", got)
	}
	// An ordinary draft in another tab, left alone.
	idle := randToken()
	q := e.page(idle, 0)
	q.do(map[string]any{"type": "command", "command": "new"})
	q.do(map[string]any{"type": "text", "text": "他们总在背后说我坏话"})
	q.ws.Close()
	p.ws.Close() // the child closes the page

	e.clock.Add(dialog.UrgentSendAfter)
	tip, msgs := e.newUrgentTip()
	if !tip.Urgent || tip.Channel != hotline.ChannelWebchat || len(msgs) != 1 || msgs[0].Body != secret {
		t.Fatalf("tip: got %+v with %d messages, want the urgent draft", tip, len(msgs))
	}
	e.alerted(tip)

	// The page comes back (a reload keeps the session) and says /new, as
	// the chat page does: the receipt card comes instead of a new report.
	p = e.page(session, p.lastSeq)
	fs := p.do(map[string]any{"type": "command", "command": "new"})
	var receipt string
	for _, f := range fs {
		if f.Reply != nil && f.Reply.Kind == "receipt" {
			receipt = f.Reply.Receipt
		}
	}
	got = urgentShow(fs)
	if receipt == "" || !strings.Contains(got, "自动把它作为紧急报告发给了学校") || strings.Contains(got, "哪一个说的是你") {
		t.Fatalf("after the send: got\n%s want the notice and the receipt card, no new report", got)
	}
	if rt, _, err := e.m.Intake.ThreadByReceipt(e.ctx, receipt); err != nil || rt.UID != tip.UID {
		t.Fatalf("receipt opens %v, %v; want the sent tip", rt, err)
	}
	got = urgentShow(p.do(map[string]any{"type": "text", "text": "我躲在厕所里", "receipt": receipt}))
	if !strings.Contains(got, "已经转给老师了") {
		t.Fatalf("follow-up: got\n%s", got)
	}
	if _, msgs, _ = e.m.Triage.Thread(e.ctx, e.sess, tip.UID); len(msgs) != 2 || msgs[1].Body != "我躲在厕所里" {
		t.Fatalf("thread: got %d messages, want the follow-up appended", len(msgs))
	}
	if got := urgentShow(p.do(map[string]any{"type": "command", "command": "status", "receipt": receipt})); strings.Contains(got, "receipt") {
		t.Errorf("the receipt card again: %s", got)
	}

	// Seven days on, the ordinary draft is gone; the sent report's
	// conversation stays.
	cs := dialog.NewSealedStore(e.m.DB, e.m.Vault)
	idleKey := dialog.Key{Channel: hotline.ChannelWebchat, Session: idle}
	if _, err := cs.Load(e.ctx, idleKey); err != nil {
		t.Fatalf("ordinary draft before seven days: %v", err)
	}
	e.clock.Add(dialog.DraftKeep + time.Minute)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := cs.Load(e.ctx, idleKey)
		if errors.Is(err, hotline.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ordinary draft after seven days: %v, want gone", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := cs.Load(e.ctx, dialog.Key{Channel: hotline.ChannelWebchat, Session: session}); err != nil {
		t.Errorf("the sent report's conversation: %v", err)
	}
	e.noNewTip("the week's sweeps")
}
