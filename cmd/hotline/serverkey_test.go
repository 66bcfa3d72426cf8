package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// TestRestoreWithoutTheKeyIsRefused is the district IT person's restore: a
// backup put into a fresh data directory. Without the server key serve and
// every administrative command refuse, saying where the key was expected
// and how to restore it, and create no key; a different key is refused
// the same way; with the kept key, hotline key fingerprint says they
// match and a reporter's receipt opens their thread again.
func TestRestoreWithoutTheKeyIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"init", "--data", dir},
		{"district", "add", "--data", dir, "--name", "海淀区", "--officer", "haidian-officer"},
		{"school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区"},
	} {
		if code, out, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errs)
		}
	}
	m := MustRunMain(t, withDataDir(dir))
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"恢复以后还能看到这条 RESTORE-1"}})
	if err != nil {
		t.Fatal(err)
	}
	fp := m.Vault.Fingerprint()
	restored := t.TempDir()
	if pgtest.OnPostgres() {
		// hotline backup names pg_dump on PostgreSQL; a copy of the
		// database stands for its restore.
		m.Close()
		copyDatabase(t, dir, restored)
	} else {
		backup := filepath.Join(t.TempDir(), "backup.db")
		code, out, errs := runCLI(t, "backup", "--data", dir, "--out", backup)
		if code != 0 {
			t.Fatalf("backup: %d %s", code, errs)
		}
		for _, want := range []string{fp, "NOT in the backup", "服务器密钥不在备份中"} {
			if !strings.Contains(out, want) {
				t.Errorf("backup printed %q, want it to say %q", out, want)
			}
		}
		m.Close()
		data, err := os.ReadFile(backup)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(restored, "hotline.db"), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keyFile := filepath.Join(restored, "server.key")
	kept := filepath.Join(t.TempDir(), "kept-server.key")
	if data, err := os.ReadFile(filepath.Join(dir, "server.key")); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(kept, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// No key: refused, and nothing made.
	missing := []string{
		"the server key is missing: not starting", fp,
		"HOTLINE_SERVER_KEY: not set", keyFile + ": no such file",
		"install -m 600 /path/to/kept/server.key " + keyFile,
		"hotline key fingerprint --file",
		"Do not run hotline init",
	}
	for _, args := range [][]string{
		{"serve", "--data", restored, "--addr", "127.0.0.1:0"},
		{"demo", "--data", restored, "--addr", "127.0.0.1:0"},
		{"init", "--data", restored},
		{"school", "add", "--data", restored, "--name", "第五中学", "--code", "no5", "--district", "海淀区"},
		{"ledger", "verify", "--data", restored},
		{"export", "--data", restored, "--format", "csv"},
		{"migrate", "--data", restored},
	} {
		code, out, errs := runCLI(t, args...)
		if code != 1 {
			t.Errorf("%s without the key: exit %d (%s), want 1", args[0], code, out)
		}
		for _, want := range missing {
			if !strings.Contains(errs, want) {
				t.Errorf("%s without the key said %q, want it to say %q", args[0], errs, want)
			}
		}
		if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s made a server key: %v", args[0], err)
		}
	}
	if code, out, _ := runCLI(t, "key", "fingerprint", "--data", restored); code != 1 || !strings.Contains(out, "none found") || !strings.Contains(out, fp) {
		t.Errorf("key fingerprint without the key: %d %q", code, out)
	}

	// A different key: refused with both fingerprints.
	other := make([]byte, 32)
	rand.Read(other)
	if err := os.WriteFile(keyFile, other, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "serve", "--data", restored, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "does not match this database") || !strings.Contains(errs, fp) || !strings.Contains(errs, keyFile) {
		t.Errorf("serve with another key: %d %q", code, errs)
	}
	if code, out, _ := runCLI(t, "key", "fingerprint", "--data", restored); code != 1 || !strings.Contains(out, "DIFFER") {
		t.Errorf("key fingerprint with another key: %d %q", code, out)
	}
	os.Remove(keyFile)

	// The kept copy: compared first, then put back.
	if code, out, errs := runCLI(t, "key", "fingerprint", "--data", restored, "--file", kept); code != 0 || !strings.Contains(out, fp) || !strings.Contains(out, "they match") {
		t.Fatalf("key fingerprint --file: %d %q %q", code, out, errs)
	}
	data, _ := os.ReadFile(kept)
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := serveCLI(t, "serve", "--data", restored)
	defer stop()
	page := statusLookup(t, base, sub.Receipt)
	if !strings.Contains(page, "RESTORE-1") || strings.Contains(page, "没有找到这个回执码") {
		t.Errorf("the receipt after the restore: the page does not show the report:\n%s", page)
	}
}

// TestInitOnlyMakesKeys: serve and the administrative commands on a new
// data directory say to run hotline init and create nothing; init makes
// the key once and keeps it when run again; a blank HOTLINE_SERVER_KEY
// is refused, not read as unset.
func TestInitOnlyMakesKeys(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--data", dir, "--addr", "127.0.0.1:0"},
		{"school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区"},
		{"backup", "--data", dir, "--out", filepath.Join(t.TempDir(), "b.db")},
	} {
		code, _, errs := runCLI(t, args...)
		if code != 1 || !strings.Contains(errs, "hotline init --data "+dir) {
			t.Errorf("%s on a new directory: %d %q, want it to say to run hotline init", args[0], code, errs)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 && !pgtest.OnPostgres() {
		t.Errorf("refused commands left %d files in the data directory", len(entries))
	}
	code, out, errs := runCLI(t, "init", "--data", dir)
	fp := regexp.MustCompile(`[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}`).FindString(out)
	if code != 0 || fp == "" || !strings.Contains(out, "server key created") {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	key, _ := os.ReadFile(filepath.Join(dir, "server.key"))
	if code, out, _ := runCLI(t, "init", "--data", dir); code != 0 || !strings.Contains(out, "kept the existing server key") || !strings.Contains(out, fp) {
		t.Errorf("init again: %d %q", code, out)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "server.key")); !bytes.Equal(again, key) {
		t.Error("init replaced the key")
	}
	if code, out, _ := runCLI(t, "key", "fingerprint", "--data", dir); code != 0 || !strings.Contains(out, fp) || !strings.Contains(out, "they match") {
		t.Errorf("key fingerprint: %d %q", code, out)
	}
	t.Setenv("HOTLINE_SERVER_KEY", "")
	if code, _, errs := runCLI(t, "serve", "--data", dir, "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errs, "HOTLINE_SERVER_KEY is set but blank") {
		t.Errorf("serve with a blank HOTLINE_SERVER_KEY: %d %q", code, errs)
	}
}

// serveCLI runs a server command (serve, demo) as a person would, on a
// free port, until the test ends; it returns its base URL once /healthz
// answers, and stop, which ends it like Ctrl+C and waits.
func serveCLI(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append(args, "--addr", addr), strings.NewReader(""), &out, &errb) }()
	base = "http://" + addr
	deadline := time.Now().Add(2 * time.Minute) // a hang guard
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("%v exited %d: %s", args, code, errb.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("%v did not answer /healthz: %s", args, errb.String())
		}
	}
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Errorf("%v did not stop", args)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// statusLookup looks a receipt up at /m/status as a reporter's browser
// would and returns the page.
func statusLookup(t *testing.T, base, receipt string) string {
	t.Helper()
	resp, err := http.Get(base + "/m/status")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tok := regexp.MustCompile(`name="token" value="([^"]+)"`).FindSubmatch(form)
	if tok == nil {
		t.Fatalf("no form token on /m/status:\n%s", form)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/m/status", strings.NewReader(url.Values{"token": {string(tok[1])}, "lang": {"zh"}, "receipt": {receipt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, page)
}
