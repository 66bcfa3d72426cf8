package live_test

import (
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/live"
)

func recv(t *testing.T, s *live.Subscription) (hotline.Change, bool) {
	t.Helper()
	select {
	case c := <-s.C:
		return c, true
	case <-time.After(50 * time.Millisecond):
		return hotline.Change{}, false
	}
}

func TestBrokerDeliversOnlyToItsSchoolAndTip(t *testing.T) {
	b := live.NewBroker()
	a := b.SubscribeSchool(1)
	other := b.SubscribeSchool(2)
	tip := b.SubscribeTip("t1")
	all := b.SubscribeAll()
	b.Notify(hotline.Change{Kind: hotline.ChangeNewTip, SchoolID: 1, TipUID: "t1"})
	if c, ok := recv(t, a); !ok || c.TipUID != "t1" {
		t.Fatalf("school subscriber: %v %v", c, ok)
	}
	if _, ok := recv(t, tip); !ok {
		t.Fatal("tip subscriber got nothing")
	}
	if _, ok := recv(t, all); !ok {
		t.Fatal("all subscriber got nothing")
	}
	if c, ok := recv(t, other); ok {
		t.Fatalf("school 2 saw school 1's change: %v", c)
	}
	a.Cancel()
	a.Cancel() // twice is fine
	if _, open := <-a.C; open {
		t.Fatal("cancelled channel still open")
	}
	b.Notify(hotline.Change{SchoolID: 1, TipUID: "t2"}) // no panic on a cancelled subscriber
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	b := live.NewBroker()
	s := b.SubscribeSchool(1)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10000; i++ {
			b.Notify(hotline.Change{SchoolID: 1})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a subscriber that does not read")
	}
	s.Cancel()
}
