package main

import (
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// The production binary links no test code: not testing, not
// net/http/httptest, no package (ours or anyone's) named …test, such as the
// simulators' test wrappers, pgtest or mailtest. What hotline bench and the
// demo simulate comes from the product packages under internal/sim.
func TestBinaryLinksNoTestCode(t *testing.T) {
	goCmd, err := exec.LookPath("go") // go test puts its own go first in PATH
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no go command to list the binary's packages: %v", err)
		}
		t.Skip("no go command to list the binary's packages")
	}
	deps := func(pkgs ...string) []string {
		t.Helper()
		out, err := exec.Command(goCmd, append([]string{"list", "-deps"}, pkgs...)...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("go list -deps %s: %v\n%s", strings.Join(pkgs, " "), err, stderr)
		}
		return strings.Fields(string(out))
	}
	// Every Go HTTP server links these; among them are two hooks the
	// standard library keeps for go test (internal/testlog from os,
	// internal/synctest from sync). They are not test code of ours.
	base := deps("runtime", "os", "sync", "net/http")
	testCode := func(pkgs []string) []string {
		var bad []string
		for _, p := range pkgs {
			if slices.Contains(base, p) {
				continue
			}
			last := path.Base(p)
			if p == "testing" || strings.HasPrefix(p, "testing/") || strings.HasPrefix(last, "test") || strings.HasSuffix(last, "test") {
				bad = append(bad, p)
			}
		}
		return bad
	}
	// The check itself: a test wrapper is test code, and so is what it links.
	if got := testCode(deps("hotline/internal/telegramtest")); !slices.Contains(got, "testing") || !slices.Contains(got, "hotline/internal/telegramtest") {
		t.Fatalf("the check misses test code: got %v for internal/telegramtest, want testing and the wrapper", got)
	}
	if got := testCode(deps(".")); len(got) > 0 {
		t.Fatalf("the hotline binary links test code: got %v, want none", got)
	}
}
