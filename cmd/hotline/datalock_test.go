package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"hotline/internal/pgtest"
)

// A second server on one SQLite data directory refuses to start and says
// who holds it (pid, start time); once the first stops, the next starts.
// On PostgreSQL several nodes share one database by design: no lock.
func TestOneServerPerSQLiteFile(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("several nodes share a PostgreSQL database by design (TestManyNodes)")
	}
	t.Parallel()
	dir := t.TempDir()
	m := MustRunMain(t, withDataDir(dir))
	code, _, errs := runCLI(t, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if code != 1 {
		t.Fatalf("second serve: exit %d (%s), want 1", code, errs)
	}
	for _, want := range []string{"another hotline server is using this database", fmt.Sprintf("pid %d", os.Getpid()), "started 20", "stop that one first"} {
		if !strings.Contains(errs, want) {
			t.Errorf("second serve said %q, want %q", errs, want)
		}
	}
	// A demo on the same directory is refused before it seeds anything.
	if code, out, errs := runCLI(t, "demo", "--data", dir, "--addr", "127.0.0.1:0"); code != 1 || strings.Contains(out, "creating the demo school") {
		t.Errorf("demo beside a server: %d %q %q", code, out, errs)
	}
	// Administrative commands still work beside the server.
	if code, _, errs := runCLI(t, "ledger", "verify", "--data", dir); code != 0 {
		t.Errorf("ledger verify beside a server: %d %s", code, errs)
	}
	m.Close()
	_, stop := serveCLI(t, "serve", "--data", dir)
	stop()
}
