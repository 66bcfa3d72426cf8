package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hotline/internal/sim/telegramsim"
)

// BenchmarkBotUpdates measures updates handled per second end to end: the
// fake Bot API serves them through getUpdates, the bot orders them per
// chat, the dialog loads, seals and saves each conversation (SQLite, fsync),
// and the reply is sent back to the fake.
func BenchmarkBotUpdates(b *testing.B) {
	e := newBotEnv(b)
	ctx := context.Background()
	const users = 250
	ss := make([]*student, users)
	var wg sync.WaitGroup
	for i := range ss {
		ss[i] = e.student(ctx, telegramsim.UserOptions{LanguageCode: "zh-hans"})
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := ss[i]
			s.u.SendCommand("/start demo")
			for _, data := range []string{"role:witness", "cat:verbal"} {
				if err := s.tap(data); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	bot := e.m.Bot
	// Let the last taps be handled before the clock starts.
	for e.srv.PendingUpdates() > 0 {
		time.Sleep(time.Millisecond)
	}
	base := bot.Handled()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		ss[i%users].u.SendText(fmt.Sprintf("他们在走廊里骂我 %d", i))
	}
	for bot.Handled()-base < int64(b.N) {
		time.Sleep(200 * time.Microsecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
}
