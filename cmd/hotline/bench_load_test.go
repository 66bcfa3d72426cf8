package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchSaysWhetherItIsComparable: the summary names the load at the
// start, and calls a run above 1.5 per core not comparable.
func TestBenchSaysWhetherItIsComparable(t *testing.T) {
	for _, c := range []struct {
		load float64
		want string
	}{
		{0.4, "0.40 (0.20 per core): comparable"},
		{3.0, "3.00 (1.50 per core): comparable"},
		{3.2, "NOT comparable"},
		{-1, "unknown: not comparable"},
	} {
		s := &benchSummary{Target: "test", CPUs: 2, LoadAtStart: c.load, Comparable: comparableLoad(c.load, 2)}
		var out bytes.Buffer
		s.print(&out)
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("load %.1f: got\n%s\nwant %q in it", c.load, out.String(), c.want)
		}
	}
	if l := loadAverage(); l < 0 {
		t.Logf("no /proc/loadavg here: %v", l)
	}
}
