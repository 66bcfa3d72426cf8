package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/sim/alertsim"
	"hotline/internal/store"
)

// Environment of TestAlertNodeChild, a server process of the leader-kill
// benchmark.
const (
	envAlertDir  = "HOTLINE_ALERTBENCH_DIR"
	envAlertAddr = "HOTLINE_ALERTBENCH_ADDR"
	envAlertDB   = "HOTLINE_ALERTBENCH_DB"
	envAlertSim  = "HOTLINE_ALERTBENCH_SIM"
)

// seedFirstAlert makes the school of the benchmarks: wang first on call at
// every hour, reached over a DingTalk robot of his own at the simulator.
func seedFirstAlert(tb testing.TB, m *Main, sim *alertsim.Sim) alert.Target {
	tb.Helper()
	ctx := context.Background()
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		tb.Fatal(err)
	}
	wang, err := m.DB.CounselorByUsername(ctx, "wang")
	if err != nil {
		tb.Fatal(err)
	}
	robot := sim.NewDingTalkRobot()
	m.Staff.AlertKinds = map[alert.Kind]bool{alert.DingTalk: true}
	if _, err := m.Staff.LinkTargetOf(ctx, store.TargetOwner{CounselorID: wang.ID}, robot.Kind, robot.Address, robot.Secret); err != nil {
		tb.Fatal(err)
	}
	school, err := m.DB.SchoolByCode(ctx, demoSchool)
	if err != nil {
		tb.Fatal(err)
	}
	err = m.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.AddRotaSlot(&store.RotaSlot{SchoolID: school.ID, CounselorID: wang.ID, Position: 1, Weekdays: 0x7f, StartHour: 0, EndHour: 24})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return robot
}

// fileUrgent files an urgent report and returns when it committed and its
// alias.
func fileUrgent(tb testing.TB, m *Main, i int) (time.Time, hotline.Alias) {
	tb.Helper()
	ctx := context.Background()
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: demoSchool, Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
		Category: hotline.CategoryPhysical, Lang: hotline.LangZH, DangerNow: true, Texts: []string{fmt.Sprintf("操场上有人在打人，第 %d 次。", i)}})
	committed := time.Now()
	if err != nil {
		tb.Fatal(err)
	}
	tip, err := m.DB.TipByUID(ctx, sub.TipUID)
	if err != nil {
		tb.Fatal(err)
	}
	return committed, tip.Alias
}

// waitAlert waits (a minute at most: a hang guard) for the simulator to
// receive the alert about alias at target and returns when it did.
func waitAlert(tb testing.TB, sim *alertsim.Sim, target alert.Target, alias hotline.Alias) time.Time {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := sim.Wait(ctx, func(r alertsim.Request) bool {
		return r.Kind == target.Kind && r.Target == target.Address && strings.Contains(r.Text, "「"+alias.ZH+"」")
	})
	if err != nil {
		tb.Fatalf("no alert about %s: %v", alias.ZH, err)
	}
	return r.Time
}

func reportLatencies(b *testing.B, lat []time.Duration, prefix string) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, prefix+"p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, prefix+"max-ms")
}

// BenchmarkUrgentFirstAlert measures the time from an urgent report's
// commit to the first alert request at the simulated vendor (a DingTalk
// robot of the first on call), one report at a time, on one SQLite node
// and one PostgreSQL node: the report's change wakes the scheduler, whose
// pass starts the ladder, records the rung and its sends, and sends. The
// goal is a p99 within 30 s; it also states the scheduler's own mean pass
// time.
//
//	go test ./cmd/hotline -run '^$' -bench UrgentFirstAlert$ -benchtime 200x
func BenchmarkUrgentFirstAlert(b *testing.B) {
	for _, tc := range []struct {
		name string
		pg   bool
	}{{"sqlite", false}, {"postgres", true}} {
		b.Run(tc.name, func(b *testing.B) {
			sim, err := alertsim.Start("127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer sim.Close()
			dir := b.TempDir()
			dsn := filepath.Join(dir, "hotline.db")
			if tc.pg {
				dsn = pgtest.NewDatabase(b)
			}
			opts := func(m *Main) {
				m.Config.Database = dsn
				m.Config.Alerts.DingTalkURL = sim.URL()
			}
			seed := MustOpenMain(b, withDataDir(dir), opts)
			robot := seedFirstAlert(b, seed, sim)
			seed.Close()
			m := MustRunMain(b, withDataDir(dir), opts)
			defer m.Close()
			// The demo's own urgent sample report is alerted first.
			time.Sleep(time.Second)
			before := m.Scheduler.Stats()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				committed, alias := fileUrgent(b, m, i)
				got := waitAlert(b, sim, robot, alias)
				lat = append(lat, got.Sub(committed))
			}
			b.StopTimer()
			after := m.Scheduler.Stats()
			reportLatencies(b, lat, "first-alert-")
			if n := after.Passes - before.Passes; n > 0 {
				b.ReportMetric(float64((after.TotalPass-before.TotalPass).Microseconds())/1000/float64(n), "pass-ms")
			}
		})
	}
}

// alertNode is a server process of the leader-kill benchmark.
type alertNode struct {
	addr string
	logs *syncBuffer
	cmd  *exec.Cmd
}

func (n *alertNode) leads() bool {
	s := n.logs.String()
	i := strings.LastIndex(s, "cluster: this node leads")
	return i >= 0 && strings.LastIndex(s, "cluster: this node lost the lead") < i
}

func startAlertNode(b *testing.B, n *alertNode, dir, dsn, simURL string) {
	b.Helper()
	n.logs = &syncBuffer{}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAlertNodeChild$", "-test.v=false")
	cmd.Env = append(os.Environ(), pgtest.EnvEngine+"=postgres", envAlertDir+"="+dir, envAlertAddr+"="+n.addr, envAlertDB+"="+dsn, envAlertSim+"="+simURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = n.logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := sc.Scan() && sc.Text() == "READY"
		ready <- ok
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("node did not start; its log:\n%s", tail(n.logs.String(), 3000))
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		b.Fatalf("node did not start in 90 s; its log:\n%s", tail(n.logs.String(), 3000))
	}
	n.cmd = cmd
}

// BenchmarkUrgentFirstAlertLeaderKill measures the same across a leader's
// death on PostgreSQL: three server processes share one database; for
// each report the node leading (running the scheduler) is killed with
// SIGKILL, the report is committed at once, and the time until its first
// alert reaches the simulator is counted: the lock's release, another
// node's bid (every second), its scheduler's first pass, the send. The
// killed node is started again before the next report.
//
//	go test ./cmd/hotline -run '^$' -bench UrgentFirstAlertLeaderKill -benchtime 10x
func BenchmarkUrgentFirstAlertLeaderKill(b *testing.B) {
	if pgtest.Engine() == "sqlite" && os.Getenv(pgtest.EnvDSN) == "" && os.Getenv("CI") == "" {
		b.Skip("needs PostgreSQL (" + pgtest.EnvDSN + ")")
	}
	sim, err := alertsim.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	dir := b.TempDir()
	dsn := pgtest.NewDatabase(b)
	opts := func(m *Main) {
		m.Config.Database = dsn
		m.Config.Alerts.DingTalkURL = sim.URL()
	}
	// The benchmark's own handle files the reports; it never runs, so it
	// never leads.
	m := MustOpenMain(b, withDataDir(dir), opts)
	defer m.Close()
	robot := seedFirstAlert(b, m, sim)
	nodes := make([]*alertNode, 3)
	for i := range nodes {
		nodes[i] = &alertNode{addr: freeAddrB(b)}
		startAlertNode(b, nodes[i], dir, dsn, sim.URL())
	}
	defer func() {
		for _, n := range nodes {
			if n.cmd != nil {
				n.cmd.Process.Signal(syscall.SIGTERM)
				n.cmd.Wait()
			}
		}
	}()
	leader := func() *alertNode {
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			for _, n := range nodes {
				if n.cmd != nil && n.leads() {
					return n
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		b.Fatal("no node leads")
		return nil
	}
	// The demo's urgent sample report is alerted first, by whoever leads.
	time.Sleep(2 * time.Second)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		l := leader()
		b.StartTimer()
		l.cmd.Process.Kill()
		l.cmd.Wait()
		l.cmd = nil
		committed, alias := fileUrgent(b, m, i)
		got := waitAlert(b, sim, robot, alias)
		lat = append(lat, got.Sub(committed))
		b.StopTimer()
		startAlertNode(b, l, dir, dsn, sim.URL())
		b.StartTimer()
	}
	b.StopTimer()
	reportLatencies(b, lat, "first-alert-")
}

func freeAddrB(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestAlertNodeChild is a server process of the leader-kill benchmark: it
// runs `serve` on the benchmark's database with DingTalk at the
// simulator, logging to stderr (the parent reads who leads).
func TestAlertNodeChild(t *testing.T) {
	dir := os.Getenv(envAlertDir)
	if dir == "" {
		t.Skip("only runs as a child of BenchmarkUrgentFirstAlertLeaderKill")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	m := NewMain()
	m.Config.DataDir = dir
	m.Config.Addr = os.Getenv(envAlertAddr)
	m.Config.Database = os.Getenv(envAlertDB)
	m.Config.Alerts.DingTalkURL = os.Getenv(envAlertSim)
	m.Argon = cheapArgon
	m.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := runServer(ctx, m, func() { os.Stdout.WriteString("READY\n") }); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}
