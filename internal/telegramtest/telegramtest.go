// Package telegramtest starts the Telegram Bot API simulator
// (internal/sim/telegramsim) for a test and stops it when the test ends.
// Only tests import it: the simulator itself imports no testing package.
package telegramtest

import (
	"testing"

	"hotline/internal/sim/telegramsim"
)

// New starts a simulated Bot API on 127.0.0.1 with cfg, closed at the end
// of the test.
func New(tb testing.TB, cfg telegramsim.Config) *telegramsim.Server {
	tb.Helper()
	s, err := telegramsim.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}
