// Package wechattest starts the WeChat simulator (internal/sim/wechatsim)
// for a test and stops it when the test ends. Only tests import it: the
// simulator itself imports no testing package.
package wechattest

import (
	"testing"

	"hotline/internal/sim/wechatsim"
)

// New starts a simulated account on 127.0.0.1 with cfg, closed at the end
// of the test.
func New(tb testing.TB, cfg wechatsim.Config) *wechatsim.Server {
	tb.Helper()
	s, err := wechatsim.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}
