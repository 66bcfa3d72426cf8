package intake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/internal/hotline"
)

// BenchmarkIntakeCPU files tips as BenchmarkDurableIntake does and
// reports the CPU they cost, which a shared machine's load moves much
// less than their wall time: this process's (getrusage) and, on
// PostgreSQL with the server on this machine (HOTLINE_BENCH_PGDATA names
// its data directory), the server's backends' (from /proc), per tip.
func BenchmarkIntakeCPU(b *testing.B) {
	for _, ch := range []hotline.Channel{hotline.ChannelTelegram, hotline.ChannelWebchat} {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("channel=%s/submitters=%d", ch, n), func(b *testing.B) {
				e := newEnv(b)
				submit := dialogSubmitter(e, ch)
				sub := func(i int) error {
					_, err := e.intake.Submit(context.Background(), submit(i))
					return err
				}
				if err := sub(0); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				c0, s0 := processCPU(), serverCPU()
				before := e.db.Stats()
				d := parallel(b, n, b.N, func(i int) error { return sub(i + 1) })
				after := e.db.Stats()
				c1, s1 := processCPU(), serverCPU()
				b.StopTimer()
				per := func(t time.Duration) float64 { return float64(t.Microseconds()) / float64(b.N) }
				b.ReportMetric(per(d), "wall-µs/tip")
				b.ReportMetric(per(c1-c0), "cpu-µs/tip")
				if s0 >= 0 && s1 >= 0 {
					b.ReportMetric(per(s1-s0), "server-cpu-µs/tip")
				}
				b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(max(1, after.Commits-before.Commits)), "tips/commit")
			})
		}
	}
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU is the user and system time of the PostgreSQL server's
// processes (the postmaster's children), or -1 when unknown.
func serverCPU() time.Duration {
	dir := os.Getenv("HOTLINE_BENCH_PGDATA")
	if dir == "" {
		return -1
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return -1
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		st, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// After the command's closing parenthesis: state, ppid, …;
		// utime and stime are the 14th and 15th fields.
		i := strings.LastIndexByte(string(st), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(st)[i+1:])
		if len(f) < 13 || f[1] != master {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
