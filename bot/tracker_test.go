package bot

import (
	"context"
	"testing"
	"time"
)

// TestTrackerWakesOnFinishDuringPoll: an update that finishes while a
// poll is out (between taking the channel and waiting on it) wakes the
// wait at once. Lost, that wake-up left a lone update's next poll waiting
// RepollPause: a one-second stall of a Telegram step.
func TestTrackerWakesOnFinishDuringPoll(t *testing.T) {
	var tr tracker
	tr.init()
	if !tr.take(7) {
		t.Fatal("take refused a new update")
	}
	finished := tr.changes() // before the poll
	tr.finish(7)             // during it
	done := make(chan struct{})
	go func() {
		tr.wait(context.Background(), finished, time.Hour)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute): // a hang guard, not a speed bound
		t.Fatal("the wait missed the finish that happened during the poll")
	}
	if got := tr.offset(); got != 8 {
		t.Errorf("offset after the finish: got %d, want 8", got)
	}
}
