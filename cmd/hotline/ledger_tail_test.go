package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// tailCLI runs the program as `hotline args…` and returns its exit code,
// stdout and stderr.
func tailCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errs)
	return code, out.String(), errs.String()
}

// tailDB opens a data directory's database for direct access.
func tailDB(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(defaultDatabase(dir))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// tailCopy copies a closed data directory (database, WAL, server key).
func tailCopy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyDatabase(t, src, dst)
	return dst
}

// cutTail deletes the ledger's events from seq on, as someone hiding the
// latest case events would.
func cutTail(t *testing.T, dir string, from int64) {
	t.Helper()
	db := tailDB(t, dir)
	defer db.Close()
	if _, err := db.Writer().Exec(`DELETE FROM ledger WHERE seq >= ?`, from); err != nil {
		t.Fatal(err)
	}
}

// TestLedgerTailDeletion: deleting the last events of the ledger is caught
// by `hotline ledger verify` and `export` when a recorded head (every
// store.HeadEvery events, or the point a previous verify reached) covered
// them, and otherwise reported as a warning with the count of events no
// head vouches for.
func TestLedgerTailDeletion(t *testing.T) {
	base := t.TempDir()
	if code, out, errs := tailCLI(t, "init", "--data", base); code != 0 {
		t.Fatalf("init: %d %s %s", code, out, errs)
	}
	db := tailDB(t, base)
	n := store.HeadEvery + store.HeadEvery/2 // a checkpoint at HeadEvery, half as many after it
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.AppendEvent(&hotline.Event{Kind: hotline.EventReceived, Alias: "蓝狐", Detail: fmt.Sprintf("n=%d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	head := int64(store.HeadEvery)

	t.Run("cut after the newest head warns with the count", func(t *testing.T) {
		dir := tailCopy(t, base)
		cutTail(t, dir, int64(n-9)) // the last ten events
		left := int64(n - 10)
		wantWarn := fmt.Sprintf("%d events after the newest recorded head (event %d) cannot be vouched for", left-head, head)
		// Export first: it reads only, while verify records how far it
		// verified, which vouches for the rest from then on.
		code, out, errs := tailCLI(t, "ledger", "export", "--data", dir)
		if code != 0 || strings.Count(out, "\n") != int(left) || !strings.Contains(errs, wantWarn) {
			t.Fatalf("export: exit %d, %d lines, want 0 and %d with %q:\n%s", code, strings.Count(out, "\n"), left, wantWarn, errs)
		}
		code, out, errs = tailCLI(t, "ledger", "verify", "--data", dir)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("ledger OK: %d events", left)) || !strings.Contains(out, wantWarn) {
			t.Fatalf("verify: exit %d, want 0 with %q:\n%s%s", code, wantWarn, out, errs)
		}
	})
	t.Run("cut into a head fails", func(t *testing.T) {
		dir := tailCopy(t, base)
		cutTail(t, dir, head-5)
		code, out, errs := tailCLI(t, "ledger", "verify", "--data", dir)
		if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, fmt.Sprintf("event %d", head)) || !strings.Contains(out, "truncated") {
			t.Fatalf("verify: exit %d, want 1 naming the head at %d:\n%s%s", code, head, out, errs)
		}
		code, _, errs = tailCLI(t, "ledger", "export", "--data", dir)
		if code != 1 || !strings.Contains(errs, "BROKEN") || !strings.Contains(errs, "truncated") {
			t.Fatalf("export: exit %d, want 1:\n%s", code, errs)
		}
	})
	t.Run("a verified tail is vouched for", func(t *testing.T) {
		dir := tailCopy(t, base)
		// The first verify vouches for the events after the head from
		// now on: cutting them afterwards fails.
		if code, out, _ := tailCLI(t, "ledger", "verify", "--data", dir); code != 0 || !strings.Contains(out, "WARNING") {
			t.Fatalf("first verify: exit %d:\n%s", code, out)
		}
		if code, out, _ := tailCLI(t, "ledger", "verify", "--data", dir); code != 0 || strings.Contains(out, "WARNING") || !strings.Contains(out, "every event is vouched for") {
			t.Fatalf("second verify: exit %d:\n%s", code, out)
		}
		cutTail(t, dir, int64(n))
		code, out, errs := tailCLI(t, "ledger", "verify", "--data", dir)
		if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, fmt.Sprintf("event %d", n)) {
			t.Fatalf("verify after cutting the verified last event: exit %d:\n%s%s", code, out, errs)
		}
	})
}
