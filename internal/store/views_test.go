package store_test

import (
	"context"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

func TestViewsMarkUnread(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	s := mustSchool(t, db, "vv")
	c := &hotline.Counselor{SchoolID: s.ID, Username: "c1", Role: hotline.RoleCounselor}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	tip := newTip(s.ID, "t1", false, base.Add(time.Hour))
	tip.LastReporterAt = base
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCounselor(c, []byte("w")); err != nil {
			return err
		}
		return tx.InsertTip(tip, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.UnreadCount(ctx, c.ID, s.ID); err != nil || n != 1 {
		t.Fatalf("unread before view = %d, %v; want 1", n, err)
	}
	view := func(at time.Time) {
		t.Helper()
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.MarkViewed(c.ID, tip.ID, at) }); err != nil {
			t.Fatal(err)
		}
	}
	view(base.Add(time.Minute))
	view(base) // an older view must not win
	got, err := db.ViewTimes(ctx, c.ID, []int64{tip.ID, 999})
	if err != nil {
		t.Fatal(err)
	}
	if !got[tip.ID].Equal(base.Add(time.Minute)) || len(got) != 1 {
		t.Fatalf("view times = %v, want %v", got, base.Add(time.Minute))
	}
	if n, _ := db.UnreadCount(ctx, c.ID, s.ID); n != 0 {
		t.Fatalf("unread after view = %d, want 0", n)
	}
	if store.Unread(tip, got[tip.ID]) {
		t.Fatal("tip unread after view")
	}
	tip.LastReporterAt = base.Add(2 * time.Minute)
	if !store.Unread(tip, got[tip.ID]) {
		t.Fatal("tip read after a newer reporter message")
	}
}
