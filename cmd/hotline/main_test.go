package main

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"hotline/internal/hotline"
)

// MustOpenMain opens the real program on a temp data dir with cheap
// argon2id, without serving; opts adjust it before it opens. It closes at
// the end of the test.
func MustOpenMain(tb testing.TB, opts ...func(*Main)) *Main {
	tb.Helper()
	m := NewMain()
	m.Config.DataDir = tb.TempDir()
	m.Config.Addr = "127.0.0.1:0"
	m.Argon = cheapArgon
	m.InitKey = true // a test's new data directory is its hotline init
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, o := range opts {
		o(m)
	}
	if err := m.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	return m
}

// MustRunMain boots the real program on 127.0.0.1:0 with a temp data dir:
// MustOpenMain, then Run.
func MustRunMain(tb testing.TB, opts ...func(*Main)) *Main {
	tb.Helper()
	m := MustOpenMain(tb, opts...)
	if err := m.Run(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return m
}

// withDataDir runs Main on dir, e.g. to reopen what an earlier Main wrote.
func withDataDir(dir string) func(*Main) {
	return func(m *Main) { m.Config.DataDir = dir }
}

// withClock sets the clock of Main and its database.
func withClock(c hotline.Clock) func(*Main) {
	return func(m *Main) { m.Clock = c }
}
