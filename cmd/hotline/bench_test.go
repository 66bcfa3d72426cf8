package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"hotline/internal/staff"
)

// hotline bench at a tiny size: it boots the in-process demo, drives every
// channel and the counselor, prints a summary and exits 0. Its figures
// are not asserted (speed belongs to benchmarks), only that reports went
// through each channel and the summary has its parts.
func TestBenchTinyRun(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--submitters", "3", "--duration", "3s", "--reply-rate", "20"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"reports", "mailbox", "webchat", "telegram", "p99", "WAL frames", "CPU", "memory"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "100%") {
		t.Errorf("no progress bar on stderr: %q", errb.String())
	}
}

func TestBenchJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--submitters", "2", "--duration", "2s", "--json"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var s benchSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out.String())
	}
	if s.Reports == 0 || s.Submitters != 2 || len(s.Steps) == 0 {
		t.Fatalf("summary %+v", s)
	}
}

// A remote target is loaded only with --yes and a school; without them the
// tool refuses before sending anything.
func TestBenchTargetNeedsYes(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--target", "http://127.0.0.1:1", "--school", "no3"},
		{"bench", "--target", "http://127.0.0.1:1", "--yes"},
		{"bench", "--target", "ftp://example", "--yes", "--school", "no3"},
		{"bench", "--yes"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (refused); stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	run(context.Background(), []string{"bench", "--target", "http://127.0.0.1:1", "--school", "no3"}, strings.NewReader(""), &out, &errb)
	if !strings.Contains(errb.String(), "--yes") {
		t.Errorf("refusal does not say why: %q", errb.String())
	}
}

// Against a running server (a "test deployment" on 127.0.0.1) the web
// reporters file reports over HTTP and the websocket.
func TestBenchTarget(t *testing.T) {
	m := MustRunMain(t)
	if _, err := m.Staff.CreateSchool(context.Background(), staff.NewSchool{Code: "no3", Name: "第三中学"}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"bench", "--target", m.URL(), "--yes", "--school", "no3", "--submitters", "2", "--duration", "2s", "--json"}, strings.NewReader(""), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	var s benchSummary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Reports == 0 || s.Target != m.URL() || s.Note == "" {
		t.Fatalf("summary %+v", s)
	}
}
