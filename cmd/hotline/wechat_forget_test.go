package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/sim/wechatsim"
	"hotline/wechat"
)

// TestWechatForgetDeletesTheOpenID: a pupil who reported sends /forget and
// confirms. The dialog speaks of WeChat, not Telegram; the sealed openid
// (the wechat_peers row) is gone with the chat's handles, so a later
// counselor reply has nothing to reach them by and the case says so.
func TestWechatForgetDeletesTheOpenID(t *testing.T) {
	e := newWechatEnv(t, nil)
	u := e.fake.NewUser(e.serverURL())
	got := e.said(u, func() (*wechatsim.Reply, error) { return u.Click(e.ctx, wechat.MenuReport) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, demoSchool) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "role:")) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "cat:")) })
	got = e.said(u, func() (*wechatsim.Reply, error) {
		return u.Text(e.ctx, "同桌天天抢我的饭卡，还让别人别跟我说话")
	})
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "done")) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "danger:no")) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "send")) })

	peers := func() int {
		t.Helper()
		var n int
		if err := e.m.DB.Reader().Get(&n, `SELECT COUNT(*) FROM wechat_peers`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := peers(); n != 1 {
		t.Fatalf("%d peers before /forget, want 1", n)
	}
	tips, _, err := e.m.Triage.Queue(e.ctx, e.sess.Actor(), hotline.TipFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var tip *hotline.Tip
	for _, tp := range tips {
		if tp.Channel == hotline.ChannelWechat {
			tip = tp
		}
	}
	if tip == nil {
		t.Fatalf("no WeChat tip in the queue (after %q)", got)
	}

	ask := e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, "/forget") })
	// The conversation is in Chinese (the pupil did not switch).
	if strings.Contains(ask, "Telegram") || !strings.Contains(ask, "留在微信里") {
		t.Fatalf("the /forget question does not speak of WeChat:\n%s", ask)
	}
	done := e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "确定解除", choice(t, ask, "forget:yes")) })
	if strings.Contains(done, "Telegram") || strings.Contains(done, "/start") || !strings.Contains(done, "我要报告") {
		t.Fatalf("the confirmation does not speak of WeChat's menu:\n%s", done)
	}
	if n := peers(); n != 0 {
		t.Fatalf("%d peers after /forget: the sealed openid stayed", n)
	}
	if ok, err := e.m.Triage.ReporterReachable(e.ctx, e.sess.Actor(), tip.UID); err != nil || ok {
		t.Fatalf("reachable after /forget: %v %v", ok, err)
	}

	// The case page says so in WeChat's terms.
	admin := newInboxUser(t, e.m.URL())
	admin.login(demoUser, demoPassword)
	page := admin.get("/inbox/tips/" + tip.UID)
	if !strings.Contains(page.body, `id="unreachable"`) || !strings.Contains(page.body, "48 小时客服窗口") || strings.Contains(page.body, "屏蔽机器人") {
		t.Fatalf("case page: %d, the unreachable note does not speak of WeChat", page.status)
	}

	// A counselor's reply goes nowhere: nothing reaches the pupil.
	before := len(e.fake.Sent(u.OpenID))
	if _, err := e.m.Triage.Reply(e.ctx, e.sess.Actor(), tip.UID, "FORGOTTEN-REPLY-CANARY", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	for {
		var n int
		if err := e.m.DB.Reader().Get(&n, `SELECT COUNT(*) FROM outbox`); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the reply stayed in the outbox")
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, s := range e.fake.Sent(u.OpenID)[before:] {
		if strings.Contains(s.Text, "FORGOTTEN-REPLY-CANARY") {
			t.Fatal("a reply reached a chat that was forgotten")
		}
	}

	// Writing again starts afresh, with a new peer row.
	e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, "你好") })
	if n := peers(); n != 1 {
		t.Fatalf("%d peers after writing again, want 1", n)
	}
}
