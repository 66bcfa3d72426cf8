package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/staff"
)

func TestBackupRestoresWithTheServerKey(t *testing.T) {
	if pgtest.OnPostgres() {
		// hotline backup copies a SQLite database; on PostgreSQL it names
		// pg_dump (TestCLIOnPostgres), and TestPgDumpRestoresWithTheServerKey
		// follows that advice.
		t.Skip("SQLite backup")
	}
	t.Parallel()
	dir := t.TempDir()
	m := foundationMain(t, dir)
	ctx := context.Background()
	cs, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"备份里的报告 CANARY-BK-1"}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	var stdout bytes.Buffer
	// Taken while the server runs.
	var stderr bytes.Buffer
	if code := run(ctx, []string{"backup", "--data", dir, "--out", out}, nil, &stdout, &stderr); code != 0 {
		t.Log(stderr.String())
		t.Fatalf("backup exit %d", code)
	}
	if code := run(ctx, []string{"backup", "--data", dir, "--out", out}, nil, io.Discard, io.Discard); code == 0 {
		t.Fatal("backup overwrote an existing file")
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("CANARY-BK-1")) || bytes.Contains(data, []byte(sub.Receipt)) {
		t.Fatal("backup holds plaintext")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", fi.Mode().Perm())
	}
	// Restore: the backup as the database of a new data dir, with the key.
	restored := t.TempDir()
	key, _ := os.ReadFile(filepath.Join(dir, "server.key"))
	os.WriteFile(filepath.Join(restored, "server.key"), key, 0o600)
	os.WriteFile(filepath.Join(restored, "hotline.db"), data, 0o600)
	m2 := foundationMain(t, restored)
	sess, err := m2.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	_, msgs, err := m2.Triage.Thread(ctx, sess, sub.TipUID)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "备份里的报告 CANARY-BK-1" {
		t.Fatalf("restored thread: %v %v", msgs, err)
	}
	// The receipt still finds the thread: its HMAC needs the same server key.
	if _, _, err := m2.Intake.ThreadByReceipt(ctx, sub.Receipt); err != nil {
		t.Fatal(err)
	}
	if res, err := m2.DB.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("restored ledger: %+v %v", res, err)
	}
}

// TestPgDumpRestoresWithTheServerKey is the backup of a district on
// PostgreSQL as the README says to take it: pg_dump while the server runs.
// The dump holds no plaintext; restored into a new database it opens with
// the same server key.
func TestPgDumpRestoresWithTheServerKey(t *testing.T) {
	if !pgtest.OnPostgres() {
		t.Skip("PostgreSQL pass only")
	}
	t.Parallel()
	dir := t.TempDir()
	m := foundationMain(t, dir)
	ctx := context.Background()
	cs, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"备份里的报告 CANARY-BK-1"}})
	if err != nil {
		t.Fatal(err)
	}
	pgDump, err := pgtest.Tool("pg_dump")
	if err != nil {
		t.Fatal(err)
	}
	pgRestore, err := pgtest.Tool("pg_restore")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "hotline.dump")
	if b, err := exec.Command(pgDump, "--format=custom", "--file="+out, defaultDatabase(dir)).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v: %s", err, b)
	}
	// The plain form too: the custom format compresses, which would hide
	// plaintext from a byte scan.
	plain, err := exec.Command(pgDump, "--format=plain", defaultDatabase(dir)).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	for _, c := range []string{"CANARY-BK-1", sub.Receipt, strings.ReplaceAll(sub.Receipt, "-", ""), cs.AdminPassword} {
		if strings.Contains(string(plain), c) {
			t.Fatalf("the dump holds %q", c)
		}
	}
	// Restore: the dump into a new database, beside the key.
	restored := t.TempDir()
	key, _ := os.ReadFile(filepath.Join(dir, "server.key"))
	os.WriteFile(filepath.Join(restored, "server.key"), key, 0o600)
	if b, err := exec.Command(pgRestore, "--no-owner", "--dbname="+emptyDatabase(t, restored), out).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v: %s", err, b)
	}
	m2 := foundationMain(t, restored)
	sess, err := m2.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	_, msgs, err := m2.Triage.Thread(ctx, sess, sub.TipUID)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "备份里的报告 CANARY-BK-1" {
		t.Fatalf("restored thread: %v %v", msgs, err)
	}
	if _, _, err := m2.Intake.ThreadByReceipt(ctx, sub.Receipt); err != nil {
		t.Fatal(err)
	}
	if res, err := m2.DB.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("restored ledger: %+v %v", res, err)
	}
	// New writes go on in the restored database: its identities continue
	// after the restored rows.
	if _, err := m2.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"恢复以后的新报告"}}); err != nil {
		t.Fatal(err)
	}
}
