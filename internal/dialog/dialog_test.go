package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"hotline/internal/hotline"
)

var (
	tg  = Key{Channel: hotline.ChannelTelegram, ChatID: 1001}
	web = Key{Channel: hotline.ChannelWebchat, Session: "sess-abc"}
)

func txt(s string) Event         { return Event{Kind: EventText, Text: s} }
func tap(data string) Event      { return Event{Kind: EventChoice, Choice: data} }
func cmd(name, arg string) Event { return Event{Kind: EventCommand, Command: name, Text: arg} }
func pic(caption string) Event {
	return Event{Kind: EventPhoto, Text: caption, Photo: &hotline.Photo{Data: []byte{0xff, 0xd8, 0xff}, Type: "image/jpeg"}}
}
func withLang(ev Event, l hotline.Lang) Event { ev.Lang = l; return ev }
func withSchool(ev Event, code string) Event  { ev.School = code; return ev }

// turn is one event of a conversation and what must come back.
type turn struct {
	ev      Event
	receipt string      // HandleWithReceipt when set
	kinds   []ReplyKind // the exact kinds of the replies, when set
	has     []string    // substrings of the replies (texts, buttons, alias)
	not     []string
	check   func(t *testing.T, r []Reply)
	before  func(w *world) // a change on the school's side before the event
}

// show flattens replies for matching and for failure messages.
func show(rs []Reply) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%s] %s", r.Kind, r.Text)
		if r.Alias != "" {
			fmt.Fprintf(&b, " alias=%s", r.Alias)
		}
		for _, row := range r.Buttons {
			for _, btn := range row {
				fmt.Fprintf(&b, " (%s|%s)", btn.Label, btn.Data)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func kinds(rs []Reply) []ReplyKind {
	out := make([]ReplyKind, len(rs))
	for i, r := range rs {
		out[i] = r.Kind
	}
	return out
}

func play(t *testing.T, e *Engine, k Key, turns []turn) {
	t.Helper()
	for i, tr := range turns {
		if tr.before != nil {
			tr.before(e.Intake.(*world))
		}
		ev := tr.ev
		if k.Channel == hotline.ChannelTelegram {
			ev.BotName = "HotlineDemoBot" // as the bot sends its events
		}
		var rs []Reply
		var err error
		if tr.receipt != "" {
			rs, err = e.HandleWithReceipt(context.Background(), k, tr.receipt, ev)
		} else {
			rs, err = e.Handle(context.Background(), k, ev)
		}
		if err != nil {
			t.Fatalf("turn %d (%+v): error: got %v, want nil", i, tr.ev, err)
		}
		got := show(rs)
		if tr.kinds != nil && !slices.Equal(kinds(rs), tr.kinds) {
			t.Errorf("turn %d (%s %s%s%s): kinds: got %v, want %v\n%s", i, tr.ev.Kind, tr.ev.Text, tr.ev.Choice, tr.ev.Command, kinds(rs), tr.kinds, got)
		}
		for _, s := range tr.has {
			if !strings.Contains(got, s) {
				t.Errorf("turn %d (%s %s%s%s): got\n%s want it to contain %q", i, tr.ev.Kind, tr.ev.Text, tr.ev.Choice, tr.ev.Command, got, s)
			}
		}
		for _, s := range tr.not {
			if strings.Contains(got, s) {
				t.Errorf("turn %d: got\n%s want it not to contain %q", i, got, s)
			}
		}
		for j, r := range rs {
			if j > 0 && r.Kind == ReplySafety {
				t.Errorf("turn %d: safety at position %d: got\n%s want it first", i, j, got)
			}
		}
		if tr.check != nil {
			tr.check(t, rs)
		}
	}
}

func loadState(t *testing.T, s *memStore, k Key) *state {
	t.Helper()
	b := s.raw(k)
	if b == nil {
		return nil
	}
	st := &state{}
	if err := json.Unmarshal(b, st); err != nil {
		t.Fatalf("saved state: got %v, want JSON", err)
	}
	return st
}

var (
	safetyFirst = func(t *testing.T, r []Reply) {
		t.Helper()
		if len(r) == 0 || r[0].Kind != ReplySafety {
			t.Errorf("first reply: got %v, want safety", kinds(r))
		}
	}
	noSafety = func(t *testing.T, r []Reply) {
		t.Helper()
		for _, x := range r {
			if x.Kind == ReplySafety {
				t.Errorf("replies: got safety in %v, want none", kinds(r))
			}
		}
	}
)

// report is a whole report up to the summary, after the school is set.
func report(lines ...string) []turn {
	ts := []turn{{ev: tap("role:victim")}, {ev: tap("cat:physical")}}
	for _, l := range lines {
		ts = append(ts, turn{ev: txt(l)})
	}
	return append(ts, turn{ev: tap(dataDone)}, turn{ev: tap(dataDangerNo)})
}

func TestConversations(t *testing.T) {
	T, P, X := ReplyText, ReplyPrivacy, ReplySubmitted
	tests := []struct {
		name  string
		key   Key
		turns []turn
		after func(t *testing.T, w *world, s *memStore)
	}{
		{
			name: "zh deep link with a photo gets an alias",
			key:  tg,
			turns: []turn{
				{ev: withLang(cmd("start", "demo"), "zh-hans"), kinds: []ReplyKind{P, T, T, T}, has: []string{"@HotlineDemoBot", "看不到你的名字", "/forget", "「实验中学」", "我正在被欺负", "(English|lang:en)"}},
				{ev: tap("role:victim"), kinds: []ReplyKind{T}, has: []string{"身体欺凌", "不确定|cat:unsure"}},
				{ev: tap("cat:physical"), kinds: []ReplyKind{T}, has: []string{"发生了什么"}},
				{ev: tap(dataDone), has: []string{"还没有写内容"}},
				{ev: txt("  他们在厕所里推我，还抢我的饭卡  "), kinds: []ReplyKind{T}, has: []string{"收到，还可以继续补充", "写完了|done"}, check: noSafety},
				{ev: pic("这是他们发的截图"), kinds: []ReplyKind{T}, has: []string{"照片收到了"}},
				{ev: tap(dataDone), kinds: []ReplyKind{T}, has: []string{"现在有人有危险吗", "(有|danger:yes)", "(没有|danger:no)"}},
				{ev: tap(dataDangerNo), kinds: []ReplyKind{T}, has: []string{"学校：实验中学", "你是：我正在被欺负", "2 条文字，1 张照片", "现在有危险：没有", "发送给学校|send"}},
				{ev: tap(dataSend), kinds: []ReplyKind{X}, has: []string{"alias=蓝狐", "「蓝狐」", "/status"}, check: noSafety},
				// The same "send" again (redelivered, or tapped twice) is not
				// a stale button: the reporter hears it was sent, once.
				{ev: tap(dataSend), kinds: []ReplyKind{X, T}, has: []string{"已经发送给学校了", "「蓝狐」"}},
			},
			after: func(t *testing.T, w *world, s *memStore) {
				if len(w.subs) != 1 {
					t.Fatalf("submissions: got %d, want 1", len(w.subs))
				}
				got := w.subs[0]
				if got.SubmissionID == "" || got.Record == nil {
					t.Errorf("submission: got id %q and record %v, want an id and a record hook", got.SubmissionID, got.Record != nil)
				}
				got.SubmissionID, got.Record = "", nil
				want := hotline.Submission{SchoolCode: "demo", Channel: hotline.ChannelTelegram, Role: hotline.ReporterVictim, Category: hotline.CategoryPhysical, Lang: hotline.LangZH,
					Texts: []string{"他们在厕所里推我，还抢我的饭卡", "这是他们发的截图"}, Photos: []hotline.Photo{{Data: []byte{0xff, 0xd8, 0xff}, Type: "image/jpeg"}}, ChatID: 1001}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("submission: got %+v, want %+v", got, want)
				}
				st := loadState(t, s, tg)
				if st.Step != stepFollow || st.Active != "tip-1" || st.hasDraft() {
					t.Errorf("state after submit: got step=%q active=%q draft=%v, want follow tip-1 no draft", st.Step, st.Active, st.hasDraft())
				}
			},
		},
		{
			name: "en deep link",
			key:  tg,
			turns: append(append([]turn{
				{ev: withLang(cmd("start", "DEMO"), "en-US"), kinds: []ReplyKind{P, T, T, T}, has: []string{"never your name", "Experimental School", "I am being bullied", "(中文|lang:zh)"}},
			}, report("They push me in the bathroom every day.")...),
				turn{ev: tap(dataSend), kinds: []ReplyKind{X}, has: []string{"alias=Blue Fox", "\"Blue Fox\""}}),
			after: func(t *testing.T, w *world, _ *memStore) {
				if got := w.subs[0].Lang; got != hotline.LangEN {
					t.Errorf("submission lang: got %q, want en", got)
				}
			},
		},
		{
			name: "school found by name, unknown school tried again",
			key:  tg,
			turns: []turn{
				{ev: txt("/start"), kinds: []ReplyKind{P, T, T}, has: []string{"哪所学校"}},
				{ev: txt("火星小学"), kinds: []ReplyKind{T}, has: []string{"没有找到这所学校"}},
				{ev: txt("实验"), kinds: []ReplyKind{T}, has: []string{"(实验中学（海淀区）|school:demo)", "(第二实验中学（西城区）|school:sx2)"}},
				{ev: tap("school:sx2"), kinds: []ReplyKind{T, T}, has: []string{"「第二实验中学」", "哪一个说的是你"}},
			},
			after: func(t *testing.T, _ *world, s *memStore) {
				if st := loadState(t, s, tg); st.School == nil || st.School.Code != "sx2" || st.Step != stepRole {
					t.Errorf("state: got %+v, want school sx2 at role", st)
				}
			},
		},
		{
			name: "a school not open yet says so, and asks again",
			key:  tg,
			turns: []turn{
				{ev: cmd("start", pendingSchool), kinds: []ReplyKind{P, T, ReplyError, T}, has: []string{"还没有开通", "110", "哪所学校"}},
			},
		},
		{
			name: "typed school code needs no tap; bad deep link asks",
			key:  tg,
			turns: []turn{
				{ev: cmd("start", "nosuch"), kinds: []ReplyKind{P, T, ReplyError, T}, has: []string{"没有找到这所学校", "哪所学校"}},
				{ev: txt("HZ"), kinds: []ReplyKind{T, T}, has: []string{"「海淀中学」", "我是家长"}},
			},
		},
		{
			name: "urgent text: safety at once, DangerNow, safety first at submit (web)",
			key:  web,
			turns: []turn{
				{ev: withSchool(cmd("start", ""), "demo"), kinds: []ReplyKind{T, T, T}, not: []string{"Telegram"}},
				{ev: tap("role:witness")},
				{ev: tap("cat:unsure")},
				// Safety first, then the one-tap offer, then the usual answer.
				{ev: txt("他拿着刀说放学后要捅我同学"), kinds: []ReplyKind{ReplySafety, T, T}, has: []string{"110", "120", "12355", "学校保卫处 010-1234567", "收到",
					"(现在就发给学校|urgent:send)", "1 小时内处理", "10 分钟后我们也会自动"}},
				{ev: txt("在操场后面"), kinds: []ReplyKind{T}, has: []string{"(现在就发给学校|urgent:send) (写完了|done)"}},
				{ev: tap(dataDone)},
				{ev: tap(dataDangerYes), kinds: []ReplyKind{ReplySafety, T}, has: []string{"现在有危险：有"}},
				{ev: tap(dataSend), kinds: []ReplyKind{ReplySafety, X, ReplyReceipt}, check: safetyFirst, has: []string{"作为紧急报告", "学校值班老师会在 1 小时内处理"}, not: []string{"24 小时"}},
			},
			after: func(t *testing.T, w *world, _ *memStore) {
				s := w.subs[0]
				if !s.DangerNow || s.Category != hotline.CategoryOther || s.Role != hotline.ReporterWitness || s.ChatID != 0 || s.Channel != hotline.ChannelWebchat {
					t.Errorf("submission: got %+v, want danger now, other, witness, webchat, no chat", s)
				}
			},
		},
		{
			name: "web submit in English: receipt reply, never in saved state",
			key:  web,
			turns: append(append([]turn{
				{ev: withLang(withSchool(txt("hello"), "demo"), "en")},
			}, report("A boy in 7B takes my money.")...),
				turn{ev: tap(dataSend), kinds: []ReplyKind{X, ReplyReceipt}, has: []string{"receipt code below", "don't share it with anyone"}, check: func(t *testing.T, r []Reply) {
					if r[1].Receipt != "7KQ2M-9XFH3-DPWT8-NAB01" || strings.Contains(r[1].Text, r[1].Receipt) {
						t.Errorf("receipt reply: got receipt %q text %q, want the receipt in Receipt only", r[1].Receipt, r[1].Text)
					}
				}}),
			after: func(t *testing.T, w *world, s *memStore) {
				if b := s.raw(web); strings.Contains(string(b), "7KQ2M") || strings.Contains(string(b), "NAB01") {
					t.Errorf("saved state: got %s, want no receipt", b)
				}
				// "hello" typed before anything else is kept, not lost.
				if got, want := w.subs[0].Texts, []string{"hello", "A boy in 7B takes my money."}; !slices.Equal(got, want) {
					t.Errorf("texts: got %q, want %q", got, want)
				}
			},
		},
		{
			name: "telegram follow-ups reach AddReporterMessage in order",
			key:  tg,
			turns: append(append([]turn{{ev: cmd("start", "demo")}}, report("第一次")...),
				turn{ev: tap(dataSend)},
				turn{ev: txt("补充一"), kinds: []ReplyKind{T}, has: []string{"已经转给老师了"}},
				turn{ev: pic("补充二")},
				turn{ev: txt("他今天又带了刀"), kinds: []ReplyKind{ReplySafety, T}, has: []string{"010-1234567"}},
				turn{ev: txt("   "), kinds: []ReplyKind{ReplyError}},
			),
			after: func(t *testing.T, w *world, _ *memStore) {
				var got []string
				for _, m := range w.msgs {
					got = append(got, fmt.Sprintf("%d/%s/%s/%v", m.ref.ChatID, m.ref.TipUID, m.text, m.photo))
				}
				want := []string{"1001/tip-1/补充一/false", "1001/tip-1/补充二/true", "1001/tip-1/他今天又带了刀/false"}
				if !slices.Equal(got, want) {
					t.Errorf("messages: got %q, want %q", got, want)
				}
			},
		},
		{
			name: "/status and /tips switching",
			key:  tg,
			turns: append(append(append(append([]turn{
				{ev: cmd("status", ""), has: []string{"还没有发送过报告"}},
				{ev: cmd("start", "demo")}}, report("第一件事")...),
				turn{ev: tap(dataSend), has: []string{"alias=蓝狐"}},
				turn{ev: cmd("new", ""), kinds: []ReplyKind{T}, has: []string{"哪一个说的是你"}}),
				report("第二件事")...),
				turn{ev: tap(dataSend), has: []string{"alias=红鹿"}},
				turn{ev: cmd("status", ""), before: ackTip1, kinds: []ReplyKind{T}, has: []string{"「红鹿」：学校已收到你的报告", "/tips"}, not: []string{"老师已经看过"}},
				turn{ev: txt("/tips"), kinds: []ReplyKind{T}, has: []string{"(红鹿 — 新报告|tip:tip-2)", "(蓝狐 — 已受理|tip:tip-1)"}},
				turn{ev: tap("tip:tip-1"), has: []string{"「蓝狐」", "老师已经看过你的报告"}},
				turn{ev: txt("给蓝狐的补充")},
				turn{ev: tap("tip:tip-99"), has: []string{"找不到这份报告"}},
				turn{ev: cmd("status", ""), has: []string{"「蓝狐」：老师已经看过"}},
			),
			after: func(t *testing.T, w *world, _ *memStore) {
				if len(w.msgs) != 1 || w.msgs[0].ref.TipUID != "tip-1" {
					t.Errorf("follow-up: got %+v, want one message to tip-1", w.msgs)
				}
			},
		},
		{
			name: "/forget asks, then unlinks and deletes",
			key:  tg,
			turns: append(append([]turn{{ev: cmd("start", "demo")}}, report("事情")...),
				turn{ev: tap(dataSend)},
				turn{ev: cmd("forget", ""), kinds: []ReplyKind{T}, has: []string{"确定解除|forget:yes", "先不了|forget:no"}},
				turn{ev: tap(dataForgetNo), has: []string{"什么都没有改变"}},
				turn{ev: txt("/forget")},
				turn{ev: tap(dataForgetYes), kinds: []ReplyKind{T}, has: []string{"已经解除关联了"}},
			),
			after: func(t *testing.T, w *world, s *memStore) {
				if !slices.Equal(w.forgotten, []int64{1001}) {
					t.Errorf("forgotten: got %v, want [1001]", w.forgotten)
				}
				if b := s.raw(tg); b != nil {
					t.Errorf("state after forget: got %s, want none", b)
				}
				// The next contact is a first contact: privacy again.
				e := newEngine(w, s)
				rs, _ := e.Handle(context.Background(), tg, cmd("start", ""))
				if len(rs) == 0 || rs[0].Kind != ReplyPrivacy {
					t.Errorf("after forget: got %v, want privacy first", kinds(rs))
				}
			},
		},
		{
			name: "/forget on the web explains instead",
			key:  web,
			turns: []turn{
				{ev: withSchool(cmd("forget", ""), "demo"), kinds: []ReplyKind{T}, has: []string{"网页聊天本来就不会记住你是谁"}},
			},
		},
		{
			name: "/language mid-flow",
			key:  tg,
			turns: []turn{
				{ev: cmd("start", "demo")},
				{ev: tap("role:parent")},
				{ev: cmd("language", ""), kinds: []ReplyKind{T}, has: []string{"(中文|lang:zh)", "(English|lang:en)"}},
				{ev: tap("lang:en"), kinds: []ReplyKind{T, T}, has: []string{"let's talk in English", "Cyberbullying", "Not sure"}, check: func(t *testing.T, rs []Reply) {
					for _, r := range rs {
						if r.Lang != hotline.LangEN {
							t.Errorf("after choosing English: reply lang got %q, want en", r.Lang)
						}
					}
				}},
				{ev: tap("cat:cyber"), has: []string{"Tell us what happened"}},
				{ev: txt("Group chat insults")},
				{ev: cmd("language", "zh"), has: []string{"我们用中文聊", "请写下发生了什么", "写完了"}},
			},
			after: func(t *testing.T, _ *world, s *memStore) {
				if st := loadState(t, s, tg); st.Lang != hotline.LangZH || st.Role != hotline.ReporterParent || len(st.Texts) != 1 {
					t.Errorf("state: got %+v, want zh, parent, 1 text", st)
				}
			},
		},
		{
			name: "/cancel drops the draft; writing again starts a new one",
			key:  tg,
			turns: []turn{
				{ev: cmd("start", "demo")},
				{ev: tap("role:victim")},
				{ev: tap("cat:verbal")},
				{ev: txt("他们给我起外号")},
				{ev: cmd("cancel", ""), kinds: []ReplyKind{T, T}, has: []string{"草稿已经删掉了", "写新的报告|cmd:new"}},
				{ev: cmd("cancel", ""), has: []string{"没有要取消的内容"}},
				{ev: txt("其实还有别的事"), has: []string{"记下了", "哪一个说的是你"}, not: []string{"Telegram 能看到"}},
			},
			after: func(t *testing.T, _ *world, s *memStore) {
				st := loadState(t, s, tg)
				if !slices.Equal(st.Texts, []string{"其实还有别的事"}) || st.Step != stepRole || st.School == nil {
					t.Errorf("state: got %+v, want only the new text, at role, school kept", st)
				}
			},
		},
		{
			name: "words written before the questions are kept",
			key:  tg,
			turns: []turn{
				{ev: cmd("start", "demo")},
				{ev: txt("有人一直在网上骂我"), kinds: []ReplyKind{T, T}, has: []string{"记下了", "我正在被欺负"}},
				{ev: tap("cat:cyber"), has: []string{"按钮已经过期", "我正在被欺负"}},
				{ev: tap("role:victim")},
				{ev: tap("cat:cyber")},
				{ev: tap(dataDone), has: []string{"现在有人有危险吗"}},
				{ev: tap(dataDangerNo)},
				{ev: txt("还有一件"), has: []string{"2 条文字"}},
				{ev: tap(dataEdit), has: []string{"请写下发生了什么"}},
			},
		},
		{
			name: "web follow-up needs the receipt; with it, it reaches the tip",
			key:  web,
			turns: append(append([]turn{{ev: withSchool(cmd("start", ""), "demo")}}, report("第一次")...),
				turn{ev: tap(dataSend)},
				turn{ev: txt("补充"), kinds: []ReplyKind{ReplyError}, has: []string{"回执码"}},
				turn{ev: txt("补充"), receipt: "7KQ2M-9XFH3-DPWT8-NAB01", kinds: []ReplyKind{T}, has: []string{"已经转给老师了"}},
				turn{ev: cmd("status", ""), receipt: "7KQ2M-9XFH3-DPWT8-NAB01", has: []string{"「蓝狐」：学校已收到"}},
				turn{ev: cmd("tips", ""), has: []string{"一个回执码对应一份报告"}},
			),
			after: func(t *testing.T, w *world, s *memStore) {
				if w.opened != 0 {
					t.Errorf("threads opened: got %d, want 0 (a status needs no thread)", w.opened)
				}
				if len(w.msgs) != 1 || w.msgs[0].ref.Receipt != "7KQ2M-9XFH3-DPWT8-NAB01" || w.msgs[0].ref.TipUID != "tip-1" || w.msgs[0].ref.ChatID != 0 {
					t.Errorf("follow-ups: got %+v, want one by receipt to tip-1", w.msgs)
				}
				if strings.Contains(string(s.raw(web)), "NAB01") {
					t.Errorf("saved state: got %s, want no receipt", s.raw(web))
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, s := newWorld(), newMemStore()
			e := newEngine(w, s)
			play(t, e, tc.key, tc.turns)
			if tc.after != nil {
				tc.after(t, w, s)
			}
		})
	}
}

// ackTip1 is a counselor acknowledging the first tip.
func ackTip1(w *world) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tips[0].tip.Status = hotline.StatusAcknowledged
}

func TestSubmitFailureKeepsDraft(t *testing.T) {
	for _, lang := range []hotline.Lang{hotline.LangZH, hotline.LangEN} {
		t.Run(string(lang), func(t *testing.T) {
			w, s := newWorld(), newMemStore()
			e := newEngine(w, s)
			play(t, e, tg, append([]turn{{ev: withLang(cmd("start", "demo"), lang)}}, report("他们抢我的钱")...))
			w.submitErr = errBoom
			keep := map[hotline.Lang]string{hotline.LangZH: "你写的内容都还在", hotline.LangEN: "everything you wrote is still here"}[lang]
			play(t, e, tg, []turn{{ev: tap(dataSend), kinds: []ReplyKind{ReplyError}, has: []string{keep, "|send)", "|edit)"}, not: []string{"database"}}})
			if st := loadState(t, s, tg); st.Step != stepConfirm || !slices.Equal(st.Texts, []string{"他们抢我的钱"}) {
				t.Fatalf("state after failure: got %+v, want the draft at confirm", st)
			}
			w.submitErr = hotline.ErrRateLimited
			play(t, e, tg, []turn{{ev: tap(dataSend), has: []string{hotline.ErrRateLimited.Message.In(lang)}}})
			w.submitErr = nil
			play(t, e, tg, []turn{{ev: tap(dataSend), kinds: []ReplyKind{ReplySubmitted}}})
			if len(w.subs) != 1 || !slices.Equal(w.subs[0].Texts, []string{"他们抢我的钱"}) {
				t.Errorf("submissions: got %+v, want one with the draft", w.subs)
			}
		})
	}
}

func TestResume(t *testing.T) {
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	play(t, e, web, append(append([]turn{{ev: withSchool(cmd("start", ""), "demo")}}, report("第一次写")...), turn{ev: tap(dataSend)}))
	w.tips[0].thread = append(w.tips[0].thread,
		&hotline.Message{Author: hotline.AuthorNote, Body: "内部备注"},
		&hotline.Message{Author: hotline.AuthorCounselor, Body: "谢谢你告诉我们，你安全吗？"})

	// A new session on another device: only the receipt.
	k := Key{Channel: hotline.ChannelWebchat, Session: "sess-new"}
	rs, err := e.Resume(context.Background(), k, "7KQ2M-9XFH3-DPWT8-NAB01", "zh")
	if err != nil {
		t.Fatalf("Resume: got %v, want nil", err)
	}
	got := show(rs)
	var thread []string
	for _, r := range rs {
		if r.Kind == ReplyThread {
			thread = append(thread, r.Text)
			if r.Entry == nil || r.Entry.Text == "" || r.Entry.Speaker == "" {
				t.Errorf("thread reply %q: got entry %+v, want the message for transports", r.Text, r.Entry)
			}
		}
		if r.Lang != hotline.LangZH {
			t.Errorf("reply %q: lang got %q, want zh", r.Text, r.Lang)
		}
	}
	if want := []string{"你：第一次写", "老师：谢谢你告诉我们，你安全吗？"}; !slices.Equal(thread, want) {
		t.Errorf("thread: got %q, want %q", thread, want)
	}
	if strings.Contains(got, "内部备注") || !strings.Contains(got, "欢迎回来") {
		t.Errorf("resume: got\n%s want a welcome and no note", got)
	}
	if st := loadState(t, s, k); st.Active != "tip-1" || st.Step != stepFollow || strings.Contains(string(s.raw(k)), "NAB01") {
		t.Errorf("state: got %s, want active tip-1, follow, no receipt", s.raw(k))
	}
	play(t, e, k, []turn{{ev: txt("我现在安全"), receipt: "7KQ2M-9XFH3-DPWT8-NAB01", has: []string{"已经转给老师了"}}})

	rs, err = e.Resume(context.Background(), k, "7KQ2M-TYPO", "en")
	if err != nil || len(rs) != 1 || rs[0].Kind != ReplyError || rs[0].Text != hotline.ErrReceiptTypo.Message.EN {
		t.Errorf("typo: got %v %s, want one error reply %q", err, show(rs), hotline.ErrReceiptTypo.Message.EN)
	}
	if _, err := e.Resume(context.Background(), tg, "x", "zh"); err == nil {
		t.Errorf("Resume on telegram: got nil, want an error")
	}
}

func TestPersistenceAcrossEngines(t *testing.T) {
	w, s := newWorld(), newMemStore()
	play(t, newEngine(w, s), tg, []turn{{ev: cmd("start", "demo")}, {ev: tap("role:victim")}, {ev: tap("cat:property")}, {ev: txt("第一段")}, {ev: pic("")}})
	// A restart: a new engine, the same store.
	e2 := newEngine(w, s)
	play(t, e2, tg, []turn{
		{ev: txt("第二段"), kinds: []ReplyKind{ReplyText}, has: []string{"收到"}},
		{ev: tap(dataDone)}, {ev: tap(dataDangerNo), has: []string{"2 条文字，1 张照片"}}, {ev: tap(dataSend), kinds: []ReplyKind{ReplySubmitted}},
	})
	if got := w.subs[0]; !slices.Equal(got.Texts, []string{"第一段", "第二段"}) || len(got.Photos) != 1 || got.Category != hotline.CategoryProperty {
		t.Errorf("submission: got %+v, want both texts, the photo, property", got)
	}
}

func TestStoreFailures(t *testing.T) {
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	s.loadErr = errBoom
	rs, err := e.Handle(context.Background(), tg, cmd("start", "demo"))
	if err == nil || len(rs) != 1 || rs[0].Kind != ReplyError || strings.Contains(rs[0].Text, "database") {
		t.Errorf("load failure: got %v %s, want an error and one safe error reply", err, show(rs))
	}
	s.loadErr = nil
	play(t, e, web, append([]turn{{ev: withSchool(cmd("start", ""), "demo")}}, report("内容")...))
	s.saveErr = errBoom
	rs, err = e.Handle(context.Background(), web, tap(dataSend))
	if err == nil {
		t.Errorf("save failure: got nil, want an error")
	}
	// The receipt is shown once: it must come back even when saving failed.
	if !slices.Contains(kinds(rs), ReplyReceipt) {
		t.Errorf("save failure at submit: got %v, want the receipt reply still", kinds(rs))
	}
	rs, err = e.Handle(context.Background(), tg, txt("x"))
	if err == nil || rs[len(rs)-1].Kind != ReplyError {
		t.Errorf("save failure: got %v %v, want an error reply last", err, kinds(rs))
	}
	if _, err := e.Handle(context.Background(), Key{Channel: hotline.ChannelStaff, ChatID: 1}, txt("x")); err == nil {
		t.Errorf("bad key: got nil, want ErrBadKey")
	}
	if _, err := e.Handle(context.Background(), Key{Channel: hotline.ChannelWebchat}, txt("x")); err == nil {
		t.Errorf("web key without session: got nil, want ErrBadKey")
	}
}

func TestDamagedStateStartsAfresh(t *testing.T) {
	w, s := newWorld(), newMemStore()
	s.m[tg] = []byte("{not json")
	play(t, newEngine(w, s), tg, []turn{{ev: cmd("start", "demo"), kinds: []ReplyKind{ReplyPrivacy, ReplyText, ReplyText, ReplyText}}})
	s.m[tg] = []byte(`{"v":1,"lang":"en","step":"bogus"}`)
	play(t, newEngine(w, s), tg, []turn{{ev: txt("hi"), has: []string{"Which school"}}})
}

// TestConcurrentKeys runs 100 conversations at once, each fed by two
// goroutines: without the per-key lock, interleaved load/save would lose
// messages.
func TestConcurrentKeys(t *testing.T) {
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	ctx := context.Background()
	const keys, perWriter = 100, 10
	key := func(i int) Key {
		if i%2 == 0 {
			return Key{Channel: hotline.ChannelTelegram, ChatID: int64(5000 + i)}
		}
		return Key{Channel: hotline.ChannelWebchat, Session: "s" + strconv.Itoa(i)}
	}
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			for _, ev := range []Event{withSchool(cmd("start", "demo"), "demo"), tap("role:victim"), tap("cat:physical")} {
				if _, err := e.Handle(ctx, key(i), ev); err != nil {
					t.Errorf("key %d: got %v, want nil", i, err)
				}
			}
			var inner sync.WaitGroup
			for _, writer := range []string{"a", "b"} {
				inner.Go(func() {
					for j := range perWriter {
						if _, err := e.Handle(ctx, key(i), txt(fmt.Sprintf("k%d-%s-%d", i, writer, j))); err != nil {
							t.Errorf("key %d: got %v, want nil", i, err)
						}
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
	for i := range keys {
		st := loadState(t, s, key(i))
		if len(st.Texts) != 2*perWriter {
			t.Errorf("key %d: got %d texts, want %d", i, len(st.Texts), 2*perWriter)
			continue
		}
		for _, writer := range []string{"a", "b"} {
			var got []string
			for _, x := range st.Texts {
				if !strings.HasPrefix(x, fmt.Sprintf("k%d-", i)) {
					t.Errorf("key %d: got foreign text %q", i, x)
				}
				if strings.HasPrefix(x, fmt.Sprintf("k%d-%s-", i, writer)) {
					got = append(got, x)
				}
			}
			var want []string
			for j := range perWriter {
				want = append(want, fmt.Sprintf("k%d-%s-%d", i, writer, j))
			}
			if !slices.Equal(got, want) {
				t.Errorf("key %d writer %s: got %q, want %q", i, writer, got, want)
			}
		}
	}
	e.locksMu.Lock()
	if n := len(e.locks); n != 0 {
		t.Errorf("locks left: got %d, want 0", n)
	}
	e.locksMu.Unlock()
}

// TestTexts checks every label of texts.go: both languages present, and the
// same fmt verbs in both, so no translation breaks a Sprintf.
func TestTexts(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "texts.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		lit, ok := node.(*ast.CompositeLit)
		if !ok {
			return true
		}
		vals := map[string]string{}
		for _, el := range lit.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, _ := kv.Key.(*ast.Ident)
			bl, _ := kv.Value.(*ast.BasicLit)
			if key == nil || bl == nil {
				continue
			}
			v, _ := strconv.Unquote(bl.Value)
			vals[key.Name] = v
		}
		n++
		pos := fset.Position(lit.Pos())
		if vals["ZH"] == "" || vals["EN"] == "" {
			t.Errorf("%s: got ZH=%q EN=%q, want both", pos, vals["ZH"], vals["EN"])
		}
		if got, want := verbs.FindAllString(vals["EN"], -1), verbs.FindAllString(vals["ZH"], -1); !slices.Equal(got, want) {
			t.Errorf("%s: EN verbs: got %v, want %v (as ZH)", pos, got, want)
		}
		return true
	})
	if n < 50 {
		t.Errorf("labels found: got %d, want at least 50", n)
	}
}

// TestOutageAnswersAgree: when the disk is full or the database is gone,
// a message's answer never says it was kept while also saying it was not
// saved, a conversation that could never be saved does not start again
// from the privacy notice at every message, a reporter in danger still
// gets the safety guidance, and a follow-up whose append failed on our
// side is not applied (the state is not saved) but reported as not saved.
func TestOutageAnswersAgree(t *testing.T) {
	ctx := context.Background()
	w, s := newWorld(), newMemStore()
	e := newEngine(w, s)
	s.saveErr = errBoom
	onlyNotSaved := func(what string, rs []Reply, err error, safety bool) {
		t.Helper()
		if !errors.Is(err, ErrNotApplied) {
			t.Errorf("%s: error %v, want ErrNotApplied", what, err)
		}
		want := []ReplyKind{ReplyError}
		if safety {
			want = []ReplyKind{ReplySafety, ReplyError}
		}
		if !slices.Equal(kinds(rs), want) || rs[len(rs)-1].Text != txtSaveFailed.ZH {
			t.Errorf("%s: got\n%s want only %v ending in %q", what, show(rs), want, txtSaveFailed.ZH)
		}
		for _, r := range rs {
			if strings.Contains(r.Text, "不会丢") || strings.Contains(r.Text, txtNoted.ZH) {
				t.Errorf("%s: %q promises what was not saved", what, r.Text)
			}
		}
	}
	for i, ev := range []Event{cmd("start", "demo"), txt("他们在厕所堵我"), txt("又来了")} {
		rs, err := e.Handle(ctx, tg, ev)
		onlyNotSaved(fmt.Sprintf("message %d with the disk full", i), rs, err, false)
	}
	rs, err := e.Handle(ctx, tg, txt("他拿着刀说要捅我"))
	onlyNotSaved("urgent words with the disk full", rs, err, true)
	// The disk has room again: the conversation starts, once.
	s.saveErr = nil
	play(t, e, tg, []turn{{ev: cmd("start", "demo"), has: []string{"实验中学"}}})
	play(t, e, tg, append(report("第一段"), turn{ev: tap(dataSend), has: []string{"蓝狐"}}))
	before := string(s.raw(tg))
	w.followErr = errBoom // the database went away under the append
	rs, err = e.Handle(ctx, tg, txt("他们今天又来了"))
	onlyNotSaved("follow-up whose append failed", rs, err, false)
	if string(s.raw(tg)) != before {
		t.Error("a follow-up that was not applied changed the saved conversation")
	}
	w.followErr = nil
	play(t, e, tg, []turn{{ev: txt("他们今天又来了"), has: []string{txtForwarded.ZH}}})
	if n := len(w.msgs); n != 1 {
		t.Errorf("follow-ups stored: %d, want 1", n)
	}
}
