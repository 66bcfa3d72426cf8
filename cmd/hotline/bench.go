package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
)

// hotline bench: a load tool a district's IT runs to size a machine. By
// default it boots the whole server in-process on a temporary data
// directory (the demo school, made-up reports, a fake Telegram Bot API)
// and drives it as its users would: reporters over the mailbox form, the
// web chat's websocket and Telegram, a counselor replying to web chat
// pages that wait for the reply. It never touches a data directory of
// ours: --target points it at a test deployment over HTTP, and only with
// --yes, because it files made-up reports there.

type benchConfig struct {
	submitters int
	duration   time.Duration
	replyRate  float64
	target     string
	school     string
	yes        bool
	json       bool
	// webhook runs the in-process Telegram bot in webhook mode: each
	// update is posted to the bot and confirmed by its answer, instead of
	// fetched by the long poll, which cannot ask for newer updates while
	// older ones are still being handled.
	webhook bool
	// cpuProfile, if set, is where the run's CPU profile is written (the
	// whole process: in-process, the server and the simulated users).
	cpuProfile string
	// blockProfile, if set, is where the run's blocking and mutex
	// contention profiles are written (FILE and FILE.mutex).
	blockProfile string
}

func runBench(ctx context.Context, args []string, env *Env) error {
	var c benchConfig
	fs := newFlagSet("bench", env, "Measures what this machine sustains: reporters over the mailbox, the web chat and a fake Telegram,\n"+
		"counselors replying; prints reports/s, p50/p95/p99 per step, CPU, memory and WAL frames per tip.\n"+
		"By default against an in-process demo on a temporary data directory (deleted after).\n"+
		"--target URL --yes runs the web reporters against a TEST deployment (it files made-up reports: never a school's live server).")
	fs.integer(&c.submitters, "submitters", 16, 1, "concurrent reporters")
	fs.dur(&c.duration, "duration", 30*time.Second, "how long to run")
	fs.Float64Var(&c.replyRate, "reply-rate", 50, "counselor replies a second (in-process only; 0: none)")
	fs.StringVar(&c.target, "target", "", "base URL of a test deployment (needs --yes and --school); default: in-process demo")
	fs.StringVar(&c.school, "school", "", "school code on --target")
	fs.BoolVar(&c.yes, "yes", false, "confirm that --target is a test deployment that may receive made-up reports")
	fs.BoolVar(&c.json, "json", false, "print the summary as JSON on stdout")
	fs.BoolVar(&c.webhook, "telegram-webhook", false, "run the in-process Telegram bot in webhook mode (default: long polling, as a server without a public URL runs)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write the run's CPU profile to FILE (go tool pprof FILE): where this machine's cores go")
	fs.StringVar(&c.blockProfile, "blockprofile", "", "write the run's blocking profile to FILE and its mutex contention to FILE.mutex")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if c.replyRate < 0 || math.IsNaN(c.replyRate) || math.IsInf(c.replyRate, 0) {
		fmt.Fprintln(env.Stderr, "hotline bench: --reply-rate must be 0 or more")
		return ErrUsage
	}
	if c.target != "" {
		if !c.yes {
			fmt.Fprintln(env.Stderr, "hotline bench: refusing to load "+c.target+" without --yes.\n"+
				"It files made-up reports there: use a test deployment, never a school's live server.")
			return ErrUsage
		}
		u, err := url.Parse(c.target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fmt.Fprintln(env.Stderr, "hotline bench: --target must be an http(s) URL")
			return ErrUsage
		}
		if c.school == "" {
			fmt.Fprintln(env.Stderr, "hotline bench: --target needs --school CODE")
			return ErrUsage
		}
		c.target = strings.TrimRight(c.target, "/")
	} else if c.yes || c.school != "" {
		fmt.Fprintln(env.Stderr, "hotline bench: --yes and --school go with --target")
		return ErrUsage
	}
	// The load before anything starts: the figures only mean something
	// when the machine was quiet (docs/BENCHMARKS.md, "Measurement").
	r := &benchRun{cfg: c, steps: map[string]*benchStep{}, loadAtStart: loadAverage()}
	if c.target == "" {
		return r.inProcess(ctx, env)
	}
	r.base, r.schoolCode = c.target, c.school
	r.origin = c.target
	return r.run(ctx, env)
}

// benchRun is one run: its target, its recorders and its summary.
type benchRun struct {
	cfg         benchConfig
	loadAtStart float64 // 1-minute load average when the run began; -1 unknown
	base        string  // http(s)://host
	origin      string
	schoolCode  string
	m           *Main               // in-process only
	tg          *telegramsim.Server // in-process only: the simulated Bot API
	actor       hotline.Actor       // in-process only

	mu      sync.Mutex
	steps   map[string]*benchStep
	reports [3]atomic.Int64 // per channel: mailbox, webchat, telegram
	replies atomic.Int64
	errs    atomic.Int64
	lastErr atomic.Value

	// receipts of web chat reports, for the reply pages
	webTips chan webTip
}

type webTip struct{ uid, receipt string }

type benchStep struct{ d []time.Duration }

const (
	chMailbox = iota
	chWebchat
	chTelegram
)

var benchChannels = [3]string{"mailbox", "webchat", "telegram"}

func (r *benchRun) record(step string, d time.Duration) {
	r.mu.Lock()
	s := r.steps[step]
	if s == nil {
		s = &benchStep{}
		r.steps[step] = s
	}
	s.d = append(s.d, d)
	r.mu.Unlock()
}

func (r *benchRun) fail(err error) {
	r.errs.Add(1)
	r.lastErr.Store(err.Error())
}

// inProcess boots the server on a temporary data directory with a fake
// Telegram Bot API and the demo school, runs, and removes it all.
func (r *benchRun) inProcess(ctx context.Context, env *Env) error {
	dir, err := os.MkdirTemp("", "hotline-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if r.tg, err = telegramsim.Start(telegramsim.Config{}); err != nil {
		return err
	}
	defer r.tg.Close()
	m := NewMain()
	m.Config.DataDir = dir
	m.Config.Addr = "127.0.0.1:0"
	m.InitKey = true // a throwaway directory of its own
	m.Config.TelegramToken = r.tg.Token()
	m.Config.TelegramAPIURL = r.tg.URL()
	if r.cfg.webhook {
		m.Config.TelegramWebhookURL = "/telegram/hook"
		m.Config.TelegramWebhookSecret = rand.Text()
	}
	// Every simulated reporter comes from 127.0.0.1: one client to the
	// flood limits, which must not be what is measured.
	l := &m.WebchatLimits
	l.MaxConns, l.ClientConns = 1<<20, 1<<20
	l.PerConnRate, l.PerConnBurst, l.GlobalRate, l.GlobalBurst = 1e6, 1e6, 1e6, 1e6
	l.ClientMsgRate, l.ClientMsgBurst, l.ClientConnRate, l.ClientConnBurst = 1e6, 1e6, 1e6, 1e6
	l.MailboxRate, l.MailboxBurst, l.ClientPostRate, l.ClientPostBurst = 1e6, 1e6, 1e6, 1e6
	l.ReadRate, l.ReadBurst, l.ClientReadRate, l.ClientReadBurst = 1e6, 1e6, 1e6, 1e6
	if err := m.Open(); err != nil {
		return err
	}
	defer m.Close()
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		return err
	}
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		return err
	}
	defer sess.Wipe()
	r.m, r.actor = m, sess.Actor()
	r.base, r.origin, r.schoolCode = m.URL(), m.URL(), demoSchool
	return r.run(ctx, env)
}

// run drives the load for the configured duration and prints the summary.
func (r *benchRun) run(ctx context.Context, env *Env) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.duration)
	defer cancel()
	r.webTips = make(chan webTip, 1024)
	stopProfiles, err := r.startProfiles()
	if err != nil {
		return err
	}
	var before benchUsage
	before.read(r.m)
	start := time.Now()
	var wg sync.WaitGroup
	channels := []int{chMailbox, chWebchat}
	if r.tg != nil {
		channels = append(channels, chTelegram)
	}
	for i := range r.cfg.submitters {
		ch := channels[i%len(channels)]
		wg.Go(func() { r.reporter(ctx, ch, i) })
	}
	if r.m != nil && r.cfg.replyRate > 0 {
		wg.Go(func() { r.counselor(ctx) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
progress:
	for {
		select {
		case <-done:
			break progress
		case <-tick.C:
			r.progress(env.Stderr, time.Since(start))
		}
	}
	elapsed := time.Since(start)
	if err := stopProfiles(); err != nil {
		return err
	}
	r.progress(env.Stderr, r.cfg.duration)
	fmt.Fprintln(env.Stderr)
	var after benchUsage
	after.read(r.m)
	s := r.summary(elapsed, before, after)
	if r.cfg.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	s.print(env.Stdout)
	if s.Reports == 0 {
		return fmt.Errorf("no report went through (last error: %v)", s.LastError)
	}
	return nil
}

// startProfiles starts the profiles asked for; the function it returns
// stops them and writes them out. The setup (boot, seeding) is left out:
// only the load is profiled.
func (r *benchRun) startProfiles() (func() error, error) {
	var cpu *os.File
	if r.cfg.cpuProfile != "" {
		f, err := os.Create(r.cfg.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		cpu = f
	}
	if r.cfg.blockProfile != "" {
		// Every blocking event and every contended lock: the run is
		// slower for it, so its latencies are not the machine's.
		runtime.SetBlockProfileRate(1)
		runtime.SetMutexProfileFraction(1)
	}
	return func() error {
		var errs []error
		if cpu != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpu.Close())
		}
		if r.cfg.blockProfile != "" {
			runtime.SetBlockProfileRate(0)
			runtime.SetMutexProfileFraction(0)
			errs = append(errs, writeProfile("block", r.cfg.blockProfile), writeProfile("mutex", r.cfg.blockProfile+".mutex"))
		}
		return errors.Join(errs...)
	}, nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progress draws a one-line progress bar on stderr.
func (r *benchRun) progress(w io.Writer, elapsed time.Duration) {
	frac := min(1, elapsed.Seconds()/r.cfg.duration.Seconds())
	const width = 30
	n := int(frac * width)
	var total int64
	for i := range r.reports {
		total += r.reports[i].Load()
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(total) / elapsed.Seconds()
	}
	fmt.Fprintf(w, "\r[%s%s] %3.0f%%  %5.1fs  报告/reports %d (%.1f/s)  回复/replies %d  错误/errors %d ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100, elapsed.Seconds(), total, rate, r.replies.Load(), r.errs.Load())
}

// reporter files reports over one channel until ctx ends.
func (r *benchRun) reporter(ctx context.Context, ch, n int) {
	var wc *benchPage
	defer func() {
		if wc != nil {
			wc.ws.Close()
		}
	}()
	for ctx.Err() == nil {
		t0 := time.Now()
		var err error
		switch ch {
		case chMailbox:
			err = r.mailboxReport(ctx)
		case chWebchat:
			if wc == nil {
				if wc, err = r.dialPage(ctx); err != nil {
					break
				}
			}
			err = r.webchatReport(ctx, wc, n)
			if err != nil {
				wc.ws.Close()
				wc = nil
			}
		case chTelegram:
			err = r.telegramReport(ctx)
		}
		if ctx.Err() != nil {
			return // cut off by the end of the run: not counted either way
		}
		if err != nil {
			r.fail(fmt.Errorf("%s: %w", benchChannels[ch], err))
			time.Sleep(100 * time.Millisecond)
			continue
		}
		r.reports[ch].Add(1)
		r.record(benchChannels[ch]+" whole report", time.Since(t0))
	}
}

var (
	benchTokenRE   = regexp.MustCompile(`name="token" value="([^"]+)"`)
	benchReceiptRE = regexp.MustCompile(`id="receipt-code">([0-9A-Z-]+)<`)
)

// The made-up report every simulated reporter files: a typical length.
const benchText = "今天放学后在操场后面，三个高年级的同学把我推倒，还抢走了我的书包和零花钱。他们说如果我告诉老师，明天还会来找我。我很害怕，不知道该怎么办。（hotline bench：测试数据 / test data）"

var benchHTTP = &http.Client{Timeout: 30 * time.Second}

// mailboxReport loads the no-JS form and posts it, as a browser does.
func (r *benchRun) mailboxReport(ctx context.Context) error {
	t0 := time.Now()
	body, status, err := r.httpDo(ctx, "GET", "/m/"+url.PathEscape(r.schoolCode), nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("form: HTTP %d", status)
	}
	tok := benchTokenRE.FindStringSubmatch(body)
	if tok == nil {
		return errors.New("form without a token")
	}
	r.record("mailbox form", time.Since(t0))
	t1 := time.Now()
	fields := url.Values{"token": {tok[1]}, "role": {"witness"}, "category": {"physical"}, "text": {benchText}}
	body, status, err = r.httpDo(ctx, "POST", "/m/"+url.PathEscape(r.schoolCode), fields)
	if err != nil {
		return err
	}
	if status != http.StatusOK || benchReceiptRE.FindStringSubmatch(body) == nil {
		return fmt.Errorf("submit: HTTP %d without a receipt", status)
	}
	r.record("mailbox submit", time.Since(t1))
	return nil
}

func (r *benchRun) httpDo(ctx context.Context, method, path string, form url.Values) (string, int, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return "", 0, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", r.origin)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := benchHTTP.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), resp.StatusCode, err
}

// benchPage is a web chat page: one websocket, its session and sequence.
type benchPage struct {
	ws      *websocket.Conn
	lastSeq int64
	n       int
}

type benchFrame struct {
	Type  string `json:"type"`
	Seq   int64  `json:"seq"`
	ID    string `json:"id"`
	Code  string `json:"code"`
	Text  string `json:"text"`
	Reply *struct {
		Kind    string `json:"kind"`
		Receipt string `json:"receipt"`
		Buttons [][]struct {
			Data string `json:"data"`
		} `json:"buttons"`
	} `json:"reply"`
	Msg *struct {
		UID    string `json:"uid"`
		Author string `json:"author"`
		Text   string `json:"text"`
	} `json:"msg"`
}

func (r *benchRun) dialPage(ctx context.Context) (*benchPage, error) {
	u := "ws" + strings.TrimPrefix(r.base, "http") + "/webchat/ws"
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Origin": {r.origin}})
	if err != nil {
		return nil, err
	}
	p := &benchPage{ws: ws}
	if err := p.send(map[string]any{"type": "hello", "session": rand.Text() + rand.Text(), "page": rand.Text(), "school": r.schoolCode, "lang": "zh"}); err != nil {
		ws.Close()
		return nil, err
	}
	if f, err := p.next(); err != nil || f.Type != "welcome" {
		ws.Close()
		return nil, fmt.Errorf("hello: %v %+v", err, f)
	}
	return p, nil
}

func (p *benchPage) send(v map[string]any) error {
	v["v"] = 1
	p.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return p.ws.WriteJSON(v)
}

func (p *benchPage) next() (benchFrame, error) {
	for {
		p.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		var f benchFrame
		if err := p.ws.ReadJSON(&f); err != nil {
			return f, err
		}
		if f.Seq != 0 {
			if f.Seq <= p.lastSeq {
				continue
			}
			p.lastSeq = f.Seq
		}
		return f, nil
	}
}

// do sends one page message and returns the frames up to its ack.
func (p *benchPage) do(v map[string]any) ([]benchFrame, error) {
	p.n++
	id := "b" + strconv.Itoa(p.n)
	v["id"] = id
	if err := p.send(v); err != nil {
		return nil, err
	}
	var out []benchFrame
	for {
		f, err := p.next()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
		if f.ID == id && f.Type == "error" {
			return nil, fmt.Errorf("page error %s", f.Code)
		}
		if f.ID == id && f.Type == "ack" {
			return out, nil
		}
	}
}

func benchButton(fs []benchFrame, prefix string) (string, error) {
	for _, f := range fs {
		if f.Reply != nil {
			for _, row := range f.Reply.Buttons {
				for _, b := range row {
					if strings.HasPrefix(b.Data, prefix) {
						return b.Data, nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("no button %q", prefix)
}

// webchatReport walks the web chat's conversation to a receipt.
func (r *benchRun) webchatReport(ctx context.Context, p *benchPage, n int) error {
	step := func(v map[string]any) ([]benchFrame, error) {
		t0 := time.Now()
		fs, err := p.do(v)
		if err == nil {
			r.record("webchat step", time.Since(t0))
		}
		return fs, err
	}
	fs, err := step(map[string]any{"type": "command", "command": "new"})
	for _, choice := range []string{"role:", "cat:"} {
		if err != nil {
			return err
		}
		var data string
		if data, err = benchButton(fs, choice); err != nil {
			return err
		}
		fs, err = step(map[string]any{"type": "choice", "data": data})
	}
	if err != nil {
		return err
	}
	if fs, err = step(map[string]any{"type": "text", "text": benchText}); err != nil {
		return err
	}
	for _, choice := range []string{"done", "danger:no"} {
		data, err := benchButton(fs, choice)
		if err != nil {
			return err
		}
		if fs, err = step(map[string]any{"type": "choice", "data": data}); err != nil {
			return err
		}
	}
	data, err := benchButton(fs, "send")
	if err != nil {
		return err
	}
	t0 := time.Now()
	if fs, err = p.do(map[string]any{"type": "choice", "data": data}); err != nil {
		return err
	}
	r.record("webchat submit", time.Since(t0))
	for _, f := range fs {
		if f.Reply != nil && f.Reply.Kind == "receipt" && f.Reply.Receipt != "" {
			if r.m != nil {
				if tip, err := r.m.Intake.TipStatus(ctx, f.Reply.Receipt); err == nil {
					select {
					case r.webTips <- webTip{tip.UID, f.Reply.Receipt}:
					default:
					}
				}
			}
			return nil
		}
	}
	return errors.New("no receipt")
}

// telegramReport is one report by a new Telegram user through the fake
// Bot API: deep link, role, category, text, done, not in danger, send.
func (r *benchRun) telegramReport(ctx context.Context) error {
	u := r.tg.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
	wait := func(pred func(telegramsim.SentMessage) bool) (telegramsim.SentMessage, error) {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return u.WaitMessage(c, pred)
	}
	hasButton := func(data string) func(telegramsim.SentMessage) bool {
		return func(m telegramsim.SentMessage) bool {
			for _, b := range m.Buttons() {
				if b.CallbackData == data {
					return true
				}
			}
			return false
		}
	}
	tap := func(data string) error {
		t0 := time.Now()
		m, err := wait(hasButton(data))
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", data, err)
		}
		r.record("telegram step", time.Since(t0))
		_, err = u.PressOn(m, data)
		return err
	}
	u.SendCommand("/start " + r.schoolCode)
	for _, data := range []string{"role:victim", "cat:physical"} {
		if err := tap(data); err != nil {
			return err
		}
	}
	u.SendText(benchText)
	for _, data := range []string{"done", "danger:no", "send"} {
		if err := tap(data); err != nil {
			return err
		}
	}
	t0 := time.Now()
	if _, err := wait(func(m telegramsim.SentMessage) bool { return strings.Contains(m.PlainText, "/status") }); err != nil {
		return fmt.Errorf("waiting for the alias: %w", err)
	}
	r.record("telegram submit", time.Since(t0))
	return nil
}

// counselor replies at the configured rate to web chat reports whose pages
// stay open, and measures the time from the reply to its text on the page
// (commit, notice, the page's sync, sealing and opening included).
func (r *benchRun) counselor(ctx context.Context) {
	const maxPages = 32
	var pages []*replyPage
	defer func() {
		for _, p := range pages {
			p.ws.Close()
		}
	}()
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.replyRate))
	defer tick.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if len(pages) < maxPages {
			select {
			case t := <-r.webTips:
				if p, err := r.openReplyPage(ctx, t); err == nil {
					pages = append(pages, p)
				} else {
					r.fail(fmt.Errorf("reply page: %w", err))
				}
			default:
			}
		}
		if len(pages) == 0 {
			continue
		}
		p := pages[i%len(pages)]
		inflight.Go(func() {
			stamp := strconv.FormatInt(time.Now().UnixNano(), 10)
			t0 := time.Now()
			if _, err := r.m.Triage.Reply(context.WithoutCancel(ctx), r.actor, p.tip, "bench "+stamp, nil); err != nil {
				r.fail(fmt.Errorf("reply: %w", err))
				return
			}
			r.record("reply committed", time.Since(t0))
			r.replies.Add(1)
		})
	}
}

// replyPage is an open web chat page following one report's thread.
type replyPage struct {
	*benchPage
	tip string
}

func (r *benchRun) openReplyPage(ctx context.Context, t webTip) (*replyPage, error) {
	bp, err := r.dialPage(ctx)
	if err != nil {
		return nil, err
	}
	p := &replyPage{benchPage: bp, tip: t.uid}
	if _, err := bp.do(map[string]any{"type": "sync", "receipt": t.receipt}); err != nil {
		bp.ws.Close()
		return nil, err
	}
	// The page's reader: on a notice it syncs after the last message it
	// has, as chat.js does, and timestamps the counselor's messages.
	go func() {
		last, inFlight, again, n := "", false, false, 0
		sync := func() {
			n++
			bp.ws.WriteJSON(map[string]any{"v": 1, "type": "sync", "id": "y" + strconv.Itoa(n), "receipt": t.receipt, "after": last})
		}
		for {
			bp.ws.SetReadDeadline(time.Time{})
			var f benchFrame
			if err := bp.ws.ReadJSON(&f); err != nil {
				return
			}
			switch {
			case f.Type == "msg" && f.Msg != nil:
				last = f.Msg.UID
				if stamp, ok := strings.CutPrefix(f.Msg.Text, "bench "); ok && f.Msg.Author == "counselor" {
					if ns, err := strconv.ParseInt(stamp, 10, 64); err == nil {
						r.record("reply → page", time.Since(time.Unix(0, ns)))
					}
				}
			case f.Type == "notice" && inFlight:
				again = true
			case f.Type == "notice":
				inFlight = true
				sync()
			case f.Type == "error":
				inFlight = false
			case f.Type == "ack" && strings.HasPrefix(f.ID, "y"):
				inFlight = false
				if again {
					again, inFlight = false, true
					sync()
				}
			}
		}
	}()
	return p, nil
}

// benchUsage is what the process used, read before and after the run.
type benchUsage struct {
	cpu       time.Duration
	maxRSS    int64
	frames    int64
	commits   int64
	jobs      int64
	available bool
}

func (u *benchUsage) read(m *Main) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		u.maxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	if m != nil {
		st := m.DB.Stats()
		u.frames, u.commits, u.jobs, u.available = st.WALFrames, st.Commits, st.Jobs, true
	}
}

// benchSummary is the result, printed as text or JSON.
type benchSummary struct {
	Target         string                      `json:"target"`
	Submitters     int                         `json:"submitters"`
	Seconds        float64                     `json:"seconds"`
	CPUs           int                         `json:"cpus"`
	Reports        int64                       `json:"reports"`
	ReportsPerSec  float64                     `json:"reports_per_sec"`
	ByChannel      map[string]int64            `json:"reports_by_channel"`
	Replies        int64                       `json:"replies"`
	Errors         int64                       `json:"errors"`
	LastError      string                      `json:"last_error,omitempty"`
	Steps          map[string]benchPercentiles `json:"steps_ms"`
	CPUCores       float64                     `json:"cpu_cores_used,omitempty"`
	MaxRSSMiB      float64                     `json:"max_rss_mib,omitempty"`
	HeapMiB        float64                     `json:"heap_mib,omitempty"`
	WALFramesRep   float64                     `json:"wal_frames_per_report,omitempty"`
	WALFramesWrite float64                     `json:"wal_frames_per_write,omitempty"`
	WritesPerCommt float64                     `json:"writes_per_commit,omitempty"`
	Note           string                      `json:"note,omitempty"`
	LoadAtStart    float64                     `json:"load_average_at_start"` // -1: unknown
	Comparable     bool                        `json:"comparable"`            // load per core ≤ maxComparableLoad
}

// maxComparableLoad is the load average per core above which a run's
// figures measure the machine's queue rather than Hotline: such a run is
// reported, but called not comparable.
const maxComparableLoad = 1.5

// comparableLoad says whether a run that began at load on cpus cores can
// be compared with others.
func comparableLoad(load float64, cpus int) bool {
	return load >= 0 && cpus > 0 && load/float64(cpus) <= maxComparableLoad
}

// loadAverage is the 1-minute load average (/proc/loadavg), or -1 where
// the system does not say.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

type benchPercentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

func (r *benchRun) summary(elapsed time.Duration, before, after benchUsage) *benchSummary {
	s := &benchSummary{Target: "in-process demo", Submitters: r.cfg.submitters, Seconds: elapsed.Seconds(), CPUs: runtime.NumCPU(),
		ByChannel: map[string]int64{}, Replies: r.replies.Load(), Errors: r.errs.Load(), Steps: map[string]benchPercentiles{},
		LoadAtStart: r.loadAtStart}
	s.Comparable = comparableLoad(r.loadAtStart, s.CPUs)
	if r.cfg.webhook {
		s.Target = "in-process demo, Telegram by webhook"
	}
	if r.m == nil {
		s.Target = r.cfg.target
		s.Note = "remote target: web chat and mailbox reporters only; Telegram, counselor replies, CPU, memory and WAL figures are measured in-process only"
	}
	if e, ok := r.lastErr.Load().(string); ok {
		s.LastError = e
	}
	for i, name := range benchChannels {
		if n := r.reports[i].Load(); n > 0 || (i != chTelegram || r.tg != nil) {
			s.ByChannel[name] = n
			s.Reports += n
		}
	}
	s.ReportsPerSec = float64(s.Reports) / elapsed.Seconds()
	r.mu.Lock()
	for name, st := range r.steps {
		d := slices.Clone(st.d)
		slices.Sort(d)
		pct := func(p float64) float64 {
			i := min(len(d)-1, int(math.Ceil(p*float64(len(d))))-1)
			return float64(d[max(0, i)].Microseconds()) / 1000
		}
		s.Steps[name] = benchPercentiles{N: len(d), P50: pct(0.50), P95: pct(0.95), P99: pct(0.99)}
	}
	r.mu.Unlock()
	if r.m != nil {
		s.CPUCores = (after.cpu - before.cpu).Seconds() / elapsed.Seconds()
		s.MaxRSSMiB = float64(after.maxRSS) / (1 << 20)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s.HeapMiB = float64(ms.HeapInuse) / (1 << 20)
		if frames := after.frames - before.frames; after.available && s.Reports > 0 {
			// Per report: everything the run wrote (conversation steps,
			// replies) over the reports filed; per write: over commit jobs.
			s.WALFramesRep = float64(frames) / float64(s.Reports)
			s.WALFramesWrite = float64(frames) / float64(max(1, after.jobs-before.jobs))
		}
		if c := after.commits - before.commits; c > 0 {
			s.WritesPerCommt = float64(after.jobs-before.jobs) / float64(c)
		}
	}
	return s
}

func (s *benchSummary) print(w io.Writer) {
	fmt.Fprintf(w, "hotline bench — %s, %d submitters, %.1f s, %d CPUs\n", s.Target, s.Submitters, s.Seconds, s.CPUs)
	switch {
	case s.LoadAtStart < 0:
		fmt.Fprintf(w, "  负载 / load at start  unknown: not comparable with other runs\n\n")
	case s.Comparable:
		fmt.Fprintf(w, "  负载 / load at start  %.2f (%.2f per core): comparable\n\n", s.LoadAtStart, s.LoadAtStart/float64(s.CPUs))
	default:
		fmt.Fprintf(w, "  负载 / load at start  %.2f (%.2f per core, above %.1f): NOT comparable — the figures measure the machine's queue; run again on a quiet machine\n\n",
			s.LoadAtStart, s.LoadAtStart/float64(s.CPUs), maxComparableLoad)
	}
	fmt.Fprintf(w, "  报告 / reports        %d (%.1f/s)", s.Reports, s.ReportsPerSec)
	var chans []string
	for c, n := range s.ByChannel {
		chans = append(chans, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(chans)
	fmt.Fprintf(w, "   [%s]\n", strings.Join(chans, ", "))
	fmt.Fprintf(w, "  回复 / replies        %d\n", s.Replies)
	fmt.Fprintf(w, "  错误 / errors         %d", s.Errors)
	if s.LastError != "" {
		fmt.Fprintf(w, " (last: %s)", s.LastError)
	}
	fmt.Fprintln(w)
	if s.CPUCores > 0 {
		fmt.Fprintf(w, "  CPU                   %.2f cores of %d\n", s.CPUCores, s.CPUs)
		fmt.Fprintf(w, "  内存 / memory         max RSS %.0f MiB, Go heap %.0f MiB\n", s.MaxRSSMiB, s.HeapMiB)
		fmt.Fprintf(w, "  WAL frames            %.1f per report (its conversation and the run's replies included), %.1f per write\n", s.WALFramesRep, s.WALFramesWrite)
		fmt.Fprintf(w, "  writes per commit     %.1f\n", s.WritesPerCommt)
	}
	fmt.Fprintf(w, "\n  %-24s %7s %9s %9s %9s\n", "step (ms)", "n", "p50", "p95", "p99")
	var names []string
	for n := range s.Steps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Steps[n]
		fmt.Fprintf(w, "  %-24s %7d %9.2f %9.2f %9.2f\n", n, p.N, p.P50, p.P95, p.P99)
	}
	if s.Note != "" {
		fmt.Fprintf(w, "\n  note: %s\n", s.Note)
	}
}
