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

// TestRepollPause: polling held by an update being handled asks again
// after a few milliseconds for the first 100 ms, so that another chat's
// update is not kept waiting; then ever more slowly, never beyond
// RepollPause, so that a chat held for long costs a poll a second.
func TestRepollPause(t *testing.T) {
	for _, tc := range []struct {
		held int
		max  time.Duration
		want time.Duration
	}{
		{0, time.Second, 5 * time.Millisecond},
		{20, time.Second, 5 * time.Millisecond},
		{21, time.Second, 10 * time.Millisecond},
		{27, time.Second, 640 * time.Millisecond},
		{28, time.Second, time.Second},
		{1 << 20, time.Second, time.Second},
		{0, 2 * time.Millisecond, 2 * time.Millisecond},
	} {
		if got := repollPause(tc.held, tc.max); got != tc.want {
			t.Errorf("repollPause(%d, %v): got %v, want %v", tc.held, tc.max, got, tc.want)
		}
	}
}

// TestTrackerUntake: an update taken but not queued is given back: the
// offset does not pass it, and the next poll takes it again.
func TestTrackerUntake(t *testing.T) {
	var tr tracker
	tr.init()
	for _, id := range []int64{7, 8} {
		if !tr.take(id) {
			t.Fatalf("take refused new update %d", id)
		}
	}
	tr.finish(7)
	tr.untake(8)
	if got := tr.offset(); got != 8 {
		t.Fatalf("offset after giving back 8: got %d, want 8", got)
	}
	if tr.take(7) {
		t.Error("take accepted 7 again, which was handled")
	}
	if !tr.take(8) {
		t.Error("take refused 8, which was given back")
	}
}
