package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestLadderStore: targets belong to their owner; a token is used once; a
// ladder starts once, climbs, is hurried only at its current rung, and
// stopping it cancels its pending sends in the same transaction; a shared
// key is written once, by whoever comes first.
func TestLadderStore(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := mustSchool(t, db, "no3")
	c := &hotline.Counselor{SchoolID: s.ID, Username: "wang", Role: hotline.RoleCounselor}
	tip := &hotline.Tip{UID: "ladder-1", SchoolID: s.ID, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}, Channel: hotline.ChannelWebchat,
		Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryPhysical, Urgent: true}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCounselor(c, []byte("w")); err != nil {
			return err
		}
		tip.CreatedAt, tip.AckDue = tx.Now(), tx.Now().Add(time.Hour)
		return tx.InsertTip(tip, nil)
	})
	if err != nil {
		t.Fatal(err)
	}

	// Targets.
	mine := &store.AlertTarget{Owner: store.OwnerStaff, CounselorID: c.ID, Kind: "sms_aliyun"}
	group := &store.AlertTarget{Owner: store.OwnerSchool, SchoolID: s.ID, Kind: "dingtalk"}
	err = db.Update(ctx, func(tx *store.Tx) error {
		for _, tg := range []*store.AlertTarget{mine, group} {
			if err := tx.AddAlertTarget(tg); err != nil {
				return err
			}
			if err := tx.SetAlertTargetSealed(tg.ID, []byte{0, 1, 0xff}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.SchoolAlertTargets(ctx, s.ID, s.District)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].Sealed, []byte{0, 1, 0xff}) {
		t.Fatalf("school targets = %+v, %v", got, err)
	}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteAlertTarget(mine.ID, store.TargetOwner{SchoolID: s.ID}) }); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("deleting a staff target as the school's: %v", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.MarkTargetVerified(mine.ID); err != nil {
			return err
		}
		return tx.MarkTargetFailed(mine.ID, "isv.X", "原因 / reason")
	})
	if err != nil {
		t.Fatal(err)
	}
	if tg, _ := db.AlertTargetByID(ctx, mine.ID); tg.Verified() || tg.FailCode != "isv.X" {
		t.Fatalf("a target failed after its test is verified: %+v", tg)
	}

	// Tokens.
	tok := &store.AlertToken{MAC: []byte("mac-1"), Purpose: store.TokenAck, CounselorID: c.ID, TipID: tip.ID, SchoolID: s.ID, ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.AddAlertToken(tok) }); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		var ok bool
		if err := db.Update(ctx, func(tx *store.Tx) error { var err error; ok, err = tx.UseAlertToken(tok.MAC); return err }); err != nil || ok != want {
			t.Fatalf("use %d: %v, %v; want %v", i, ok, err, want)
		}
	}

	// The ladder.
	var started []bool
	for range 2 {
		err := db.Update(ctx, func(tx *store.Tx) error {
			ok, err := tx.StartLadder(tip.ID, s.ID, tip.CreatedAt)
			started = append(started, ok)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !started[0] || started[1] {
		t.Fatalf("started = %v", started)
	}
	if ws, _ := db.UrgentWithoutLadder(ctx); len(ws) != 0 {
		t.Fatalf("a case with a ladder is listed as without: %d", len(ws))
	}
	var sends []*store.AlertSend
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.ClimbLadder(tip.ID, 1, tx.Now().Add(5*time.Minute)); err != nil {
			return err
		}
		for _, sd := range []*store.AlertSend{
			{SchoolID: s.ID, TipID: tip.ID, Rung: 1, CounselorID: c.ID, TargetID: mine.ID, Kind: "sms_aliyun", State: store.SendPending},
			{SchoolID: s.ID, TipID: tip.ID, Rung: 1, TargetID: group.ID, Kind: "dingtalk", State: store.SendPending},
		} {
			if err := tx.AddAlertSend(sd); err != nil {
				return err
			}
			sends = append(sends, sd)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := db.LaddersDue(ctx, time.Now()); len(due) != 0 {
		t.Fatalf("due before its minutes: %d", len(due))
	}
	var pending, sent int
	var hurried [2]bool
	err = db.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.FinishSend(sends[0].ID, store.SendRefused, "isv.X", "refused"); err != nil {
			return err
		}
		if _, err := tx.FinishSend(sends[1].ID, store.SendSent, "", ""); err != nil {
			return err
		}
		var err error
		if pending, sent, err = tx.RungOutcome(tip.ID, 1); err != nil {
			return err
		}
		if hurried[0], err = tx.HurryLadder(tip.ID, 2); err != nil { // not its rung
			return err
		}
		hurried[1], err = tx.HurryLadder(tip.ID, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if pending != 0 || sent != 0 {
		t.Fatalf("rung outcome = %d pending, %d sent; a group's send is nobody reached", pending, sent)
	}
	if hurried != [2]bool{false, true} {
		t.Fatalf("hurried = %v", hurried)
	}
	if due, _ := db.LaddersDue(ctx, time.Now().Add(time.Second)); len(due) != 1 {
		t.Fatalf("a hurried ladder is not due: %d", len(due))
	}
	failed, err := db.FailedSends(ctx, []int64{s.ID}, time.Now().Add(-time.Hour), 10)
	if err != nil || len(failed) != 1 || failed[0].Code != "isv.X" {
		t.Fatalf("failed sends = %+v, %v", failed, err)
	}
	// Stopping cancels what is still pending.
	var late *store.AlertSend
	err = db.Update(ctx, func(tx *store.Tx) error {
		late = &store.AlertSend{SchoolID: s.ID, TipID: tip.ID, Rung: 2, CounselorID: c.ID, TargetID: mine.ID, Kind: "sms_aliyun", State: store.SendPending}
		if err := tx.AddAlertSend(late); err != nil {
			return err
		}
		return tx.StopLadder(tip.ID, store.LadderAcknowledged, c.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := db.PendingSends(ctx, 10); len(p) != 0 {
		t.Fatalf("pending after the stop: %+v", p)
	}
	var finished bool
	if err := db.Update(ctx, func(tx *store.Tx) error {
		var err error
		finished, err = tx.FinishSend(late.ID, store.SendSent, "", "")
		return err
	}); err != nil || finished {
		t.Fatalf("a cancelled send finished: %v, %v", finished, err)
	}
	l, err := db.LadderByTip(ctx, tip.ID)
	if err != nil || l.State != store.LadderAcknowledged || l.AckedBy != c.ID || l.AckedAt.IsZero() {
		t.Fatalf("stopped ladder = %+v, %v", l, err)
	}

	// A shared key: the first write wins.
	var kept [][]byte
	for _, k := range [][]byte{[]byte("first"), []byte("second")} {
		err := db.Update(ctx, func(tx *store.Tx) error {
			got, err := tx.PutAlertKey("vapid", k)
			kept = append(kept, got)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(kept[0]) != "first" || string(kept[1]) != "first" {
		t.Fatalf("kept = %q", kept)
	}
	if k, err := db.AlertKey(ctx, "vapid"); err != nil || string(k) != "first" {
		t.Fatalf("alert key = %q, %v", k, err)
	}
}
