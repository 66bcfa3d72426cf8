package main

// The rig of the channel crash tests: a child process running the real
// server on a fixed address, a fake Telegram in this (parent) process that
// outlives the child and redelivers what the bot did not confirm, and
// reporters on all three channels who write unique markers and keep an
// account of what they were told was received.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// Environment of the child server.
const (
	envCrashDir   = "HOTLINE_CRASHCH_DIR"
	envCrashAddr  = "HOTLINE_CRASHCH_ADDR"
	envCrashToken = "HOTLINE_CRASHCH_TOKEN"
	envCrashAPI   = "HOTLINE_CRASHCH_API"
	envCrashDB    = "HOTLINE_CRASHCH_DATABASE" // a postgres:// DSN: several nodes share it, and log
)

// TestCrashChannelsChild is the server of TestCrashChannels and
// TestSigtermUnderLoad: the real Main on a fixed address, stopped by
// SIGKILL, or by SIGTERM through the same graceful path as "hotline serve".
func TestCrashChannelsChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("only runs as the child of the channel crash tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	m := NewMain()
	m.Config.DataDir = dir
	m.Config.Addr = os.Getenv(envCrashAddr)
	m.Config.TelegramToken = os.Getenv(envCrashToken)
	m.Config.TelegramAPIURL = os.Getenv(envCrashAPI)
	m.Argon = cheapArgon
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	fastTelegram(m)
	if dsn := os.Getenv(envCrashDB); dsn != "" {
		m.Config.Database = dsn
		// The nodes' logs tell the test which of them leads.
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// Every reporter of the test comes from 127.0.0.1: the per-client
	// limits are not what is tested here.
	l := &m.WebchatLimits
	l.PerConnRate, l.PerConnBurst = 1000, 1000
	l.ClientPostRate, l.ClientPostBurst = 1000, 10000
	l.ClientReadRate, l.ClientReadBurst = 1000, 10000
	l.ClientConnRate, l.ClientConnBurst = 1000, 10000
	l.ClientMsgRate, l.ClientMsgBurst = 1000, 10000
	l.MailboxRate, l.MailboxBurst = 1000, 10000
	l.GuessRate, l.GuessBurst = 1000, 10000
	err := runServer(ctx, m, func() { os.Stdout.WriteString("READY\n") })
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
	os.Stdout.WriteString("CLOSED\n")
}

// crashRig runs the child servers and keeps the reporters' account.
type crashRig struct {
	t    *testing.T
	dir  string
	dsn  string // the PostgreSQL database of a many-node rig ("": SQLite in dir)
	addr string
	base string
	tg   *telegramsim.Server
	logs *syncBuffer // the children's stderr

	mu        sync.Mutex
	acked     map[string]string // marker -> what: must be stored exactly once
	uncertain map[string]string // answer lost: stored at most once
	refused   map[string]string // refused with a message: stored nowhere
	counts    map[string]int    // "<channel> reports|follow-ups" acknowledged
	pages     []*webPage        // web pages that sent "send"
	notes     []string          // what reporters saw that the test reports
}

func newCrashRig(t *testing.T) *crashRig {
	t.Helper()
	dir := t.TempDir()
	{
		m := MustOpenMain(t, withDataDir(dir))
		if err := seedDemo(context.Background(), m, io.Discard); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return &crashRig{t: t, dir: dir, addr: addr, base: "http://" + addr,
		tg: telegramtest.New(t, telegramsim.Config{}), logs: &syncBuffer{},
		acked: map[string]string{}, uncertain: map[string]string{}, refused: map[string]string{}, counts: map[string]int{}}
}

// child is a running child server.
type child struct {
	cmd   *exec.Cmd
	lines chan string
}

// start starts a child server and waits until it listens.
func (r *crashRig) start() *child {
	r.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChannelsChild$", "-test.v=false")
	cmd.Env = append(childEnv(r.dir), envCrashDir+"="+r.dir, envCrashAddr+"="+r.addr,
		envCrashToken+"="+r.tg.Token(), envCrashAPI+"="+r.tg.URL())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd.Stderr = r.logs
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	select {
	case l, ok := <-c.lines:
		if ok && l == "READY" {
			return c
		}
		cmd.Process.Kill()
		cmd.Wait()
		r.t.Fatalf("child did not start (%q); its log:\n%s", l, tail(r.logs.String(), 3000))
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		r.t.Fatalf("child did not start in 30 s; its log:\n%s", tail(r.logs.String(), 3000))
	}
	return nil
}

// stop ends a child with sig and waits for it. After SIGTERM the child
// must shut down by itself, and cleanly.
func (r *crashRig) stop(c *child, sig syscall.Signal) {
	r.t.Helper()
	c.cmd.Process.Signal(sig)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if sig == syscall.SIGTERM && err != nil {
			r.t.Errorf("child after SIGTERM: %v; its log:\n%s", err, tail(r.logs.String(), 3000))
		}
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-done
		r.t.Errorf("child did not stop within 30 s of %v", sig)
	}
	for range c.lines {
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// marker returns a unique marker; the trailing # keeps one from being a
// prefix of another.
func marker(ch string, n, i, k int) string {
	return fmt.Sprintf("CRASHMARK-%s-%d-%d-%d-%06x#", ch, n, i, k, rand.Uint32()&0xffffff)
}

var markerRE = regexp.MustCompile(`CRASHMARK-[a-z]+-[0-9]+-[0-9]+-[0-9]+-[0-9a-f]{6}#`)

func (r *crashRig) ack(m, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.uncertain, m)
	r.acked[m] = what
	r.counts[what]++
}

func (r *crashRig) unsure(m, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.acked[m]; !ok {
		r.uncertain[m] = what
	}
}

func (r *crashRig) refuse(m, what string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.uncertain, m)
	r.refused[m] = what
	r.counts[what+" refused"]++
}

func (r *crashRig) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.notes) < 40 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}

// runRounds starts a child, lets the reporters work, stops it with sig
// after a random moment, rounds times; then it runs a last child without
// interruption until the reporters have finished, and stops it gracefully.
func (r *crashRig) runRounds(rounds int, sig syscall.Signal, minLife, maxLife time.Duration, reporters func(work, hard context.Context, wg *sync.WaitGroup)) {
	t := r.t
	work, stopWork := context.WithCancel(context.Background())
	hard, stopHard := context.WithCancel(context.Background())
	defer stopHard()
	var wg sync.WaitGroup
	reporters(work, hard, &wg)
	for round := 0; round < rounds; round++ {
		c := r.start()
		time.Sleep(minLife + rand.N(maxLife-minLife))
		r.stop(c, sig)
	}
	// The last run: no new work; what is under way finishes, the fake
	// delivers what the bot has not confirmed.
	c := r.start()
	stopWork()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		// A hang guard, not a speed bound: under -race with the
		// PostgreSQL pass beside it, a loaded two-core machine took
		// longer than 20 s to let every reporter finish.
		t.Errorf("reporters did not finish within 90 s of the last start")
		stopHard()
		<-done
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	if err := r.tg.WaitUpdatesConsumed(ctx); err != nil {
		t.Errorf("the bot left %d Telegram updates unconfirmed: %v", r.tg.PendingUpdates(), err)
	}
	cancel()
	// Let the last handled updates commit before the graceful stop.
	time.Sleep(300 * time.Millisecond)
	r.stop(c, syscall.SIGTERM)
}

// verify opens the data directory as the school's counselor and checks
// the account: every acknowledged marker exactly once, none more than
// once, no refused one at all; every web page that sent a report holds its
// receipt; the database and the ledger are intact.
func (r *crashRig) verify(rounds int, sig string) {
	t := r.t
	ctx := context.Background()
	var out, errb syncBuffer
	args := []string{"ledger", "verify", "--data", r.dir}
	if r.dsn != "" {
		args = append(args, "--database", r.dsn)
	}
	if code := run(ctx, args, strings.NewReader(""), &out, &errb); code != 0 {
		t.Errorf("hotline ledger verify: exit %d: %s %s", code, out.String(), errb.String())
	}
	m := MustOpenMain(t, withDataDir(r.dir), func(m *Main) { m.Config.Database = r.dsn })
	if ok, err := m.DB.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q %v", ok, err)
	}
	sess, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	stored := map[string]int{}
	tips, empty := 0, 0
	var after *hotline.QueueCursor
	for {
		page, next, err := m.Triage.Queue(ctx, sess.Actor(), hotline.TipFilter{Limit: 200, After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, tip := range page {
			_, msgs, err := m.Triage.Thread(ctx, sess, tip.UID)
			if err != nil {
				t.Fatalf("thread %s: %v", tip.UID, err)
			}
			tips++
			reporter := 0
			for _, msg := range msgs {
				if msg.Author == hotline.AuthorReporter {
					reporter++
				}
				for _, mk := range markerRE.FindAllString(msg.Body, -1) {
					stored[mk]++
				}
			}
			if reporter == 0 {
				empty++
			}
		}
		if next == nil || len(page) == 0 {
			break
		}
		after = next
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var lost, dup, refusedStored []string
	for mk, what := range r.acked {
		switch n := stored[mk]; {
		case n == 0:
			lost = append(lost, what+" "+mk)
		case n > 1:
			dup = append(dup, fmt.Sprintf("%s %s ×%d", what, mk, n))
		}
	}
	for mk, what := range r.uncertain {
		if n := stored[mk]; n > 1 {
			dup = append(dup, fmt.Sprintf("%s (answer lost) %s ×%d", what, mk, n))
		}
	}
	for mk, what := range r.refused {
		if n := stored[mk]; n > 0 {
			refusedStored = append(refusedStored, fmt.Sprintf("%s %s ×%d", what, mk, n))
		}
	}
	known := len(r.acked) + len(r.uncertain) + len(r.refused)
	for mk, n := range stored {
		if _, a := r.acked[mk]; !a {
			if _, u := r.uncertain[mk]; !u {
				if _, f := r.refused[mk]; !f {
					dup = append(dup, fmt.Sprintf("never sent %s ×%d", mk, n))
				}
			}
		}
	}
	var noReceipt []string
	for _, p := range r.pages {
		if p.receipt == "" && (stored[p.report] > 0 || !p.sendRefused) {
			noReceipt = append(noReceipt, fmt.Sprintf("page %d.%d (report %s stored %d times)", p.n, p.i, p.report, stored[p.report]))
		}
	}
	sort.Strings(lost)
	sort.Strings(dup)
	keys := make([]string, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cs []string
	for _, k := range keys {
		cs = append(cs, fmt.Sprintf("%s %d", k, r.counts[k]))
	}
	t.Logf("%d rounds of %s; %d tips stored; acknowledged: %s; answer lost: %d; markers written: %d; web pages that sent a report: %d; duplicates: %d; losses: %d; pages without receipt: %d; refused but stored: %d; tips without reporter text: %d",
		rounds, sig, tips, strings.Join(cs, ", "), len(r.uncertain), known, len(r.pages), len(dup), len(lost), len(noReceipt), len(refusedStored), empty)
	for _, n := range r.notes {
		t.Logf("seen: %s", n)
	}
	if len(lost) > 0 {
		t.Errorf("%d acknowledged messages lost: %s", len(lost), head(lost))
	}
	if len(dup) > 0 {
		t.Errorf("%d messages stored more than once: %s", len(dup), head(dup))
	}
	if len(refusedStored) > 0 {
		t.Errorf("%d refused messages stored anyway: %s", len(refusedStored), head(refusedStored))
	}
	if len(noReceipt) > 0 {
		t.Errorf("%d web pages sent a report and hold no receipt: %s", len(noReceipt), head(noReceipt))
	}
	if empty > 0 {
		t.Errorf("%d tips have no reporter message (half-done)", empty)
	}
	if len(r.acked) == 0 {
		t.Errorf("nothing was acknowledged")
	}
	if t.Failed() {
		t.Logf("the children's log:\n%s", tail(r.logs.String(), 6000))
	}
}

func head(s []string) string {
	if len(s) > 12 {
		return strings.Join(s[:12], "; ") + fmt.Sprintf("; … (%d more)", len(s)-12)
	}
	return strings.Join(s, "; ")
}
