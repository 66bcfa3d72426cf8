package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// fakeSent is one alert a fake channel took.
type fakeSent struct {
	Kind alert.Kind
	To   alert.Target
	M    alert.Message
	At   time.Time
}

// fakeChannels is a channel of every kind that records what it is given
// and fails the addresses it is told to, with the vendor's kind of error.
type fakeChannels struct {
	mu    sync.Mutex
	clock func() time.Time
	sent  []fakeSent
	fail  map[string]error // address → error
	gate  chan struct{}    // if set, Send waits for it
	calls chan struct{}    // if set, told of each Send before it waits
}

type fakeChannel struct {
	k alert.Kind
	f *fakeChannels
}

func (c fakeChannel) Kind() alert.Kind { return c.k }

func (c fakeChannel) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	f := c.f
	if f.calls != nil {
		f.calls <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[to.Address]; err != nil {
		return err
	}
	f.sent = append(f.sent, fakeSent{Kind: c.k, To: to, M: m, At: f.clock()})
	return nil
}

func newFakeChannels(clock func() time.Time) (*fakeChannels, alert.Set) {
	f := &fakeChannels{clock: clock, fail: map[string]error{}}
	set := alert.Set{}
	for _, k := range []alert.Kind{alert.Telegram, alert.Email, alert.WeComRobot, alert.WeComApp, alert.DingTalk, alert.Feishu,
		alert.SMSAliyun, alert.SMSTencent, alert.VoiceAliyun, alert.VoiceTencent, alert.Webhook, alert.WebPush} {
		set[k] = fakeChannel{k, f}
	}
	return f, set
}

func (f *fakeChannels) Sent() []fakeSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeSent(nil), f.sent...)
}

// to returns what an address received.
func (f *fakeChannels) to(addr string) []fakeSent {
	var out []fakeSent
	for _, s := range f.Sent() {
		if s.To.Address == addr {
			out = append(out, s)
		}
	}
	return out
}

func (f *fakeChannels) failAddr(addr string, err error) {
	f.mu.Lock()
	f.fail[addr] = err
	f.mu.Unlock()
}

// ladderEnv is the scheduler's env with every channel faked, a third
// counselor (li, the head) and the district officer as duty officer.
type ladderEnv struct {
	*ovEnv
	fakes *fakeChannels
	li    *staff.Session
}

func newLadderEnv(t *testing.T) *ladderEnv {
	e := &ladderEnv{ovEnv: newOvEnv(t, nil)}
	ctx := context.Background()
	e.fakes, _ = newFakeChannels(e.clock.Now)
	e.useFakes()
	_, otp, err := e.staff.AddCounselor(ctx, e.admin, "li", "李校长", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	e.li = e.login("li", otp)
	if err := e.staff.SetDutyHead(ctx, e.admin, e.li.Counselor.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.staff.SetDistrictDuty(ctx, e.officer, e.officer.Counselor.ID, true); err != nil {
		t.Fatal(err)
	}
	return e
}

// useFakes gives the (re)opened scheduler and staff service every fake
// channel.
func (e *ladderEnv) useFakes() {
	_, set := newFakeChannels(e.clock.Now)
	kinds := map[alert.Kind]bool{}
	for k := range set {
		set[k] = fakeChannel{k, e.fakes}
		kinds[k] = true
	}
	e.staff.AlertKinds = kinds
	e.sched.Channels = set
}

func (e *ladderEnv) link(sess *staff.Session, scope staff.Scope, kind alert.Kind, addr, secret string) int64 {
	e.tb.Helper()
	id, err := e.staff.LinkTarget(context.Background(), sess, scope, kind, addr, secret)
	if err != nil {
		e.tb.Fatalf("link %s %s: %v", kind, addr, err)
	}
	return id
}

func (e *ladderEnv) slot(who *staff.Session, pos int, days []int, from, to int) {
	e.tb.Helper()
	if err := e.staff.AddRotaSlot(context.Background(), e.admin, staff.NewSlot{CounselorID: who.Counselor.ID, Position: pos, Weekdays: days, StartHour: from, EndHour: to}); err != nil {
		e.tb.Fatal(err)
	}
}

func (e *ladderEnv) ladder(uid string) *store.Ladder {
	e.tb.Helper()
	l, err := e.db.LadderByTip(context.Background(), e.tip(uid).ID)
	if err != nil {
		e.tb.Fatal(err)
	}
	return l
}

var weekdays = []int{0, 1, 2, 3, 4}
var everyDay = []int{0, 1, 2, 3, 4, 5, 6}

// Phone numbers and keys of the ladder tests.
const (
	wangSMS    = "+8613800000001"
	adminSMS   = "+8613800000002"
	adminWeCom = "zhangsan"
	liSMS      = "+8613800000003"
	liVoice    = "+8613800000004"
	offSMS     = "+8613800000005"
	offVoice   = "+8613800000006"
	schoolDing = "dingtalktoken0001"
	distFeishu = "feishuhook0001"
)

// setUp links everyone's channels: wang is first on call on weekdays
// 08–17, the admin second on call at every hour.
func (e *ladderEnv) setUp() {
	e.link(e.wang, staff.ScopeMine, alert.SMSAliyun, wangSMS, "")
	e.link(e.admin, staff.ScopeMine, alert.WeComApp, adminWeCom, "")
	e.link(e.admin, staff.ScopeMine, alert.SMSTencent, adminSMS, "")
	e.link(e.li, staff.ScopeMine, alert.SMSAliyun, liSMS, "")
	e.link(e.li, staff.ScopeMine, alert.VoiceAliyun, liVoice, "")
	e.link(e.officer, staff.ScopeMine, alert.SMSAliyun, offSMS, "")
	e.link(e.officer, staff.ScopeMine, alert.VoiceTencent, offVoice, "")
	e.link(e.admin, staff.ScopeSchool, alert.DingTalk, schoolDing, "SECschoolsecret0001")
	e.link(e.officer, staff.ScopeDistrict, alert.Feishu, distFeishu, "feishusecret01")
	e.slot(e.wang, 1, weekdays, 8, 17)
	e.slot(e.admin, 2, everyDay, 0, 24)
}

// TestLadderClimbsFromTheRotaToTheDistrict: an urgent report at 23:00
// (Shanghai), outside the first on call's hours, pages the second on call
// at once over every channel they linked, then every counselor and the
// school's group robot, then the head (with a call: night), then the
// district's duty officer and robot; nobody more after that. An
// acknowledgement from a link stops it, once; the ledger names who.
func TestLadderClimbsFromTheRotaToTheDistrict(t *testing.T) {
	e := newLadderEnv(t)
	ctx := context.Background()
	e.setUp()
	// Monday 2026-03-02 23:00 in Shanghai.
	e.t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	e.at(0)
	secret := "他说放学后要带刀来找我"
	sub := e.submit([]string{secret}, true)
	tip := e.tip(sub.TipUID)

	type step struct {
		at    time.Duration
		rung  int
		addrs []string // what got alerts at this step, in any order
	}
	for _, st := range []step{
		{0, 2, []string{adminWeCom, adminSMS}}, // rung 1 empty at 23:00: rung 2 at once
		{4 * time.Minute, 2, nil},              // the rung's minutes
		{5 * time.Minute, 3, []string{adminWeCom, adminSMS, wangSMS, liSMS, schoolDing}}, // every counselor, the school's robot
		{10 * time.Minute, 4, []string{liSMS, liVoice}},                                  // the head; at night also a call
		{15 * time.Minute, 5, []string{offSMS, offVoice, distFeishu}},                    // the district's duty officer and robot
		{40 * time.Minute, 5, nil},                                                       // the top: nobody more
	} {
		before := len(e.fakes.Sent())
		e.at(st.at)
		e.tick()
		got := map[string]int{}
		for _, s := range e.fakes.Sent()[before:] {
			got[s.To.Address]++
		}
		want := map[string]int{}
		for _, a := range st.addrs {
			want[a]++
		}
		if len(got) != len(want) {
			t.Fatalf("at %v sent to %v, want %v", st.at, got, want)
		}
		for a, n := range want {
			if got[a] != n {
				t.Fatalf("at %v sent to %v, want %v", st.at, got, want)
			}
		}
		if l := e.ladder(sub.TipUID); l.Rung != st.rung {
			t.Fatalf("at %v ladder at rung %d, want %d", st.at, l.Rung, st.rung)
		}
	}
	// Personal alerts carry a one-time link; groups the case behind the
	// log-in (the school's) or the district's page; never content.
	var adminLink string
	for _, s := range e.fakes.Sent() {
		for _, bit := range []string{secret, "刀", "放学"} {
			if strings.Contains(s.M.Text, bit) || strings.Contains(s.M.Link, bit) {
				t.Errorf("alert to %s holds content: %q", s.Kind, s.M.Text)
			}
		}
		if !strings.Contains(s.M.Text, tip.Alias.ZH) || !strings.Contains(s.M.Text, "第三中学") {
			t.Errorf("alert to %s lacks alias or school: %q", s.Kind, s.M.Text)
		}
		switch s.To.Address {
		case schoolDing:
			if s.M.Link != "https://hotline.example.cn/inbox/tips/"+tip.UID || strings.Contains(s.M.Text, "/ack/") {
				t.Errorf("school group link = %q (text %q)", s.M.Link, s.M.Text)
			}
		case distFeishu:
			if s.M.Link != "https://hotline.example.cn/district/" {
				t.Errorf("district group link = %q", s.M.Link)
			}
		default:
			if !strings.HasPrefix(s.M.Link, "https://hotline.example.cn/inbox/ack/") || !strings.Contains(s.M.Text, s.M.Link) {
				t.Errorf("personal alert link = %q (text %q)", s.M.Link, s.M.Text)
			}
			if s.To.Address == adminWeCom && adminLink == "" {
				adminLink = s.M.Link
			}
		}
	}
	token := strings.TrimPrefix(adminLink, "https://hotline.example.cn/inbox/ack/")

	// Looking at the link (as a link previewer does) changes nothing.
	info, err := e.svc.LinkInfo(ctx, e.staff, token)
	if err != nil || info.Acked || info.Alias != tip.Alias {
		t.Fatalf("link info = %+v, %v", info, err)
	}
	if got := e.tip(sub.TipUID); got.Status != hotline.StatusNew || !e.ladder(sub.TipUID).Open() {
		t.Fatalf("a look acknowledged: %s, ladder %s", got.Status, e.ladder(sub.TipUID).State)
	}
	ack, err := e.svc.AcknowledgeByLink(ctx, e.staff, token)
	if err != nil || ack.Already || ack.District || ack.TipUID != tip.UID {
		t.Fatalf("acknowledge = %+v, %v", ack, err)
	}
	if got := e.tip(sub.TipUID); got.Status != hotline.StatusAcknowledged || got.AcknowledgedAt.IsZero() {
		t.Fatalf("after the link: %s, %v", got.Status, got.AcknowledgedAt)
	}
	if l := e.ladder(sub.TipUID); l.State != store.LadderAcknowledged || l.AckedBy != e.admin.Counselor.ID {
		t.Fatalf("ladder after the link = %+v", l)
	}
	if _, err := e.svc.AcknowledgeByLink(ctx, e.staff, token); !errors.Is(err, staff.ErrLinkUsed) {
		t.Fatalf("a used link: %v, want %v", err, staff.ErrLinkUsed)
	}
	evs, err := e.db.TipEvents(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		if ev.Kind == hotline.EventAcknowledged {
			found = ev.ActorID == e.admin.Counselor.ID && ev.Detail == "via=alert_link"
		}
	}
	if !found {
		t.Errorf("no acknowledgement naming the admin in the ledger: %+v", evs)
	}
	n := len(e.fakes.Sent())
	e.at(2 * time.Hour)
	e.tick()
	for _, s := range e.fakes.Sent()[n:] {
		if s.M.Rung != 0 {
			t.Errorf("a ladder alert after the acknowledgement: %+v", s)
		}
	}
	st := e.sched.AlertStats()
	if st.FirstAlert.Count != 1 || st.Ack.Count != 1 || st.Sends[alert.SMSAliyun][scheduler.ResultSent] == 0 {
		t.Errorf("alert stats = %+v", st)
	}
}

// TestVoiceOnlyOnTheLastRungsAtNight: by day the head and the duty
// officer get text messages, not calls.
func TestVoiceOnlyOnTheLastRungsAtNight(t *testing.T) {
	e := newLadderEnv(t)
	e.setUp()
	e.t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, wang on call
	e.at(0)
	sub := e.submit([]string{"有人打我"}, true)
	for _, d := range []time.Duration{0, 5, 10, 15, 20} {
		e.at(d * time.Minute)
		e.tick()
	}
	if l := e.ladder(sub.TipUID); l.Rung != staff.TopRung {
		t.Fatalf("ladder at rung %d", l.Rung)
	}
	for _, s := range e.fakes.Sent() {
		if staff.IsVoice(s.Kind) {
			t.Errorf("a call by day: %+v", s.To.Address)
		}
	}
	if len(e.fakes.to(wangSMS)) != 2 { // rung 1 (on call 08–17), rung 3
		t.Errorf("wang got %d alerts, want 2", len(e.fakes.to(wangSMS)))
	}
}

// TestFailedRungPagesTheNextAtOnce: every channel of the first on call
// fails (a refused number, a robot error code): the second on call is
// paged in the same pass, not after the rung's minutes, and the failures
// are recorded with their reasons.
func TestFailedRungPagesTheNextAtOnce(t *testing.T) {
	e := newLadderEnv(t)
	ctx := context.Background()
	e.setUp()
	wangApp := e.link(e.wang, staff.ScopeMine, alert.WeComApp, "wangwu", "")
	e.fakes.failAddr(wangSMS, &alert.Error{Kind: alert.SMSAliyun, Code: "isv.MOBILE_NUMBER_ILLEGAL", Reason: "手机号码格式错误 / invalid number", Permanent: true})
	e.fakes.failAddr("wangwu", &alert.Error{Kind: alert.WeComApp, Code: "60111", Reason: "成员不存在 / no such member"})
	e.t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC) // Monday 10:00 in Shanghai: wang first on call
	e.at(0)
	sub := e.submit([]string{"有人打我"}, true)
	e.tick()
	if l := e.ladder(sub.TipUID); l.Rung != 2 {
		t.Fatalf("after one pass the ladder is at rung %d, want 2", l.Rung)
	}
	if got := e.fakes.to(adminWeCom); len(got) != 1 || !got[0].At.Equal(e.t0) {
		t.Fatalf("second on call got %+v, want one alert at once", got)
	}
	sends, err := e.db.SendsOfTip(ctx, e.tip(sub.TipUID).ID)
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	for _, s := range sends {
		if s.Rung == 1 && s.State != store.SendSent {
			failed[s.Kind] = s.State + " " + s.Code + " " + s.Reason
		}
	}
	if !strings.HasPrefix(failed[string(alert.SMSAliyun)], "refused isv.MOBILE_NUMBER_ILLEGAL 手机号码格式错误") ||
		!strings.HasPrefix(failed[string(alert.WeComApp)], "failed 60111 成员不存在") {
		t.Errorf("rung 1 failures = %v", failed)
	}
	tg, err := e.db.AlertTargetByID(ctx, wangApp)
	if err != nil || tg.FailedAt.IsZero() || tg.FailCode != "60111" {
		t.Errorf("target after failure = %+v, %v", tg, err)
	}
	// The school admin sees the failure with its reason.
	r, err := e.staff.Readiness(ctx, e.school.ID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var seen bool
	for _, f := range r.Failures {
		if f.Rung == 1 && f.Who == "wang" || strings.Contains(f.Reason, "成员不存在") {
			seen = true
		}
	}
	if !seen {
		t.Errorf("failures shown = %+v", r.Failures)
	}
}

// TestLadderResumesWhenTheLeaderHangs: the leader decides a rung, commits
// its link and hangs while the alert is in flight; the node that takes
// over (another handle on the same database) sends what is still pending,
// with a link of its own that works, and the old leader's late result
// changes nothing.
func TestLadderResumesWhenTheLeaderHangs(t *testing.T) {
	e := newLadderEnv(t)
	ctx := context.Background()
	e.link(e.wang, staff.ScopeMine, alert.SMSAliyun, wangSMS, "")
	e.slot(e.wang, 1, everyDay, 0, 24)
	sub := e.submit([]string{"有人打我"}, true)

	e.fakes.gate, e.fakes.calls = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- e.sched.Tick(ctx) }()
	select {
	case <-e.fakes.calls: // the rung and its link are committed; the alert is in flight
	case <-time.After(time.Minute):
		t.Fatal("no send")
	}

	// Another node takes over.
	db2, err := store.Open(e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	db2.Clock = e.clock
	st2 := staff.New(db2, e.vault, nil)
	fakes2, set2 := newFakeChannels(e.clock.Now)
	st2.AlertKinds = e.staff.AlertKinds
	sc2 := &scheduler.Scheduler{DB: db2, Vault: e.vault, Staff: st2, Channels: set2, BaseURL: "https://hotline.example.cn"}
	if err := sc2.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	got := fakes2.to(wangSMS)
	if len(got) != 1 {
		t.Fatalf("the new leader sent wang %d alerts, want 1", len(got))
	}
	close(e.fakes.gate) // the old leader wakes up
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	token := strings.TrimPrefix(got[0].M.Link, "https://hotline.example.cn/inbox/ack/")
	if _, err := e.svc.AcknowledgeByLink(ctx, e.staff, token); err != nil {
		t.Fatalf("the new leader's link: %v", err)
	}
	if l := e.ladder(sub.TipUID); l.State != store.LadderAcknowledged || l.Rung != 1 {
		t.Fatalf("ladder = %+v", l)
	}
	sends, err := e.db.SendsOfTip(ctx, e.tip(sub.TipUID).ID)
	if err != nil || len(sends) != 1 || sends[0].State != store.SendSent {
		t.Fatalf("sends = %+v, %v", sends, err)
	}
}
