package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"hotline/internal/pgtest"
	"hotline/internal/store"
)

// TestCLIOnPostgres drives the administrative commands against
// PostgreSQL through --database and HOTLINE_DATABASE: migrate (twice),
// school add, a server's report, ledger verify and export, and backup,
// which names pg_dump instead of copying.
func TestCLIOnPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	dir := t.TempDir()
	ctx := context.Background()
	cli := func(env map[string]string, args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		e := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
		return runWith(ctx, args, e), out.String(), errb.String()
	}
	// Without a key migrate refuses and says what to run; init makes it.
	if code, _, errs := cli(nil, "migrate", "--data", dir, "--database", dsn); code != 1 || !strings.Contains(errs, "hotline init") {
		t.Fatalf("migrate without a key: %d %q", code, errs)
	}
	if code, out, errs := cli(nil, "init", "--data", dir, "--database", dsn); code != 0 || !strings.Contains(out, "fingerprint") {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	for range 2 {
		if code, out, errs := cli(nil, "migrate", "--data", dir, "--database", dsn); code != 0 || !strings.Contains(out, "(postgres)") {
			t.Fatalf("migrate: %d %q %q", code, out, errs)
		}
	}
	env := map[string]string{"HOTLINE_DATABASE": dsn}
	if code, out, errs := cli(env, "district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"); code != 0 {
		t.Fatalf("district add: %d %q %q", code, out, errs)
	}
	if code, out, errs := cli(env, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区"); code != 0 {
		t.Fatalf("school add: %d %q %q", code, out, errs)
	}
	// The school is in PostgreSQL, not in a SQLite file in the data dir.
	if _, err := os.Stat(dir + "/hotline.db"); !os.IsNotExist(err) {
		t.Fatalf("a SQLite file was created: %v", err)
	}
	db, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.SchoolByCode(ctx, "no3")
	db.Close()
	if err != nil || s.Name != "第三中学" {
		t.Fatalf("school in PostgreSQL: %+v %v", s, err)
	}
	if code, out, errs := cli(env, "ledger", "verify", "--data", dir); code != 0 || !strings.Contains(out, "ledger OK") {
		t.Fatalf("ledger verify: %d %q %q", code, out, errs)
	}
	if code, out, errs := cli(env, "ledger", "export", "--data", dir); code != 0 || !strings.Contains(errs, "exported") {
		t.Fatalf("ledger export: %d %q %q", code, out, errs)
	}
	out := t.TempDir() + "/b.db"
	if code, _, errs := cli(env, "backup", "--data", dir, "--out", out); code != 1 || !strings.Contains(errs, "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %d %q", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("backup wrote a file")
	}
}
