package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/staff"
	"hotline/internal/telegramtest"
)

// withMetrics turns on the metrics listener on a free port.
func withMetrics(m *Main) { m.Config.MetricsAddr = "127.0.0.1:0" }

// httpGet returns the status and body of a GET.
func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape returns the metrics exposition of m.
func scrape(t *testing.T, m *Main) string {
	t.Helper()
	code, body := httpGet(t, "http://"+m.MetricsAddr()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	return body
}

// sample returns the value of the series (name with its labels, as in the
// exposition) or fails.
func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s in the metrics", series)
	return 0
}

var (
	mailboxTokenRE   = regexp.MustCompile(`name="token" value="([^"]+)"`)
	mailboxReceiptRE = regexp.MustCompile(`id="receipt-code">([0-9A-Z-]+)<`)
)

// A report sent through the no-JS mailbox form shows in the reports
// counter; the metrics and the profiler answer on their own listener and
// not on the public one.
func TestMetricsCountAMailboxReport(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t, withMetrics)
	ctx := context.Background()
	if _, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"}); err != nil {
		t.Fatal(err)
	}
	const mailbox = `hotline_reports_total{channel="mailbox"}`
	before := scrape(t, m)
	if n := sample(t, before, mailbox); n != 0 {
		t.Fatalf("%s before any report: %v", mailbox, n)
	}

	_, form := httpGet(t, m.URL()+"/m/no3")
	tok := mailboxTokenRE.FindStringSubmatch(form)
	if tok == nil {
		t.Fatal("mailbox form without a token")
	}
	fields := url.Values{"token": {tok[1]}, "role": {"witness"}, "category": {"verbal"}, "text": {"三班的人一直骂他"}}
	req, _ := http.NewRequest("POST", m.URL()+"/m/no3", strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", m.URL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || mailboxReceiptRE.FindSubmatch(body) == nil {
		t.Fatalf("mailbox post: %d, no receipt", resp.StatusCode)
	}

	after := scrape(t, m)
	if n := sample(t, after, mailbox); n != 1 {
		t.Fatalf("%s after one report: got %v, want 1", mailbox, n)
	}
	if n := sample(t, after, `hotline_reports_total{channel="telegram"}`); n != 0 {
		t.Fatalf("telegram reports: got %v, want 0", n)
	}
	if sample(t, after, "hotline_store_commits_total") < 1 || sample(t, after, "hotline_store_jobs_total") < 1 {
		t.Fatal("no commits counted")
	}
	// The scheduler's first pass runs in its own goroutine at start-up; on
	// a loaded machine it may not have ended by the first scrape.
	for deadline := time.Now().Add(10 * time.Second); sample(t, after, "hotline_scheduler_passes_total") < 1 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		after = scrape(t, m)
	}
	if n := sample(t, after, "hotline_scheduler_passes_total"); n < 1 {
		t.Fatalf("scheduler passes: %v", n)
	}
	for _, name := range []string{"hotline_outbox_replies", "hotline_webchat_connections", "hotline_kdf_waiting", "hotline_deadline_misses_total", "go_goroutines"} {
		sample(t, after, name)
	}

	// The profiler is on the metrics listener, without the command line
	// (it may hold a token); neither is on the public listener.
	if code, body := httpGet(t, "http://"+m.MetricsAddr()+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index: %d", code)
	}
	if code, _ := httpGet(t, "http://"+m.MetricsAddr()+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Fatalf("goroutine profile: %d", code)
	}
	if code, _ := httpGet(t, "http://"+m.MetricsAddr()+"/debug/pprof/cmdline"); code == http.StatusOK {
		t.Fatal("the command line is served")
	}
	for _, p := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine"} {
		if code, _ := httpGet(t, m.URL()+p); code == http.StatusOK {
			t.Errorf("public listener serves %s", p)
		}
	}
}

// Off by default: no metrics listener.
func TestMetricsOffByDefault(t *testing.T) {
	t.Parallel()
	if m := MustRunMain(t); m.MetricsAddr() != "" {
		t.Fatalf("metrics listen on %s without --metrics-addr", m.MetricsAddr())
	}
}

// Reports whose school code, school name, texts, receipts and chat ids are
// canaries, on every channel, with replies through the bot: the metrics
// hold none of them, and no metric has a label naming a school or anything
// else than a channel or a kind.
func TestMetricsCarryNoContent(t *testing.T) {
	t.Parallel()
	tg := telegramtest.New(t, telegramsim.Config{})
	m := MustOpenMain(t, withMetrics, func(m *Main) {
		m.Config.TelegramToken = tg.Token()
		m.Config.TelegramAPIURL = tg.URL()
		fastTelegram(m)
	})
	ctx := context.Background()
	code := strings.ToLower(canaryText("sc"))
	name := canaryText("学校名")
	created, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: code, Name: name, District: canaryText("区")})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := m.Staff.Authenticate(ctx, created.Admin.Username, created.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Wipe()

	canaries := []string{code, name, created.Admin.Username}
	u := tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
	for _, c := range chatCanaries(u.ChatID()) {
		canaries = append(canaries, string(c))
	}
	var uids []string
	for _, ch := range []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat, hotline.ChannelMailbox} {
		text := canaryText("内容")
		sub := hotline.Submission{SchoolCode: code, Channel: ch, Texts: []string{text}}
		if ch == hotline.ChannelTelegram {
			sub.ChatID = u.ChatID()
		}
		res, err := m.Intake.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		canaries = append(canaries, text, res.TipUID, res.Alias.ZH, res.Alias.EN)
		if res.Receipt != "" {
			canaries = append(canaries, res.Receipt, strings.ReplaceAll(res.Receipt, "-", ""))
		}
		uids = append(uids, res.TipUID)
	}
	reply := canaryText("回复")
	canaries = append(canaries, reply)
	if _, err := m.Triage.Reply(ctx, admin.Actor(), uids[0], reply, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.WaitMessage(ctxTimeout(t, 20*time.Second), u.ChatID(), containsText(reply)); err != nil {
		t.Fatal(err)
	}
	// The worker counts a delivery once Telegram has answered.
	for deadline := time.Now().Add(10 * time.Second); m.Relay.Stats().Delivered == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	text := scrape(t, m)
	if n := sample(t, text, "hotline_relay_delivered_total"); n != 1 {
		t.Fatalf("relay delivered: got %v, want 1", n)
	}
	for _, ch := range []string{"telegram", "webchat", "mailbox"} {
		if n := sample(t, text, `hotline_reports_total{channel="`+ch+`"}`); n != 1 {
			t.Fatalf("%s reports: got %v, want 1", ch, n)
		}
	}
	sample(t, text, "hotline_bot_queued_updates")
	sample(t, text, "hotline_bot_panics_total")
	sample(t, text, `hotline_relay_failures_total{kind="network"}`)
	for _, c := range canaries {
		if c != "" && strings.Contains(text, c) {
			t.Errorf("the metrics contain the canary %q", c)
		}
	}
	// Every label of ours is a channel, a kind, an alert's result or a
	// histogram's bound; no label anywhere names a school, a tip, a
	// receipt, a chat or a user.
	labelRE := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, l := range labelRE.FindAllStringSubmatch(line, -1) {
			label := strings.ToLower(l[1])
			for _, bad := range []string{"school", "district", "tip", "receipt", "chat", "user", "alias", "counselor"} {
				if strings.Contains(label, bad) {
					t.Errorf("label %q in %s", l[1], line)
				}
			}
			if strings.HasPrefix(line, "hotline_") && label != "channel" && label != "kind" && label != "result" && label != "le" {
				t.Errorf("unexpected label %q in %s", l[1], line)
			}
		}
	}
}
