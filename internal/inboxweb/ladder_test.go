package inboxweb_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

var targetIDRE = regexp.MustCompile(`id="target-([0-9]+)" data-kind="([a-z_]+)"`)

// targetIDs returns a page's targets by kind.
func targetIDs(body string) map[string]string {
	out := map[string]string{}
	for _, m := range targetIDRE.FindAllStringSubmatch(body, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// ackPath is the path of a link an alert carried.
func ackPath(tb testing.TB, e *env, m alert.Message) string {
	tb.Helper()
	if !strings.HasPrefix(m.Link, e.hs.URL+"/inbox/ack/") {
		tb.Fatalf("link = %q", m.Link)
	}
	return strings.TrimPrefix(m.Link, e.hs.URL)
}

// TestRotaPage: the admin fills the rota on a page without JavaScript; an
// empty rota and hours with nobody are red; counselors and other schools'
// admins cannot change it.
func TestRotaPage(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	ctx := context.Background()
	pw := e.counselor(ts.a, "li", hotline.RoleCounselor)
	li, _ := e.db.CounselorByUsername(ctx, "li")
	ul := e.login("li", pw, newPW)

	r := ts.ua.get("/inbox/admin/rota")
	mustContain(t, "empty rota", r, `data-ready="false"`, "值班表是空的", `id="rota-empty"`, "第一值班人", "区教育局值班", `class="seg empty"`)
	if main := r.Body[strings.Index(r.Body, "<main"):]; strings.Contains(main, "<script") {
		t.Error("the rota page has a script of its own: it must work without one")
	}
	// Li first on call on weekdays 18:00 to 08:00 the next morning.
	form := url.Values{"who": {itoa(li.ID)}, "position": {"1"}, "day": {"0", "1", "2", "3", "4"}, "from": {"18"}, "to": {"8"}}
	r = ts.ua.post("/inbox/admin/rota", form)
	mustContain(t, "added", r, "已添加", "老师li", "周一至周五 18:00–08:00", "（至次日）", "没有绑定任何提醒方式")
	slots, _ := e.db.RotaSlots(ctx, ts.a.School.ID)
	if len(slots) != 1 || slots[0].Weekdays != 0x1f || slots[0].StartHour != 18 || slots[0].EndHour != 8 {
		t.Fatalf("slots = %+v", slots)
	}
	// A refused line keeps what was chosen and says why.
	r = ts.ua.post("/inbox/admin/rota", url.Values{"who": {itoa(li.ID)}, "position": {"1"}, "from": {"8"}, "to": {"9"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "请至少选择一天") {
		t.Fatalf("no days: %d %s", r.Status, excerpt(r.Body))
	}
	// Another school's staff member is not ours to put on the rota.
	r = ts.ua.post("/inbox/admin/rota", url.Values{"who": {itoa(ts.adminB)}, "position": {"1"}, "day": {"0"}, "from": {"8"}, "to": {"9"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("B's admin on A's rota: %d", r.Status)
	}
	// Counselors cannot change it; B's admin cannot delete A's line.
	if r := ul.post("/inbox/admin/rota", form); r.Status != http.StatusForbidden {
		t.Fatalf("counselor edits the rota: %d", r.Status)
	}
	if r := ts.ub.post("/inbox/admin/rota/"+itoa(slots[0].ID)+"/delete", nil); r.Status != http.StatusNotFound {
		t.Fatalf("B deletes A's line: %d", r.Status)
	}
	// The fallback covers the other hours; the head is named.
	mustContain(t, "fallback", ts.ua.post("/inbox/admin/counselors/"+itoa(ts.adminA)+"/oncall", url.Values{"on": {"1"}}), `aria-pressed="true"`)
	ts.ua.post("/inbox/admin/counselors/"+itoa(li.ID)+"/head", url.Values{"on": {"1"}})
	if rec, _ := e.db.CounselorByID(ctx, li.ID); !rec.DutyHead {
		t.Fatal("li is not the head")
	}
	if r := ts.ua.post("/inbox/admin/counselors/"+itoa(ts.adminB)+"/head", url.Values{"on": {"1"}}); r.Status == http.StatusOK {
		t.Fatal("A names B's admin head")
	}
	r = ts.ua.get("/inbox/admin/rota")
	if strings.Contains(r.Body, `class="seg empty"`) || strings.Contains(r.Body, "值班表是空的") {
		t.Fatalf("holes left with a fallback: %s", excerpt(r.Body))
	}
	mustContain(t, "counselor sees their hours", ul.get("/inbox/alerts"), "周一至周五 18:00–08:00", "校长/德育主任")
	r = ts.ua.post("/inbox/admin/rota/"+itoa(slots[0].ID)+"/delete", nil)
	mustContain(t, "deleted", r, "已删除", `id="rota-empty"`)
	mustContain(t, "english", ts.ua.get("/inbox/admin/rota?lang=en"), "The escalation ladder", "first on call", "duty officer")
}

// TestChecklistStaysRedUntilAlertsAreConfirmed: a configured channel that
// was never acknowledged, and an e-mail address on a server without an
// SMTP server, keep the on-call item red, each with its reason; a test
// confirmed from its own code turns it green.
func TestChecklistStaysRedUntilAlertsAreConfirmed(t *testing.T) {
	e := newEnv(t)
	sf := e.school("s1")
	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	pw := e.counselor(sf, "li", hotline.RoleCounselor)
	ul := e.login("li", pw, newPW)
	li := counselorID(t, e, "li")
	oncall := func() (string, string) {
		body := ua.get("/inbox/admin/setup").Body
		return checkState(t, body)["chk_oncall"], body
	}
	ua.post("/inbox/admin/rota", url.Values{"who": {strconvI(li)}, "position": {"1"}, "day": {"0", "1", "2", "3", "4", "5", "6"}, "from": {"0"}, "to": {"24"}})
	if got, body := oncall(); got != "false" || !strings.Contains(body, "没有绑定任何提醒方式") {
		t.Fatalf("no channel: %s", got)
	}
	// E-mail saved, no SMTP server.
	ul.post("/inbox/alerts/email", url.Values{"email": {"li@s1.example.cn"}})
	if got, body := oncall(); got != "false" || !strings.Contains(body, "SMTP") {
		t.Fatalf("e-mail without SMTP: %s", got)
	}
	// A text message channel, tested, never confirmed.
	r := ul.post("/inbox/alerts/targets", url.Values{"kind": {string(alert.SMSAliyun)}, "address": {"13800138000"}})
	mustContain(t, "linked", r, "已添加", "138****8000", "未测试")
	sms := targetIDs(r.Body)[string(alert.SMSAliyun)]
	r = ul.post("/inbox/alerts/targets/"+sms+"/test", nil)
	mustContain(t, "tested", r, "请在下面输入短信或电话里的 6 位验证码", "等待确认", `autocomplete="one-time-code"`)
	if got, body := oncall(); got != "false" || !strings.Contains(body, "测试提醒已发出") {
		t.Fatalf("a test never acknowledged: %s", got)
	}
	m := e.sink.last(t, "+8613800138000").M
	code := regexp.MustCompile(`[0-9]{6}`).FindString(m.AliasZH)
	if code == "" || !strings.Contains(m.Text, code) {
		t.Fatalf("test message %+v carries no code", m)
	}
	if r := ul.post("/inbox/alerts/targets/"+sms+"/code", url.Values{"code": {"000000"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "验证码不对") {
		t.Fatalf("wrong code: %d", r.Status)
	}
	mustContain(t, "confirmed", ul.post("/inbox/alerts/targets/"+sms+"/code", url.Values{"code": {code}}), "这个提醒方式可用")
	if got, body := oncall(); got != "false" || !strings.Contains(body, "SMTP") {
		t.Fatalf("SMS confirmed, e-mail still cannot be sent: %s", got)
	}
	ul.post("/inbox/alerts/email", url.Values{"clear": {"1"}})
	if got, body := oncall(); got != "true" {
		t.Fatalf("every channel confirmed: %s %s", got, excerpt(body))
	}
	// Another staff member's target is not found, neither to test nor to remove.
	if r := ua.post("/inbox/alerts/targets/"+sms+"/test", nil); r.Status != http.StatusNotFound {
		t.Fatalf("admin tests li's target: %d", r.Status)
	}
	if r := ua.post("/inbox/alerts/targets/"+sms+"/delete", nil); r.Status != http.StatusNotFound {
		t.Fatalf("admin removes li's target: %d", r.Status)
	}
}

// TestGroupRobotsOnSettings: the admin links the school's DingTalk robot
// on the settings page, sees it masked, tests it; the test carries a link
// that confirms it.
func TestGroupRobotsOnSettings(t *testing.T) {
	e := newEnv(t)
	sf := e.school("s1")
	ua := e.login(sf.AdminUser, sf.AdminPassword, newPW)
	r := ua.post("/inbox/admin/groups", url.Values{"kind": {string(alert.DingTalk)}, "address": {"https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcd"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "加签") || !strings.Contains(r.Body, "abcdef0123456789abcd") {
		t.Fatalf("without a secret: %d", r.Status)
	}
	r = ua.post("/inbox/admin/groups", url.Values{"kind": {string(alert.DingTalk)}, "address": {"https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcd"}, "secret": {"SECabcdefabcdefabcdef"}})
	mustContain(t, "linked", r, "钉钉群机器人", "…abcd", "未测试")
	if strings.Contains(r.Body, "abcdef0123456789abcd") || strings.Contains(r.Body, "SECabcdef") {
		t.Fatal("the settings page shows the robot's key or secret")
	}
	id := targetIDs(r.Body)[string(alert.DingTalk)]
	mustContain(t, "tested", ua.post("/inbox/admin/groups/"+id+"/test", nil), "测试提醒已发出")
	m := e.sink.last(t, "abcdef0123456789abcd").M
	b := e.browser()
	mustContain(t, "test link", b.get(ackPath(t, e, m)), "确认收到")
	mustContain(t, "confirmed", b.post(ackPath(t, e, m), nil), "这个提醒方式可用")
	mustContain(t, "working", ua.get("/inbox/admin/settings"), "✓ 可用")
	// A failing robot: the reason is shown.
	e.sink.mu.Lock()
	e.sink.fail = map[string]error{"abcdef0123456789abcd": &alert.Error{Kind: alert.DingTalk, Code: "310000", Reason: "机器人签名不匹配 / robot signature mismatch", Permanent: true}}
	e.sink.mu.Unlock()
	r = ua.post("/inbox/admin/groups/"+id+"/test", nil)
	mustContain(t, "failed", r, "测试提醒没有发出", "机器人签名不匹配", "310000", "✗ 发送失败")
}

// TestAckLink: an urgent report's alert carries a one-time link. A GET —
// as WeCom's and DingTalk's link previewers make — never acknowledges; the
// button does, once, stopping the ladder and naming who in the ledger; a
// used, an expired and another school's link are refused and change
// nothing.
func TestAckLink(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	ctx := context.Background()
	// A's admin first on call at every hour, with a confirmed WeCom account.
	r := ts.ua.post("/inbox/alerts/targets", url.Values{"kind": {string(alert.WeComApp)}, "address": {"zhanglaoshi"}})
	mustContain(t, "linked", r, "zh***")
	ts.ua.post("/inbox/admin/rota", url.Values{"who": {itoa(ts.adminA)}, "position": {"1"}, "day": {"0", "1", "2", "3", "4", "5", "6"}, "from": {"0"}, "to": {"24"}})
	sub, err := e.in.Submit(ctx, hotline.Submission{SchoolCode: "aa", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim, Category: hotline.CategoryPhysical,
		Texts: []string{"他带着刀在校门口等我"}, DangerNow: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sched.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	m := e.sink.last(t, "zhanglaoshi").M
	if strings.Contains(m.Text, "刀") || m.Rung != 1 {
		t.Fatalf("alert = %+v", m)
	}
	path := ackPath(t, e, m)
	tipStatus := func() hotline.Status {
		tip, err := e.db.TipByUID(ctx, sub.TipUID)
		if err != nil {
			t.Fatal(err)
		}
		return tip.Status
	}
	phone := e.browser()
	for range 3 { // the previewer, then the phone, then a reload
		r := phone.get(path)
		mustContain(t, "link page", r, "紧急报告「", "我来处理", "这个页面不显示报告内容")
		if strings.Contains(r.Body, "刀") {
			t.Fatal("the link page shows content")
		}
	}
	if got := tipStatus(); got != hotline.StatusNew {
		t.Fatalf("a GET acknowledged: %s", got)
	}
	// A POST without the page's token (a forged form elsewhere) does nothing.
	if r := e.browser().post(path, url.Values{"csrf": {"forged"}}); r.Status != http.StatusForbidden || tipStatus() != hotline.StatusNew {
		t.Fatalf("forged POST: %d, %s", r.Status, tipStatus())
	}
	r = phone.post(path, nil)
	mustContain(t, "acknowledged", r, "已受理，谢谢你", "登录收件箱")
	if got := tipStatus(); got != hotline.StatusAcknowledged {
		t.Fatalf("after the button: %s", got)
	}
	tip, _ := e.db.TipByUID(ctx, sub.TipUID)
	if l, err := e.db.LadderByTip(ctx, tip.ID); err != nil || l.State != store.LadderAcknowledged || l.AckedBy != ts.adminA {
		t.Fatalf("ladder = %+v, %v", l, err)
	}
	evs, _ := e.db.TipEvents(ctx, tip.ID)
	var named bool
	for _, ev := range evs {
		named = named || (ev.Kind == hotline.EventAcknowledged && ev.ActorID == ts.adminA && ev.Detail == "via=alert_link")
	}
	if !named {
		t.Fatal("no ledger event naming who acknowledged")
	}
	// Used: refused.
	if r := phone.get(path); r.Status != http.StatusConflict || !strings.Contains(r.Body, "已经用过了") {
		t.Fatalf("a used link: %d", r.Status)
	}
	if r := phone.post(path, nil); r.Status != http.StatusConflict {
		t.Fatalf("a used link pressed again: %d", r.Status)
	}
	// Expired: refused, the case untouched.
	sub2, _ := e.in.Submit(ctx, hotline.Submission{SchoolCode: "aa", Channel: hotline.ChannelWebchat, Texts: []string{"有人要打我"}, DangerNow: true})
	if err := e.sched.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	path2 := ackPath(t, e, e.sink.last(t, "zhanglaoshi").M)
	e.clock.Add(staff.AckLinkTTL + time.Minute)
	b := e.browser()
	b.get("/inbox/login")
	if r := b.post(path2, nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, "已过期") {
		t.Fatalf("an expired link: %d %s", r.Status, excerpt(r.Body))
	}
	if tip2, _ := e.db.TipByUID(ctx, sub2.TipUID); tip2.Status != hotline.StatusNew {
		t.Fatal("an expired link acknowledged")
	}
	// Another school's: a link minted for B's admin about A's case (as a
	// confused or tampered row would be) is refused.
	tip2, _ := e.db.TipByUID(ctx, sub2.TipUID)
	var token string
	err = e.db.Update(ctx, func(tx *store.Tx) error {
		var err error
		token, _, err = staff.NewAlertToken(tx, e.st.Vault, &store.AlertToken{Purpose: store.TokenAck, CounselorID: ts.adminB, TipID: tip2.ID, SchoolID: tip2.SchoolID, ExpiresAt: tx.Now().Add(time.Hour)}, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.get("/inbox/ack/" + token)
	if r := b.post("/inbox/ack/"+token, nil); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "不属于这所学校") {
		t.Fatalf("another school's link: %d %s", r.Status, excerpt(r.Body))
	}
	if tip2, _ := e.db.TipByUID(ctx, sub2.TipUID); tip2.Status != hotline.StatusNew {
		t.Fatal("another school's link acknowledged")
	}
	// Unknown: not found.
	if r := b.get("/inbox/ack/aaaaaaaaaaaaaaaaaaaaaaaaaa"); r.Status != http.StatusNotFound {
		t.Fatalf("an unknown link: %d", r.Status)
	}
	// The inbox's own acknowledgement stops a ladder too.
	ua := e.login(ts.a.AdminUser, newPW, newPW) // the day that passed ended the session
	if r := ua.post("/inbox/tips/"+sub2.TipUID+"/status", url.Values{"status": {"acknowledged"}}); r.Status != http.StatusOK {
		t.Fatalf("inbox acknowledgement: %d %s", r.Status, excerpt(r.Body))
	}
	if l, err := e.db.LadderByTip(ctx, tip2.ID); err != nil || l.State != store.LadderAcknowledged || l.AckedBy != ts.adminA {
		t.Fatalf("ladder after the inbox's acknowledgement = %+v, %v", l, err)
	}
}

// TestInstalledInbox: the web app manifest, the push service worker (scope
// /inbox/) and the icons are served.
func TestInstalledInbox(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.get("/inbox/manifest.webmanifest")
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "manifest+json") || !strings.Contains(r.Body, `"start_url":"/inbox/"`) || !strings.Contains(r.Body, `"scope":"/inbox/"`) {
		t.Fatalf("manifest: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r = b.get("/inbox/sw.js")
	if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "javascript") || !strings.Contains(r.Body, "showNotification") {
		t.Fatalf("service worker: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/inbox/icons/192.png", "/inbox/icons/512.png"} {
		if r := b.get(p); r.Status != 200 || !strings.HasPrefix(r.Body, "\x89PNG") {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	if r := b.get("/inbox/icons/1.png"); r.Status != 404 {
		t.Fatalf("an unknown icon: %d", r.Status)
	}
}
