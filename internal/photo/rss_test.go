package photo

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The six-JPEG attack of issue 13: six 40 MP progressive CMYK JPEGs of
// about 300 KB each, sent at once (as Telegram documents from six chats).
// BenchmarkPhotoAttackRSS runs it in a child process, so the figures are
// the process's own resident memory and not the test binary's history:
//
//	go test -run '^$' -bench PhotoAttackRSS -benchtime 1x ./internal/photo/
//
// Scenarios:
//   - attack: the six files through Clean (refused from the header);
//   - admissible: six progressive CMYK JPEGs just under the per-image
//     limit, which are decoded, one budget's worth at a time;
//   - admissible-nofree: the same without handing memory back to the OS
//     after the burst, to show why Clean does;
//   - unguarded (only with HOTLINE_PHOTO_ATTACK_UNGUARDED=1, it needs
//     about 7 GiB): the attack files decoded with no header check and no
//     budget, as Clean did before.
const attackChildEnv = "HOTLINE_PHOTO_ATTACK_CHILD"

func BenchmarkPhotoAttackRSS(b *testing.B) {
	scenarios := []string{"attack", "admissible", "admissible-nofree"}
	if os.Getenv("HOTLINE_PHOTO_ATTACK_UNGUARDED") == "1" {
		scenarios = append(scenarios, "unguarded")
	}
	for _, sc := range scenarios {
		b.Run(sc, func(b *testing.B) {
			var r attackResult
			for range b.N {
				cmd := exec.Command(os.Args[0], "-test.run=^TestPhotoAttackChild$", "-test.v")
				cmd.Env = append(os.Environ(), attackChildEnv+"="+sc)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				if r, err = parseAttackResult(out); err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
			}
			b.ReportMetric(r.idle, "idle-MiB")
			b.ReportMetric(r.peak-r.idle, "peak-above-idle-MiB")
			b.ReportMetric(r.after-r.idle, "after-above-idle-MiB")
			b.ReportMetric(r.refused, "refused")
			b.Logf("%s: idle %.0f MiB, peak %.0f MiB (+%.0f), after %.0f MiB (+%.0f), %v refused, %.1fs",
				sc, r.idle, r.peak, r.peak-r.idle, r.after, r.after-r.idle, r.refused, r.seconds)
		})
	}
}

type attackResult struct{ idle, peak, after, refused, seconds float64 }

func parseAttackResult(out []byte) (attackResult, error) {
	var r attackResult
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "ATTACK "); i >= 0 {
			_, err := fmt.Sscanf(line[i:], "ATTACK idle=%f peak=%f after=%f refused=%f seconds=%f", &r.idle, &r.peak, &r.after, &r.refused, &r.seconds)
			return r, err
		}
	}
	return r, fmt.Errorf("no ATTACK line from the child")
}

// TestPhotoAttackChild is the child of BenchmarkPhotoAttackRSS; it does
// nothing in an ordinary test run.
func TestPhotoAttackChild(t *testing.T) {
	sc := os.Getenv(attackChildEnv)
	if sc == "" {
		t.Skip("runs only as the child of BenchmarkPhotoAttackRSS")
	}
	var f flatJPEG
	switch sc {
	case "attack", "unguarded":
		f = flatJPEG{w: 7300, h: 5470, comps: 4, progressive: true} // 39.9 MP
	case "admissible", "admissible-nofree":
		// The largest progressive CMYK image one photo may be: about 31.7
		// bytes per pixel against three quarters of 256 MiB.
		f = flatJPEG{w: 2560, h: 2400, comps: 4, progressive: true}
		if sc == "admissible-nofree" {
			freeAfterBytes = math.MaxInt64
		}
	default:
		t.Fatalf("unknown scenario %q", sc)
	}
	one := f.bytes()
	files := make([][]byte, 6)
	for i := range files {
		files[i] = bytes.Clone(one) // six separate downloads
	}
	if h, err := inspectPhoto(one); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("%dx%d, %d KB, estimated %d MiB, limit %d MiB", f.w, f.h, len(one)>>10, h.decodeCost()>>20, photoImageLimit()>>20)
	}
	runtime.GC()
	debug.FreeOSMemory()
	idle := procStatusMiB(t, "VmRSS")
	// Reset VmHWM to the current RSS, so it records this burst's peak.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for _, data := range files {
		wg.Go(func() {
			var err error
			if sc == "unguarded" {
				h, _ := scanJPEG(data)
				_, err = decodeClean(data, h)
			} else {
				_, err = Clean(data)
			}
			if err != nil {
				if err != ErrTooCostly {
					t.Error(err)
				}
				mu.Lock()
				refused++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	peak := procStatusMiB(t, "VmHWM")
	files = nil
	// Let the hand-back to the OS, if any, finish; then a quiet second,
	// as a server would have between bursts.
	for photoBudget.freeRunning.Load() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	after := procStatusMiB(t, "VmRSS")
	fmt.Printf("ATTACK idle=%.1f peak=%.1f after=%.1f refused=%d seconds=%.2f\n", idle, peak, after, refused, seconds)
}

// procStatusMiB reads one kB field of /proc/self/status, in MiB.
func procStatusMiB(t *testing.T, field string) float64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb / 1024
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
