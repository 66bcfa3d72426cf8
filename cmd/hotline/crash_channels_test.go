package main

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrashChannels kills the server with SIGKILL at random moments while
// reporters write through all three channels: Telegram (a fake that
// redelivers what the bot did not confirm), the web chat (a client that
// behaves as chat.js) and the no-JS mailbox. Every acknowledged report and
// follow-up must be stored exactly once — counted by unique markers in the
// decrypted threads — every web page that sent a report must hold its
// receipt, and the database and the ledger must be intact.
func TestCrashChannels(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash rounds take half a minute")
	}
	const rounds = 20
	r := newCrashRig(t)
	r.runRounds(rounds, syscall.SIGKILL, 300*time.Millisecond, 1200*time.Millisecond, r.allReporters)
	r.verify(rounds, "SIGKILL")
}

// TestSigtermUnderLoad stops the server with SIGTERM while reporters
// submit on every channel: every request either completes and is stored
// exactly once, or is refused with a message and leaves nothing; no tip is
// left half-done.
func TestSigtermUnderLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("shutdown rounds take seconds")
	}
	const rounds = 8
	r := newCrashRig(t)
	r.runRounds(rounds, syscall.SIGTERM, 400*time.Millisecond, 1500*time.Millisecond, r.allReporters)
	r.verify(rounds, "SIGTERM")
}

// allReporters starts the reporters of every channel.
func (r *crashRig) allReporters(work, hard context.Context, wg *sync.WaitGroup) {
	for n := 0; n < 3; n++ {
		r.telegramReporter(work, hard, wg, n)
		r.webReporter(work, hard, wg, n)
		r.mailboxReporter(work, hard, wg, n)
	}
}
