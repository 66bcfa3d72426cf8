package main

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/sim/alertsim"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
)

// alertsEnv is the real program with every alert vendor simulated
// (internal/sim/alertsim), a school with a rota, a head and a district
// with a duty officer, and a clock the test moves.
type alertsEnv struct {
	t       *testing.T
	ctx     context.Context
	m       *Main
	sim     *alertsim.Sim
	clock   *urgentClock
	school  *hotline.School
	sess    map[string]*staff.Session
	targets map[string]alert.Target // by name, for the simulator's records
}

const e2eDistrict = "海淀区"

func newAlertsEnv(t *testing.T, at time.Time) *alertsEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	sim, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cfg, err := sim.Provision()
	if err != nil {
		t.Fatal(err)
	}
	e := &alertsEnv{t: t, ctx: ctx, sim: sim, clock: testsupport.NewClock(at), sess: map[string]*staff.Session{}, targets: map[string]alert.Target{}}
	e.m = MustRunMain(t, withClock(e.clock), func(m *Main) {
		m.AlertVendors = &cfg
	})
	t.Cleanup(func() { e.m.Close() })
	st := e.m.Staff
	d, err := st.CreateDistrict(ctx, e2eDistrict, "zhouju")
	if err != nil {
		t.Fatal(err)
	}
	e.login("zhouju", d.OfficerPassword)
	cs, err := st.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", NameEN: "No. 3 Middle School", District: e2eDistrict, AdminUsername: "admin3"})
	if err != nil {
		t.Fatal(err)
	}
	e.school = cs.School
	e.login("admin3", cs.AdminPassword)
	for _, u := range []struct{ user, name string }{{"wang", "王老师"}, {"li", "李老师"}, {"zhao", "赵校长"}} {
		_, otp, err := st.AddCounselor(ctx, e.sess["admin3"], u.user, u.name, hotline.RoleCounselor)
		if err != nil {
			t.Fatal(err)
		}
		e.login(u.user, otp)
	}
	return e
}

// login logs a staff member in and sets the demo password, so the web
// pages can log in too.
func (e *alertsEnv) login(user, otp string) {
	e.t.Helper()
	if err := setPassword(e.ctx, e.m, user, otp); err != nil {
		e.t.Fatal(err)
	}
	s, err := e.m.Staff.Authenticate(e.ctx, user, demoPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Wipe)
	e.sess[user] = s
}

// link links a target as the pages do, under a name for the test.
func (e *alertsEnv) link(name, user string, scope staff.Scope, t alert.Target) int64 {
	e.t.Helper()
	id, err := e.m.Staff.LinkTarget(e.ctx, e.sess[user], scope, t.Kind, t.Address, t.Secret)
	if err != nil {
		e.t.Fatalf("link %s: %v", name, err)
	}
	e.targets[name] = t
	return id
}

// simTarget is what the simulator records as a target's Target.
func simTarget(t alert.Target) string {
	switch t.Kind {
	case alert.WebPush:
		return alertsim.PushID(t)
	case alert.Webhook:
		return t.Address[strings.LastIndexByte(t.Address, '/')+1:]
	}
	return t.Address
}

// got returns the names of the targets the simulator accepted requests
// for since n requests, each as often as it got one.
func (e *alertsEnv) got(n int) map[string]int {
	out := map[string]int{}
	rs := e.sim.Received()
	for _, r := range rs[n:] {
		name := "?" + string(r.Kind) + ":" + r.Target
		for k, t := range e.targets {
			if t.Kind == r.Kind && simTarget(t) == r.Target {
				name = k
			}
		}
		out[name]++
	}
	return out
}

func (e *alertsEnv) tick() {
	e.t.Helper()
	if err := e.m.Scheduler.Tick(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *alertsEnv) slot(user string, pos int, days []int, from, to int) {
	e.t.Helper()
	err := e.m.Staff.AddRotaSlot(e.ctx, e.sess["admin3"], staff.NewSlot{CounselorID: e.sess[user].Counselor.ID, Position: pos, Weekdays: days, StartHour: from, EndHour: to})
	if err != nil {
		e.t.Fatal(err)
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// setUpLadder: wang first on call on weekdays 08–18 (SMS, WeCom); li
// second on call at every hour over WeCom, a DingTalk and a Feishu group
// of his own and SMS; zhao the head (SMS, a call at night); the district's
// duty officer (WeCom, SMS, a call); the school's WeCom robot and the
// district's platform webhook.
func (e *alertsEnv) setUpLadder() {
	sim := e.sim
	e.link("wang.sms", "wang", staff.ScopeMine, alert.Target{Kind: alert.SMSAliyun, Address: "+8613900000001"})
	e.link("wang.wecom", "wang", staff.ScopeMine, sim.AddWeComUser(alertsim.SimWeComCorpID, "wangwu"))
	e.link("li.wecom", "li", staff.ScopeMine, sim.AddWeComUser(alertsim.SimWeComCorpID, "lisi"))
	e.link("li.dingtalk", "li", staff.ScopeMine, sim.NewDingTalkRobot())
	e.link("li.feishu", "li", staff.ScopeMine, sim.NewFeishuBot())
	e.link("li.sms", "li", staff.ScopeMine, alert.Target{Kind: alert.SMSTencent, Address: "+8613900000002"})
	push, err := sim.NewPushSubscription(e.m.vapidPublic)
	if err != nil {
		e.t.Fatal(err)
	}
	e.link("li.push", "li", staff.ScopeMine, push)
	e.link("zhao.sms", "zhao", staff.ScopeMine, alert.Target{Kind: alert.SMSAliyun, Address: "+8613900000003"})
	e.link("zhao.voice", "zhao", staff.ScopeMine, alert.Target{Kind: alert.VoiceAliyun, Address: "+8613900000004"})
	e.link("officer.wecom", "zhouju", staff.ScopeMine, sim.AddWeComUser(alertsim.SimWeComCorpID, "zhouju"))
	e.link("officer.sms", "zhouju", staff.ScopeMine, alert.Target{Kind: alert.SMSTencent, Address: "+8613900000005"})
	e.link("officer.voice", "zhouju", staff.ScopeMine, alert.Target{Kind: alert.VoiceTencent, Address: "+8613900000006"})
	e.link("school.wecom", "admin3", staff.ScopeSchool, sim.NewWeComRobot())
	e.link("district.webhook", "zhouju", staff.ScopeDistrict, sim.NewWebhook())
	e.slot("wang", 1, []int{0, 1, 2, 3, 4}, 8, 18)
	e.slot("li", 2, []int{0, 1, 2, 3, 4, 5, 6}, 0, 24)
	if err := e.m.Staff.SetDutyHead(e.ctx, e.sess["admin3"], e.sess["zhao"].Counselor.ID, true); err != nil {
		e.t.Fatal(err)
	}
	if err := e.m.Staff.SetDistrictDuty(e.ctx, e.sess["zhouju"], e.sess["zhouju"].Counselor.ID, true); err != nil {
		e.t.Fatal(err)
	}
}

// TestUrgentReportClimbsTheLadderOverEveryChannel: an urgent report at
// 23:00 on a Monday, outside the first on call's hours, reaches the second
// on call at once over WeCom, DingTalk, Feishu and SMS; nobody
// acknowledges, and every five minutes the ladder climbs: every counselor
// and the school's robot, the head (a call: night), the district's duty
// officer (a call) and its platform. The second on call's link, pressed
// then, acknowledges the case: the ladder stops, the ledger names him, no
// alert follows. Nothing any vendor received holds anything of the report
// but its alias, its school and a link.
func TestUrgentReportClimbsTheLadderOverEveryChannel(t *testing.T) {
	// Monday 2026-03-02, 23:00 in Shanghai.
	e := newAlertsEnv(t, time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	e.setUpLadder()
	ctx := e.ctx
	canaries := []string{"CANARY-7f3a9", "宿舍门口", "张小明", "刀"}
	sub, err := e.m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryPhysical, Lang: hotline.LangZH, DangerNow: true,
		Texts: []string{"CANARY-7f3a9 他带着刀在宿舍门口等我，张小明快来救我"}})
	if err != nil {
		t.Fatal(err)
	}
	canaries = append(canaries, sub.Receipt)
	tip, err := e.m.DB.TipByUID(ctx, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}

	for _, step := range []struct {
		at   time.Duration
		rung int
		want map[string]int
	}{
		{0, 2, map[string]int{"li.wecom": 1, "li.dingtalk": 1, "li.feishu": 1, "li.sms": 1, "li.push": 1}},
		{4 * time.Minute, 2, map[string]int{}},
		{5 * time.Minute, 3, map[string]int{"wang.sms": 1, "wang.wecom": 1, "li.wecom": 1, "li.dingtalk": 1, "li.feishu": 1, "li.sms": 1, "li.push": 1, "zhao.sms": 1, "school.wecom": 1}},
		{10 * time.Minute, 4, map[string]int{"zhao.sms": 1, "zhao.voice": 1}},
		{15 * time.Minute, 5, map[string]int{"officer.wecom": 1, "officer.sms": 1, "officer.voice": 1, "district.webhook": 1}},
		{30 * time.Minute, 5, map[string]int{}},
	} {
		n := len(e.sim.Received())
		e.clock.Set(time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC).Add(step.at))
		e.tick()
		if got := e.got(n); !sameCounts(got, step.want) {
			t.Fatalf("at +%v the simulator got %v, want %v (refused: %+v)", step.at, got, step.want, e.sim.Refused())
		}
		l, err := e.m.DB.LadderByTip(ctx, tip.ID)
		if err != nil || l.Rung != step.rung {
			t.Fatalf("at +%v the ladder is at %+v, %v; want rung %d", step.at, l, err, step.rung)
		}
	}

	// What each got: personal channels a one-time link, groups the case
	// behind the log-in; and nothing of the report.
	var liLink string
	for _, r := range e.sim.Received() {
		for _, c := range canaries {
			for _, where := range []string{r.Text, r.Link, string(r.Body), r.URL, strings.Join(r.Params, "|")} {
				if c != "" && strings.Contains(where, c) {
					t.Fatalf("%s to %s carries %q: %s", r.Kind, r.Target, c, where)
				}
			}
		}
		if !strings.Contains(r.Text+strings.Join(r.Params, "|"), tip.Alias.ZH) {
			t.Errorf("%s to %s lacks the alias: %q %v", r.Kind, r.Target, r.Text, r.Params)
		}
		if !strings.Contains(r.Text+strings.Join(r.Params, "|"), "第三中学") && !strings.Contains(string(r.Body), "第三中学") {
			t.Errorf("%s to %s lacks the school: %q", r.Kind, r.Target, r.Text)
		}
		switch simTarget(e.targets["school.wecom"]) {
		case r.Target:
			if !strings.Contains(r.Text, e.m.URL()+"/inbox/tips/"+tip.UID) || strings.Contains(r.Text, "/inbox/ack/") {
				t.Errorf("the school's group got %q", r.Text)
			}
		}
		if (r.Kind == alert.DingTalk || r.Kind == alert.Feishu) && strings.Contains(r.Text, "/inbox/ack/") {
			t.Errorf("a group robot got a one-time link: %q", r.Text)
		}
		if r.Kind == alert.WeComApp && r.Target == "lisi" && liLink == "" {
			i := strings.Index(r.Text, e.m.URL()+"/inbox/ack/")
			if i < 0 {
				t.Fatalf("li's WeCom alert has no link: %q", r.Text)
			}
			liLink = strings.Fields(r.Text[i:])[0]
		}
	}
	for _, r := range e.sim.Refused() {
		t.Errorf("the simulator refused %s to %s: %s", r.Kind, r.Target, r.Code)
	}

	// Li presses his link on his phone: a look changes nothing, the
	// button acknowledges.
	phone := newInboxUser(t, e.m.URL())
	path := strings.TrimPrefix(liLink, e.m.URL())
	if p := phone.get(path); p.status != 200 || !strings.Contains(p.body, "我来处理") {
		t.Fatalf("the link's page: %d", p.status)
	}
	if got, _ := e.m.DB.TipByUID(ctx, tip.UID); got.Status != hotline.StatusNew {
		t.Fatal("looking at the link acknowledged the case")
	}
	if p := phone.post(path, nil); p.status != 200 || !strings.Contains(p.body, "已受理") {
		t.Fatalf("the button: %d %s", p.status, p.body)
	}
	got, _ := e.m.DB.TipByUID(ctx, tip.UID)
	if got.Status != hotline.StatusAcknowledged || got.AcknowledgedAt.After(got.AckDue) {
		t.Fatalf("after the button: %s at %v (due %v)", got.Status, got.AcknowledgedAt, got.AckDue)
	}
	evs, err := e.m.DB.TipEvents(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	var acked, paged int
	for _, ev := range evs {
		switch {
		case ev.Kind == hotline.EventAcknowledged && ev.ActorID == e.sess["li"].Counselor.ID && ev.Detail == "via=alert_link":
			acked++
		case ev.Kind == hotline.EventPaged:
			paged++
		}
	}
	if acked != 1 || paged != 5 {
		t.Fatalf("ledger: %d acknowledgements naming li, %d rungs; want 1 and 5", acked, paged)
	}
	// Nothing follows: no rung, no missed deadline.
	n := len(e.sim.Received())
	e.clock.Add(2 * time.Hour)
	e.tick()
	if got := e.got(n); len(got) != 0 {
		t.Fatalf("alerts after the acknowledgement: %v", got)
	}
	if l, _ := e.m.DB.LadderByTip(ctx, tip.ID); l.State != store.LadderAcknowledged || l.AckedBy != e.sess["li"].Counselor.ID {
		t.Fatalf("ladder = %+v", l)
	}
	st := e.m.Scheduler.AlertStats()
	if st.FirstAlert.Count != 1 || st.Ack.Count != 1 || st.Sends[alert.DingTalk]["sent"] != 2 || st.Sends[alert.VoiceAliyun]["sent"] != 1 {
		t.Errorf("alert stats = %+v", st)
	}
}

// TestFailedFirstRungPagesTheSecondAtOnce: at 10:00 on a Monday wang is
// first on call, but his number is refused and his WeCom account unknown:
// li is paged in the same pass, not five minutes later, and the school's
// admin and the district see why.
func TestFailedFirstRungPagesTheSecondAtOnce(t *testing.T) {
	at := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	e := newAlertsEnv(t, at)
	e.setUpLadder()
	e.sim.Fail(alert.SMSAliyun, "+8613900000001", "isv.MOBILE_NUMBER_ILLEGAL")
	e.sim.Fail(alert.WeComApp, "wangwu", "60111")
	sub, err := e.m.Intake.Submit(e.ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"有人要打我"}, DangerNow: true})
	if err != nil {
		t.Fatal(err)
	}
	e.tick()
	want := map[string]int{"li.wecom": 1, "li.dingtalk": 1, "li.feishu": 1, "li.sms": 1, "li.push": 1}
	if got := e.got(0); !sameCounts(got, want) {
		t.Fatalf("after one pass the simulator got %v, want %v", got, want)
	}
	tip, _ := e.m.DB.TipByUID(e.ctx, sub.TipUID)
	if l, _ := e.m.DB.LadderByTip(e.ctx, tip.ID); l.Rung != 2 {
		t.Fatalf("ladder at rung %d, want 2", l.Rung)
	}
	// The school's admin sees the failures with their reasons on the rota
	// page; the district on its page.
	admin := newInboxUser(t, e.m.URL())
	admin.login("admin3", demoPassword)
	p := admin.get("/inbox/admin/rota")
	for _, want := range []string{"isv.MOBILE_NUMBER_ILLEGAL", "60111", "王老师"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the rota page lacks %q", want)
		}
	}
	officer := newInboxUser(t, e.m.URL())
	officer.get("/inbox/login")
	officer.post("/inbox/login", url.Values{"username": {"zhouju"}, "password": {demoPassword}})
	p = officer.get("/district/")
	if p.status != 200 || !strings.Contains(p.body, `id="reach"`) || !strings.Contains(p.body, "isv.MOBILE_NUMBER_ILLEGAL") {
		t.Fatalf("the district page: %d, lacks the school's failures", p.status)
	}
}

// TestReadyzTellsTheTruth: /readyz is 503 while a school's urgent alerts
// reach nobody over a confirmed channel, and turns 200 once a test was
// confirmed from its own link; /healthz stays 200 throughout.
func TestReadyzTellsTheTruth(t *testing.T) {
	e := newAlertsEnv(t, time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC))
	e.setUpLadder()
	if code, body := httpGet(t, e.m.URL()+"/readyz"); code != 503 || !strings.Contains(body, "1 of 1 schools") {
		t.Fatalf("readyz before any test: %d %q", code, body)
	}
	if code, _ := httpGet(t, e.m.URL()+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	ts, err := e.m.Staff.Targets(e.ctx, e.sess["li"], staff.ScopeMine)
	if err != nil {
		t.Fatal(err)
	}
	var wecom int64
	for _, tv := range ts {
		if tv.Kind == alert.WeComApp {
			wecom = tv.ID
		}
	}
	n := len(e.sim.Received())
	res, err := e.m.Scheduler.SendTest(e.ctx, e.sess["li"], staff.ScopeMine, wecom)
	if err != nil || !res.Sent {
		t.Fatalf("test alert: %+v, %v", res, err)
	}
	r := e.sim.Received()[n]
	i := strings.Index(r.Text, e.m.URL()+"/inbox/ack/")
	if i < 0 {
		t.Fatalf("test alert without a link: %q", r.Text)
	}
	path := strings.TrimPrefix(strings.Fields(r.Text[i:])[0], e.m.URL())
	phone := newInboxUser(t, e.m.URL())
	phone.get(path)
	if p := phone.post(path, nil); p.status != 200 {
		t.Fatalf("confirming the test: %d", p.status)
	}
	e.m.ready.reset() // the cache's 15 seconds pass
	if code, body := httpGet(t, e.m.URL()+"/readyz"); code != 200 {
		t.Fatalf("readyz after a confirmed test: %d %q", code, body)
	}
	if !bytes.Contains([]byte(r.Text), []byte("第三中学")) {
		t.Errorf("test alert text: %q", r.Text)
	}
}

// TestDistrictAlertSettings: the district sets the minutes between rungs,
// names its duty officer and links its Feishu robot, which a test
// confirms; a school's admin cannot.
func TestDistrictAlertSettings(t *testing.T) {
	e := newAlertsEnv(t, time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	officer := newInboxUser(t, e.m.URL())
	officer.get("/inbox/login")
	if p := officer.post("/inbox/login", url.Values{"username": {"zhouju"}, "password": {demoPassword}}); p.path != "/district/" {
		t.Fatalf("officer log-in at %s", p.path)
	}
	p := officer.get("/district/settings")
	for _, want := range []string{`id="ladder"`, `id="duty"`, `id="add-group"`, "飞书群机器人"} {
		if !strings.Contains(p.body, want) {
			t.Fatalf("district settings lack %q", want)
		}
	}
	if p := officer.post("/district/settings/ladder", url.Values{"minutes": {"99"}}); p.status != 400 {
		t.Fatalf("99 minutes: %d", p.status)
	}
	officer.get("/district/settings")
	officer.post("/district/settings/ladder", url.Values{"minutes": {"2"}})
	if n, err := e.m.Staff.LadderMinutes(e.ctx, e2eDistrict); err != nil || n != 2 {
		t.Fatalf("ladder minutes = %d, %v", n, err)
	}
	officer.get("/district/settings")
	officer.post("/district/officers/"+itoa64(e.sess["zhouju"].Counselor.ID)+"/duty", url.Values{"on": {"1"}})
	if rec, _ := e.m.DB.CounselorByID(e.ctx, e.sess["zhouju"].Counselor.ID); !rec.OnCall {
		t.Fatal("the officer is not on duty")
	}
	bot := e.sim.NewFeishuBot()
	officer.get("/district/settings")
	p = officer.post("/district/groups", url.Values{"kind": {"feishu"}, "address": {"https://open.feishu.cn/open-apis/bot/v2/hook/" + bot.Address}, "secret": {bot.Secret}})
	if p.status != 200 || !strings.Contains(p.body, "…"+bot.Address[len(bot.Address)-4:]) || strings.Contains(p.body, bot.Secret) {
		t.Fatalf("adding the robot: %d", p.status)
	}
	id := regexpFind(t, p.body, `id="group-([0-9]+)"`)
	n := len(e.sim.Received())
	if p := officer.post("/district/groups/"+id+"/test", nil); p.status != 200 || !strings.Contains(p.body, "测试提醒已发出") {
		t.Fatalf("test: %d", p.status)
	}
	r := e.sim.Received()[n]
	if r.Kind != "feishu" || r.Target != bot.Address {
		t.Fatalf("the test went to %s %s", r.Kind, r.Target)
	}
	i := strings.Index(r.Text, e.m.URL()+"/inbox/ack/")
	if i < 0 {
		t.Fatalf("test without a link: %q", r.Text)
	}
	link := strings.TrimPrefix(strings.Fields(r.Text[i:])[0], e.m.URL())
	someone := newInboxUser(t, e.m.URL())
	someone.get(link)
	someone.post(link, nil)
	if p := officer.get("/district/settings"); !strings.Contains(p.body, `data-state="working"`) {
		t.Fatal("the district's robot is not working after its test")
	}
	// A school's admin is not the district.
	admin := newInboxUser(t, e.m.URL())
	admin.login("admin3", demoPassword)
	if p := admin.post("/district/groups", url.Values{"kind": {"feishu"}, "address": {"x"}}); p.status != 403 {
		t.Fatalf("a school admin at the district's settings: %d", p.status)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func regexpFind(t *testing.T, body, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s", re)
	}
	return m[1]
}
