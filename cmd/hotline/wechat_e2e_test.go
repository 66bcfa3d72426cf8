package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/sim/wechatsim"
	"hotline/internal/staff"
	"hotline/internal/testsupport"
	"hotline/internal/wechattest"
	"hotline/wechat"
)

// wechatEnv is the real program with the demo school and one WeChat
// district account against the fake WeChat, on a clock the test moves.
type wechatEnv struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	clock *urgentClock
	fake  *wechatsim.Server
	cfg   wechatsim.Config
	m     *Main
	sess  *staff.Session
	logs  *syncBuffer
	opt   func(*Main) // more configuration, applied at every start
}

const (
	wxAppID  = "wx5eca1e7e57a1c0de"
	wxSecret = "APPSECRET-CANARY-7f3e9a1b2c4d"
)

func newWechatEnv(t *testing.T, tune func(*wechatsim.Config)) *wechatEnv {
	t.Helper()
	return newWechatEnvMain(t, tune, nil)
}

// newWechatEnvMain is newWechatEnv with more configuration of the program.
func newWechatEnvMain(t *testing.T, tune func(*wechatsim.Config), opt func(*Main)) *wechatEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	e := &wechatEnv{t: t, ctx: ctx, dir: t.TempDir(), clock: testsupport.NewClock(time.Now()), logs: &syncBuffer{}}
	e.cfg = wechatsim.Config{AppID: wxAppID, Secret: wxSecret, Token: "hotlineToken42", AESKey: wechatsim.NewAESKey(), Clock: e.clock}
	if tune != nil {
		tune(&e.cfg)
	}
	e.fake = wechattest.New(t, e.cfg)
	e.opt = opt
	e.start()
	return e
}

func (e *wechatEnv) start() {
	t := e.t
	t.Helper()
	m := MustOpenMain(t, withDataDir(e.dir), withClock(e.clock), func(m *Main) {
		m.Config.WechatAppID = wxAppID
		m.Config.WechatSecret = wxSecret
		m.Config.WechatToken = e.cfg.Token
		m.Config.WechatAESKey = e.cfg.AESKey
		m.Config.WechatName = "district"
		m.Config.WechatNoticeTemplate = "TPL_NEW_REPLY"
		m.Config.WechatAPIURL = e.fake.URL()
		m.Logger = slogTo(e.logs)
		m.WechatConfig.CallTimeout = 2 * time.Second
		m.Relay.BaseBackoff, m.Relay.MaxBackoff, m.Relay.PollInterval = 20*time.Millisecond, 200*time.Millisecond, 100*time.Millisecond
		if e.opt != nil {
			e.opt(m)
		}
	})
	if err := seedDemo(context.Background(), m, discard{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.Wipe)
	e.m, e.sess = m, sess
}

func (e *wechatEnv) restart() {
	e.t.Helper()
	e.sess.Wipe()
	if err := e.m.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

func (e *wechatEnv) serverURL() string { return e.m.URL() + "/wechat/district" }

var menuIDRe = regexp.MustCompile(`msgmenuid=([^"]+)"`)

// choice returns the data of the first menu link in text whose data
// starts with prefix.
func choice(t *testing.T, text, prefix string) string {
	t.Helper()
	for _, m := range menuIDRe.FindAllStringSubmatch(text, -1) {
		d, _ := url.QueryUnescape(m[1])
		if strings.HasPrefix(d, prefix) {
			return d
		}
	}
	t.Fatalf("no choice %q in:\n%s", prefix, text)
	return ""
}

// said sends through fn and returns what the reporter read in answer: the
// passive reply, or what came through customer service meanwhile.
func (e *wechatEnv) said(u *wechatsim.User, fn func() (*wechatsim.Reply, error)) string {
	e.t.Helper()
	before := len(e.fake.Sent(u.OpenID))
	r, err := fn()
	if err != nil {
		e.t.Fatal(err)
	}
	if r.Status != http.StatusOK {
		e.t.Fatalf("callback answered %d: %s", r.Status, r.Body)
	}
	if r.Text != "" {
		return r.Text
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	m, _, err := e.fake.Wait(ctx, u.OpenID, before, func(wechatsim.Sent) bool { return true })
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Text
}

// TestWechatPupilReportsThroughMenu is the story: a pupil reports
// through the menu with a photo and an urgent sentence, reads the safety
// guidance at once, the case is in the school's inbox, and a counselor's
// reply arrives through customer service.
func TestWechatPupilReportsThroughMenu(t *testing.T) {
	e := newWechatEnv(t, nil)
	u := e.fake.NewUser(e.serverURL())

	got := e.said(u, func() (*wechatsim.Reply, error) { return u.Click(e.ctx, wechat.MenuReport) })
	if !strings.Contains(got, "腾讯") || !strings.Contains(got, "不知道你是谁") || !strings.Contains(got, "Tencent") {
		t.Fatalf("privacy notice missing: got\n%s", got)
	}
	if zh, en := strings.Index(got, "腾讯"), strings.Index(got, "Tencent"); en >= 0 && zh > en {
		t.Fatalf("Chinese must come first")
	}
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, demoSchool) })
	got = e.said(u, func() (*wechatsim.Reply, error) {
		return u.Tap(e.ctx, "x", choice(t, got, "role:"))
	})
	got = e.said(u, func() (*wechatsim.Reply, error) {
		return u.Tap(e.ctx, "x", choice(t, got, "cat:"))
	})
	t.Logf("after category:\n%s", got)
	got = e.said(u, func() (*wechatsim.Reply, error) {
		return u.Text(e.ctx, "他今天在厕所里拿刀威胁我，说放学后要捅死我")
	})
	if !strings.Contains(got, "110") || !strings.Contains(got, "12355") {
		t.Fatalf("no safety guidance at once: got\n%s", got)
	}
	if strings.Index(got, "110") > strings.Index(got, "刀") && strings.Contains(got, "刀") {
		t.Fatalf("safety guidance must come first:\n%s", got)
	}
	t.Logf("after urgent text:\n%s", got)
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Image(e.ctx, exifJPEG(t, "GPS-CANARY-wx")) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "urgent:send")) })
	if !strings.Contains(got, "已") {
		t.Logf("after send:\n%s", got)
	}

	// The case is in the school's inbox, urgent, from WeChat, with the
	// words and the photo (its metadata gone).
	tips, _, err := e.m.Triage.Queue(e.ctx, e.sess.Actor(), hotline.TipFilter{})
	if err != nil || len(tips) == 0 {
		t.Fatalf("queue: %v %v", tips, err)
	}
	var tip *hotline.Tip
	for _, tp := range tips {
		if tp.Channel == hotline.ChannelWechat {
			tip = tp
		}
	}
	if tip == nil || !tip.Urgent {
		t.Fatalf("no urgent WeChat tip in the inbox: %+v", tip)
	}
	_, msgs, err := e.m.Triage.Thread(e.ctx, e.sess, tip.UID)
	if err != nil {
		t.Fatal(err)
	}
	var sawText, sawPhoto bool
	for _, m := range msgs {
		sawText = sawText || strings.Contains(m.Body, "拿刀威胁我")
		if m.Photo != nil {
			sawPhoto = true
			if strings.Contains(string(m.Photo.Data), "GPS-CANARY-wx") || strings.Contains(string(m.Photo.Data), "Exif") {
				t.Fatal("photo kept its metadata")
			}
		}
	}
	if !sawText || !sawPhoto {
		t.Fatalf("thread lacks the text (%v) or the photo (%v)", sawText, sawPhoto)
	}

	// A counselor's reply arrives through customer service.
	before := len(e.fake.Sent(u.OpenID))
	if _, err := e.m.Triage.Reply(e.ctx, e.sess.Actor(), tip.UID, "我们收到了，值班老师马上去找你。", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	m, idx, err := e.fake.Wait(ctx, u.OpenID, before, func(s wechatsim.Sent) bool {
		return s.Kind == "text" && strings.Contains(s.Text, "值班老师马上去找你")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reply as the pupil reads it:\n%s", m.Text)

	// 49 hours later the window is closed: the next reply waits, and the
	// pupil gets one content-free notice.
	e.clock.Add(49 * time.Hour)
	if _, err := e.m.Triage.Reply(e.ctx, e.sess.Actor(), tip.UID, "LATE-REPLY-CANARY 请回个消息", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Triage.Reply(e.ctx, e.sess.Actor(), tip.UID, "LATE-REPLY-CANARY-2 第二条", nil); err != nil {
		t.Fatal(err)
	}
	notice, nidx, err := e.fake.Wait(ctx, u.OpenID, idx+1, func(s wechatsim.Sent) bool { return s.Kind == "template" })
	if err != nil {
		t.Fatal(err)
	}
	if notice.Template != "TPL_NEW_REPLY" || !strings.Contains(notice.Text, "你的报告有新回复，发送任意消息查看") || strings.Contains(notice.Text, "CANARY") || strings.Contains(notice.Text, tip.Alias.In(hotline.LangZH)) {
		t.Fatalf("notice is not content-free: %+v", notice)
	}
	// Both replies are held (the relay tried them): nothing else was sent.
	for _, s := range e.fake.Sent(u.OpenID)[idx+1:] {
		if strings.Contains(s.Text, "LATE-REPLY-CANARY") {
			t.Fatalf("a reply went out after the window closed: %+v", s)
		}
	}
	if n := countKind(e.fake.Sent(u.OpenID)[idx+1:], "template"); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
	// The pupil writes: the window opens, and the held replies arrive in order.
	if _, err := u.Text(e.ctx, "我在"); err != nil {
		t.Fatal(err)
	}
	first, fidx, err := e.fake.Wait(ctx, u.OpenID, nidx+1, func(s wechatsim.Sent) bool { return s.Kind == "text" && strings.Contains(s.Text, "LATE-REPLY-CANARY") })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(first.Text, "LATE-REPLY-CANARY 请回个消息") {
		t.Fatalf("held replies out of order: first %q", first.Text)
	}
	if _, _, err := e.fake.Wait(ctx, u.OpenID, fidx+1, func(s wechatsim.Sent) bool { return strings.Contains(s.Text, "LATE-REPLY-CANARY-2") }); err != nil {
		t.Fatal(err)
	}

	// Canary scan: no openid, AppSecret, message text or access token
	// readable in the database, WAL, logs or a backup.
	if !pgtest.OnPostgres() { // on PostgreSQL backups are pg_dump's, and scanDataDir reads every table
		backup := e.dir + "/backup.db"
		if err := e.m.DB.Backup(e.ctx, backup); err != nil {
			t.Fatal(err)
		}
	}
	canaries := [][]byte{[]byte(u.OpenID), []byte(wxSecret), []byte("拿刀威胁我"), []byte("LATE-REPLY-CANARY"), []byte("值班老师马上去找你"), []byte("GPS-CANARY-wx"), []byte("TOKEN_")}
	scanDataDir(t, e.dir, canaries)
	for _, c := range canaries {
		if strings.Contains(e.logs.String(), string(c)) {
			t.Errorf("logs contain %q", c)
		}
	}
}

func countKind(ms []wechatsim.Sent, kind string) int {
	n := 0
	for _, m := range ms {
		if m.Kind == kind {
			n++
		}
	}
	return n
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var _ = hotline.ChannelWechat

func slogTo(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestWechatRetryAfterRestartFilesOnce: WeChat sends the same MsgId again
// (its answer was lost) after the server restarted: the report is not
// filed twice, and the retry is answered with where the pupil stands.
func TestWechatRetryAfterRestartFilesOnce(t *testing.T) {
	e := newWechatEnv(t, nil)
	u := e.fake.NewUser(e.serverURL())
	got := e.said(u, func() (*wechatsim.Reply, error) { return u.Click(e.ctx, wechat.MenuReport) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Text(e.ctx, demoSchool) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "role:")) })
	got = e.said(u, func() (*wechatsim.Reply, error) { return u.Tap(e.ctx, "x", choice(t, got, "cat:")) })
	e.said(u, func() (*wechatsim.Reply, error) {
		return u.Text(e.ctx, "他们拿刀在楼梯口堵我，现在还在外面")
	})
	send := &wechatsim.Message{MsgType: "text", Content: "现在就发给学校", MenuID: "urgent:send"}
	if _, err := u.Send(e.ctx, send); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		tips, _, err := e.m.Triage.Queue(e.ctx, e.sess.Actor(), hotline.TipFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, tp := range tips {
			if tp.Channel == hotline.ChannelWechat {
				n++
			}
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("%d WeChat tips, want 1", n)
	}
	e.restart()
	u.SetTarget(e.serverURL())
	r, err := u.Resend(e.ctx, send)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("retry: %v %+v", err, r)
	}
	if n := count(); n != 1 {
		t.Fatalf("the retry filed again: %d WeChat tips", n)
	}
	if st := e.m.Wechat.Stats(); st.Redelivered != 1 {
		t.Fatalf("stats %+v: want the retry counted as redelivered", st)
	}
}

// TestWechatRefusesForgedAndPlainMessages: a forged signature, a plain-mode
// message, a compatible-mode body with a clear copy, a message encrypted
// for another AppID and a stale replay are all refused, and none reaches
// the dialog.
func TestWechatRefusesForgedAndPlainMessages(t *testing.T) {
	e := newWechatEnv(t, nil)
	u := e.fake.NewUser(e.serverURL())
	now := e.clock.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	enc := u.Encrypted(&wechatsim.Message{MsgType: "text", Content: "FORGED-CANARY", MsgID: 77}, now)
	good := func(enc string) url.Values {
		return url.Values{"signature": {wechatsim.Sign(e.cfg.Token, ts, "n1")}, "timestamp": {ts}, "nonce": {"n1"}, "encrypt_type": {"aes"}, "msg_signature": {wechatsim.Sign(e.cfg.Token, ts, "n1", enc)}}
	}
	body := func(enc string) string {
		return "<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"
	}
	other := wechattest.New(t, wechatsim.Config{AppID: "wxOTHER", Secret: "s", Token: e.cfg.Token, AESKey: e.cfg.AESKey})
	otherEnc := other.NewUser("").Encrypted(&wechatsim.Message{MsgType: "text", Content: "FORGED-CANARY", MsgID: 78}, now)
	cases := []struct {
		name string
		q    func() url.Values
		body string
	}{
		{"forged signature", func() url.Values { q := good(enc); q.Set("signature", wechatsim.Sign("wrong", ts, "n1")); return q }, body(enc)},
		{"forged msg_signature", func() url.Values {
			q := good(enc)
			q.Set("msg_signature", wechatsim.Sign("wrong", ts, "n1", enc))
			return q
		}, body(enc)},
		{"plain mode", func() url.Values { q := good(enc); q.Del("encrypt_type"); q.Del("msg_signature"); return q },
			"<xml><ToUserName>gh_fake</ToUserName><FromUserName>" + u.OpenID + "</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>FORGED-CANARY</Content><MsgId>79</MsgId></xml>"},
		{"compatible mode clear copy", func() url.Values { return good(enc) },
			"<xml><ToUserName>gh_fake</ToUserName><MsgType>text</MsgType><Content>FORGED-CANARY</Content><Encrypt><![CDATA[" + enc + "]]></Encrypt></xml>"},
		{"other AppID", func() url.Values { return good(otherEnc) }, body(otherEnc)},
		{"stale replay", func() url.Values {
			old := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
			return url.Values{"signature": {wechatsim.Sign(e.cfg.Token, old, "n1")}, "timestamp": {old}, "nonce": {"n1"}, "encrypt_type": {"aes"}, "msg_signature": {wechatsim.Sign(e.cfg.Token, old, "n1", enc)}}
		}, body(enc)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := e.fake.PostRaw(e.ctx, e.serverURL()+"?"+c.q().Encode(), c.body, u.OpenID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != http.StatusForbidden {
				t.Fatalf("got %d %q, want 403", r.Status, r.Body)
			}
		})
	}
	// The echo check of 公众平台: only under a valid signature.
	for _, c := range []struct {
		sig  string
		want int
	}{{wechatsim.Sign(e.cfg.Token, ts, "n2"), 200}, {wechatsim.Sign("forged", ts, "n2"), 403}} {
		resp, err := http.Get(e.serverURL() + "?" + url.Values{"signature": {c.sig}, "timestamp": {ts}, "nonce": {"n2"}, "echostr": {"ECHO123"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || (c.want == 200 && string(b) != "ECHO123") {
			t.Fatalf("echo: got %d %q, want %d", resp.StatusCode, b, c.want)
		}
	}
	if n := len(e.fake.Sent(u.OpenID)); n != 0 {
		t.Fatalf("refused messages were answered: %+v", e.fake.Sent(u.OpenID))
	}
	if st := e.m.Wechat.Stats(); st.Handled != 0 || st.Refused != int64(len(cases))+1 {
		t.Fatalf("stats %+v", st)
	}
	if strings.Contains(e.logs.String(), "FORGED-CANARY") || strings.Contains(e.logs.String(), u.OpenID) {
		t.Fatal("logs hold a refused message's content or openid")
	}
}

// BenchmarkWechatCallbacks is WeChat callbacks per second end to end: the
// fake signs and encrypts a text, the server checks, decrypts, records the
// MsgId with the dialog's saved state and answers passively, encrypted.
// Compare with BenchmarkBotUpdates (Telegram).
func BenchmarkWechatCallbacks(b *testing.B) {
	ctx := context.Background()
	clk := testsupport.NewClock(time.Now())
	cfg := wechatsim.Config{AppID: wxAppID, Secret: wxSecret, Token: "benchToken", AESKey: wechatsim.NewAESKey(), Clock: clk}
	fake := wechattest.New(b, cfg)
	m := MustOpenMain(b, withDataDir(b.TempDir()), withClock(clk), func(m *Main) {
		m.Config.WechatAppID, m.Config.WechatSecret, m.Config.WechatToken, m.Config.WechatAESKey = wxAppID, wxSecret, cfg.Token, cfg.AESKey
		m.Config.WechatName, m.Config.WechatAPIURL = "district", fake.URL()
	})
	if err := seedDemo(ctx, m, discard{}); err != nil {
		b.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	target := m.URL() + "/wechat/district"
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		u := fake.NewUser(target)
		for pb.Next() {
			r, err := u.Text(ctx, "你好")
			if err != nil || r.Status != http.StatusOK {
				b.Errorf("callback: %v %+v", err, r)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}
