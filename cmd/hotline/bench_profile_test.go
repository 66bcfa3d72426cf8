package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hotline bench --cpuprofile and --blockprofile write profiles that go
// tool pprof reads (gzipped protocol buffers, not empty), and
// a profile that cannot be written is said before the run, not after it.
func TestBenchProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, block := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "block.pprof")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--submitters", "3", "--duration", "2s", "--cpuprofile", cpu, "--blockprofile", block}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, p := range []string{cpu, block, block + ".mutex"} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatalf("profile not written: %v", err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			t.Fatalf("%s is not a gzipped profile: %v", filepath.Base(p), err)
		}
		data, err := io.ReadAll(zr)
		f.Close()
		if err != nil || len(data) == 0 {
			t.Fatalf("%s: got %d bytes (%v), want a profile", filepath.Base(p), len(data), err)
		}
	}

	out.Reset()
	errb.Reset()
	bad := filepath.Join(dir, "missing", "cpu.pprof")
	if code := run(context.Background(), []string{"bench", "--submitters", "1", "--duration", "1s", "--cpuprofile", bad}, strings.NewReader(""), &out, &errb); code == 0 {
		t.Fatalf("an unwritable --cpuprofile: exit 0, want a failure; stderr %q", errb.String())
	}
	if !strings.Contains(errb.String(), "--cpuprofile") {
		t.Errorf("the failure does not name the flag: %q", errb.String())
	}
	if strings.Contains(out.String(), "reports") {
		t.Errorf("the run went ahead without its profile:\n%s", out.String())
	}
}
