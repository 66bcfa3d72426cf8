package main

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/sim/alertsim"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// The demo sends its alerts to the in-process vendor simulator
// (internal/sim/alertsim) and shows them at /demo/alerts: a newcomer sees
// the escalation ladder climb, rung by rung, and can press the "I'm on it"
// links it carries.

// demoAlerts is the demo's simulator and the record of what went to it.
type demoAlerts struct {
	sim *alertsim.Sim
	cfg alert.Config

	mu   sync.Mutex
	sent []demoSent // newest last, at most demoKeep
}

const demoKeep = 300

// demoSent is one alert the demo sent, as its page shows it.
type demoSent struct {
	At     time.Time
	Kind   alert.Kind
	Target string // masked
	Rung   int
	Text   string
	Link   string
	Result string // "" sent; else the channel's reason
}

// recording wraps a channel to record what it sends, for the page.
type recording struct {
	alert.Channel
	d *demoAlerts
}

func (c recording) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	err := c.Channel.Send(ctx, to, m)
	s := demoSent{At: time.Now(), Kind: to.Kind, Target: alert.Mask(to.Kind, to.Address), Rung: m.Rung, Text: m.Text, Link: m.Link}
	if e := alert.AsError(to.Kind, err); e != nil {
		s.Result = e.Reason
	}
	c.d.mu.Lock()
	c.d.sent = append(c.d.sent, s)
	if len(c.d.sent) > demoKeep {
		c.d.sent = c.d.sent[len(c.d.sent)-demoKeep:]
	}
	c.d.mu.Unlock()
	return err
}

// startDemoAlerts starts the simulator and points the demo's channels at
// it, before Main opens: every vendor is "configured", with accounts the
// simulator made. Close stops it.
func startDemoAlerts(m *Main) (*demoAlerts, error) {
	sim, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cfg, err := sim.Provision()
	if err != nil {
		sim.Close()
		return nil, err
	}
	d := &demoAlerts{sim: sim, cfg: cfg}
	m.AlertVendors = &d.cfg
	return d, nil
}

// record makes the opened Main's alert channels record what they send,
// for the page, and stops the simulator when Main closes.
func (d *demoAlerts) record(m *Main) {
	for k, ch := range m.Scheduler.Channels {
		m.Scheduler.Channels[k] = recording{ch, d}
	}
	// Stopping the simulator may wait out a connection a channel just
	// opened; the demo is stopping anyway, so that is no failure.
	m.OnClose(func() error { d.Close(); return nil })
}

// Close stops the simulator.
func (d *demoAlerts) Close() { d.sim.Close() }

// seedDemoAlerts gives the demo a rota, channels for its staff, the
// school's and the district's robots, each confirmed (as if its test had
// been acknowledged), and a one-minute ladder. The simulator's robots and
// accounts are new at each start, so the channels are made again each
// time; the rota is made once.
func seedDemoAlerts(ctx context.Context, m *Main, d *demoAlerts) error {
	school, err := m.DB.SchoolByCode(ctx, demoSchool)
	if err != nil {
		return err
	}
	admin, err := m.DB.CounselorByUsername(ctx, demoUser)
	if err != nil {
		return err
	}
	wang, err := m.DB.CounselorByUsername(ctx, "wang")
	if err != nil {
		return err
	}
	officer, err := m.DB.CounselorByUsername(ctx, demoOfficer)
	if err != nil {
		return err
	}
	sim := d.sim
	wecomAdmin := sim.AddWeComUser(alertsim.SimWeComCorpID, "demo-zhang")
	wecomWang := sim.AddWeComUser(alertsim.SimWeComCorpID, "demo-wang")
	push, err := sim.NewPushSubscription(d.cfg.WebPush.Keys.PublicKey())
	if err != nil {
		return err
	}
	hook := sim.NewWebhook()
	type link struct {
		owner store.TargetOwner
		t     alert.Target
	}
	links := []link{
		{store.TargetOwner{CounselorID: admin.ID}, wecomAdmin},
		{store.TargetOwner{CounselorID: admin.ID}, alert.Target{Kind: alert.SMSAliyun, Address: "+8613800000001"}},
		{store.TargetOwner{CounselorID: admin.ID}, alert.Target{Kind: alert.VoiceAliyun, Address: "+8613800000001"}},
		{store.TargetOwner{CounselorID: admin.ID}, push},
		{store.TargetOwner{CounselorID: wang.ID}, wecomWang},
		{store.TargetOwner{CounselorID: wang.ID}, alert.Target{Kind: alert.SMSTencent, Address: "+8613800000002"}},
		{store.TargetOwner{CounselorID: officer.ID}, alert.Target{Kind: alert.SMSTencent, Address: "+8613800000003"}},
		{store.TargetOwner{CounselorID: officer.ID}, alert.Target{Kind: alert.VoiceTencent, Address: "+8613800000003"}},
		{store.TargetOwner{SchoolID: school.ID}, sim.NewDingTalkRobot()},
		{store.TargetOwner{SchoolID: school.ID}, sim.NewWeComRobot()},
		{store.TargetOwner{District: demoDistrict}, sim.NewFeishuBot()},
		{store.TargetOwner{District: demoDistrict}, hook},
	}
	// Channels of an earlier start point at robots that simulator forgot.
	for _, o := range []store.TargetOwner{{CounselorID: admin.ID}, {CounselorID: wang.ID}, {CounselorID: officer.ID}, {SchoolID: school.ID}, {District: demoDistrict}} {
		old, err := m.DB.AlertTargets(ctx, o)
		if err != nil {
			return err
		}
		for _, t := range old {
			if err := m.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteAlertTarget(t.ID, o) }); err != nil {
				return err
			}
		}
	}
	for _, l := range links {
		id, err := m.Staff.LinkTargetOf(ctx, l.owner, l.t.Kind, l.t.Address, l.t.Secret)
		if err != nil {
			return fmt.Errorf("demo alert %s: %w", l.t.Kind, err)
		}
		if err := m.DB.Update(ctx, func(tx *store.Tx) error { return tx.MarkTargetVerified(id) }); err != nil {
			return err
		}
	}
	slots, err := m.DB.RotaSlots(ctx, school.ID)
	if err != nil || len(slots) > 0 {
		return err
	}
	// Wang first on call on weekdays 08–18, the admin second at every
	// hour and the head; the district officer on duty. The hours outside
	// wang's show red on the rota page: the truth about this rota.
	return m.DB.Update(ctx, func(tx *store.Tx) error {
		for _, s := range []*store.RotaSlot{
			{SchoolID: school.ID, CounselorID: wang.ID, Position: 1, Weekdays: 0x1f, StartHour: 8, EndHour: 18},
			{SchoolID: school.ID, CounselorID: admin.ID, Position: 2, Weekdays: 0x7f, StartHour: 0, EndHour: 24},
		} {
			if err := tx.AddRotaSlot(s); err != nil {
				return err
			}
		}
		if err := tx.SetDutyHead(admin.ID, true); err != nil {
			return err
		}
		if err := tx.SetOnCall(officer.ID, true); err != nil {
			return err
		}
		return tx.SetLadderMinutes(demoDistrict, staff.MinLadderMinutes)
	})
}

var demoAlertsPage = template.Must(template.New("demo").Funcs(template.FuncMap{
	"kind": func(k alert.Kind) string { return k.Label() },
	"rung": func(n int) string {
		if n == 0 {
			return "—"
		}
		l := staff.RungLabel(n)
		return fmt.Sprintf("%d · %s / %s", n, l.ZH, l.EN)
	},
	"time": func(t time.Time) string { return t.Format("15:04:05") },
}).Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="15">
<title>演示：发出的提醒 / Demo: alerts sent</title>
<link rel="stylesheet" href="/inbox/static/inbox.css"></head>
<body><main>
<section class="wide card">
<h1>演示：发出的提醒 / Demo: the alerts sent</h1>
<p>演示服务器把提醒发到内置的模拟器（企业微信、钉钉、飞书、阿里云和腾讯云短信与语音、推送、Webhook），这里列出每一条，最新的在最上面。每级间隔 1 分钟；本页每 15 秒刷新。</p>
<p class="hint">The demo sends its alerts to a built-in simulator of every vendor; each is listed here, newest first. One minute between rungs; this page reloads every 15 s.</p>
<form method="post" action="/demo/alerts/urgent"><button type="submit" class="primary" id="demo-urgent">制造一条紧急演示报告 / file an urgent demo report</button></form>
<p class="hint">然后打开 <a href="/inbox/admin/rota">值班表</a> 和 <a href="/inbox/">收件箱</a>（demo / demo-hotline-2026）。点个人提醒里的“我来处理”链接，提醒就停止。Then open the rota and the inbox; press an “I'm on it” link to stop the ladder.</p>
<p class="hint">学生在 Telegram 和微信里怎么报告：<a href="/demo/phones">模拟手机</a>。How a pupil reports on Telegram and WeChat: <a href="/demo/phones">the simulated phones</a>.</p>
<table class="list" id="sent"><thead><tr><th>时间 / time</th><th>级 / rung</th><th>渠道 / channel</th><th>发给 / to</th><th>内容 / text</th><th>结果 / result</th></tr></thead>
<tbody>{{range .}}<tr><td>{{time .At}}</td><td>{{rung .Rung}}</td><td>{{kind .Kind}}</td><td><code>{{.Target}}</code></td>
<td><pre class="snippet">{{.Text}}</pre>{{if .Link}}<a href="{{.Link}}">{{.Link}}</a>{{end}}</td><td>{{if .Result}}✗ {{.Result}}{{else}}✓{{end}}</td></tr>
{{else}}<tr><td colspan="6">还没有发出提醒。/ No alert sent yet.</td></tr>{{end}}</tbody></table>
</section></main></body></html>`))

// routes serves the demo's pages.
func (d *demoAlerts) routes(m *Main) {
	m.Mux.HandleFunc("GET /demo/alerts", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		list := make([]demoSent, len(d.sent))
		for i, s := range d.sent {
			list[len(d.sent)-1-i] = s
		}
		d.mu.Unlock()
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		demoAlertsPage.Execute(w, list)
	})
	m.Mux.HandleFunc("POST /demo/alerts/urgent", func(w http.ResponseWriter, r *http.Request) {
		// A form of this page only: not a request another site makes.
		if o := r.Header.Get("Origin"); o != "" {
			if u, err := url.Parse(m.Config.PublicURL); err != nil || o != u.Scheme+"://"+u.Host {
				http.Error(w, "forbidden", http.StatusForbidden)
				return
			}
		}
		_, err := m.Intake.Submit(r.Context(), hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelWebchat, Role: hotline.ReporterWitness,
			Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: []string{"（演示）操场上有人拿着棍子打一个同学，现在还在打。"}, DangerNow: true})
		if err != nil {
			m.Logger.Error("demo urgent report", "err", err)
			http.Error(w, "failed", http.StatusInternalServerError)
			return
		}
		http.Redirect(w, r, "/demo/alerts", http.StatusSeeOther)
	})
}
