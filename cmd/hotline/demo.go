package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// The demo's log-ins. They are printed and documented: a demo data
// directory holds only made-up reports.
const (
	demoSchool   = "demo"
	demoUser     = "demo"
	demoOfficer  = "district"
	demoPassword = "demo-hotline-2026"
	demoDistrict = "演示区"
)

func runDemo(ctx context.Context, args []string, env *Env) error {
	m := NewMain()
	fs := newFlagSet("demo", env, "Creates (once) a demo school \"demo\" with a counselor log-in, a district officer and a handful of\nsample reports in Chinese and English, then serves on localhost. Same flags as serve.")
	fs.serverFlags(&m.Config, "127.0.0.1:8080")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if err := checkServerConfig(&m.Config, env); err != nil {
		return err
	}
	logger, err := newLogger(&m.Config, env.Stderr)
	if err != nil {
		return err
	}
	m.Logger = logger
	m.InitKey = true // the demo is its own hotline init
	// The alerts go to the simulator: it runs before Main opens, which
	// builds the channels from its accounts.
	d, err := startDemoAlerts(m)
	if err != nil {
		return err
	}
	// So do Telegram and WeChat, for the phones' page.
	p, err := startDemoPhones(m)
	if err != nil {
		d.Close()
		return err
	}
	if err := m.Open(); err != nil {
		d.Close()
		p.Close()
		return err
	}
	d.record(m)
	m.usePhones(p)
	// Locked before seeding: two demos on one directory would seed twice.
	if err := m.lockData(); err != nil {
		m.Close()
		return err
	}
	if m.KeyCreated {
		fmt.Fprintf(env.Stdout, "已生成服务器密钥 / server key created: %s (fingerprint %s)\n", m.KeySource, m.Vault.Fingerprint())
	}
	if err := seedDemo(ctx, m, env.Stdout); err != nil {
		m.Close()
		return err
	}
	if err := seedDemoAlerts(ctx, m, d); err != nil {
		m.Close()
		return err
	}
	m.demo = d
	return runServer(ctx, m, func() { printDemo(env.Stdout, m) })
}

func printDemo(w io.Writer, m *Main) {
	u := m.URL()
	fmt.Fprintf(w, `
Hotline 演示已启动 / the demo is running

  辅导老师收件箱 / counselor inbox:   %s/inbox/
      用户名 / username: %s    密码 / password: %s
  区教育局 / district view:          %s/district/
      用户名 / username: %s    密码 / password: %s
  学生网页聊天 / student web chat:    %s/c/%s
  网上信箱（无需 JavaScript）/ mailbox: %s/m/%s
  宣传海报 / poster:                 %s/poster/%s
  模拟手机（Telegram、微信）/ simulated phones (Telegram, WeChat): %s/demo/phones
  发出的紧急提醒 / alerts sent:       %s/demo/alerts
      （提醒发到内置的模拟器；值班表：%s/inbox/admin/rota）
  健康检查 / health:                 %s/healthz

按 Ctrl+C 停止 / press Ctrl+C to stop.
`, u, demoUser, demoPassword, u, demoOfficer, demoPassword, u, demoSchool, u, demoSchool, u, demoSchool, u, u, u, u)
}

// seedDemo creates the demo school, its log-ins and sample reports once.
func seedDemo(ctx context.Context, m *Main, w io.Writer) error {
	if _, err := m.DB.SchoolByCode(ctx, demoSchool); err == nil {
		return nil
	} else if hotline.ErrorCode(err) != hotline.ENOTFOUND {
		return err
	}
	fmt.Fprintln(w, "正在创建演示学校和示例报告… / creating the demo school and sample reports…")
	if existing, err := m.DB.DistrictByName(ctx, demoDistrict); err != nil {
		return err
	} else if existing == nil {
		d, err := m.Staff.CreateDistrict(ctx, demoDistrict, demoOfficer)
		if err != nil {
			return err
		}
		if err := setPassword(ctx, m, demoOfficer, d.OfficerPassword); err != nil {
			return err
		}
	}
	created, err := m.Staff.CreateSchool(ctx, staff.NewSchool{
		Code: demoSchool, Name: "第三中学（演示）", NameEN: "No. 3 Middle School (demo)", District: demoDistrict, AdminUsername: demoUser,
		Settings: &hotline.SchoolSettings{EmergencyContact: "学校保卫处 / school security office: 010-6543 2100（24 小时 / 24 h）"},
	})
	if err != nil {
		return err
	}
	if err := setPassword(ctx, m, demoUser, created.AdminPassword); err != nil {
		return err
	}
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		return err
	}
	defer sess.Wipe()
	if _, _, err := m.Staff.AddCounselor(ctx, sess, "wang", "王老师（心理老师）", hotline.RoleCounselor); err != nil {
		return err
	}
	return seedTips(ctx, m, sess)
}

func setPassword(ctx context.Context, m *Main, user, otp string) error {
	sess, err := m.Staff.Authenticate(ctx, user, otp)
	if err != nil {
		return err
	}
	defer sess.Wipe()
	return m.Staff.ChangePassword(ctx, sess, demoPassword)
}

type demoTip struct {
	channel  hotline.Channel
	role     hotline.ReporterRole
	category hotline.Category
	lang     hotline.Lang
	texts    []string
	reply    string
	note     string
	status   hotline.Status
	severity hotline.Severity
	escalate bool // reported to the district (严重: required)
}

var demoTips = []demoTip{
	{channel: hotline.ChannelWebchat, role: hotline.ReporterVictim, category: hotline.CategoryVerbal, lang: hotline.LangZH,
		texts: []string{"班上有几个同学每天给我起外号，还在班级群里发我的丑照。", "我不敢告诉班主任，怕他们知道了会更过分。"},
		reply: "谢谢你告诉我们，这不是你的错。我们会先私下了解情况，不会透露是谁反映的。你最近在学校觉得安全吗？",
		note:  "初二（3）班，可能涉及班级群截图，先与班主任沟通。", status: hotline.StatusInvestigating, severity: hotline.SeverityMinor},
	{channel: hotline.ChannelTelegram, role: hotline.ReporterWitness, category: hotline.CategoryPhysical, lang: hotline.LangZH,
		texts: []string{"今天放学在操场后面，我看到三个初二的男生把一个初一的同学推倒在地上踢他。", "那个同学一直在哭，他们还抢了他的书包。"}},
	{channel: hotline.ChannelMailbox, role: hotline.ReporterParent, category: hotline.CategoryProperty, lang: hotline.LangZH,
		texts:  []string{"我是初一学生家长。孩子最近每天都说零花钱丢了，后来才说是被高年级同学要走的，不给就会被堵在厕所。"},
		status: hotline.StatusAcknowledged, severity: hotline.SeveritySerious},
	{channel: hotline.ChannelWebchat, role: hotline.ReporterVictim, category: hotline.CategoryCyber, lang: hotline.LangEN,
		texts: []string{"Some kids in my class keep posting mean comments about me in the group chat and made a fake account with my photo.", "I don't want my parents to find out yet."},
		reply: "Thank you for telling us. You did the right thing. Can you tell us which group chat it is? We will not say who reported it."},
	{channel: hotline.ChannelTelegram, role: hotline.ReporterVictim, category: hotline.CategoryPhysical, lang: hotline.LangZH,
		texts: []string{"他说放学后要带刀来找我，我很害怕，不敢回家。"}},
	{channel: hotline.ChannelStaff, role: hotline.ReporterParent, category: hotline.CategoryExclusion, lang: hotline.LangZH,
		texts: []string{"电话记录：一位家长来电，反映孩子在宿舍被同学孤立，晚上不让她用洗手间，已经持续两周。"}},
	{channel: hotline.ChannelWebchat, role: hotline.ReporterWitness, category: hotline.CategorySexual, lang: hotline.LangEN,
		texts:    []string{"An older student keeps touching a girl in my class on the bus and she looks scared. It happens every morning."},
		reply:    "Thank you for telling us. We are taking this seriously and will make sure she is safe. Which bus line is it?",
		severity: hotline.SeveritySevere, status: hotline.StatusInvestigating, escalate: true},
}

func seedTips(ctx context.Context, m *Main, sess *staff.Session) error {
	actor := sess.Actor()
	for _, d := range demoTips {
		sub := hotline.Submission{SchoolCode: demoSchool, Channel: d.channel, Role: d.role, Category: d.category, Lang: d.lang, Texts: d.texts}
		switch d.channel {
		case hotline.ChannelTelegram:
			// A made-up chat id: replies to it wait in the outbox until a bot
			// with a real token runs.
			sub.ChatID = 1_000_000 + rand.Int64N(1_000_000_000)
		case hotline.ChannelStaff:
			sub.Staff = &actor
		}
		tip, err := m.Intake.Submit(ctx, sub)
		if err != nil {
			return fmt.Errorf("demo tip: %w", err)
		}
		if d.note != "" {
			if _, err := m.Triage.Note(ctx, actor, tip.TipUID, d.note); err != nil {
				return err
			}
		}
		if d.reply != "" {
			if _, err := m.Triage.Reply(ctx, actor, tip.TipUID, d.reply, nil); err != nil {
				return err
			}
		}
		if d.severity != "" {
			if err := m.Triage.SetSeverity(ctx, actor, tip.TipUID, d.severity); err != nil {
				return err
			}
		}
		if d.status != "" {
			if t, err := m.Triage.Tip(ctx, actor, tip.TipUID); err == nil && t.Status != d.status {
				if err := m.Triage.SetStatus(ctx, actor, tip.TipUID, d.status); err != nil {
					return err
				}
			}
		}
		if d.escalate {
			if err := m.Triage.Escalate(ctx, sess, tip.TipUID); err != nil {
				return fmt.Errorf("demo escalation: %w", err)
			}
		}
	}
	return nil
}
