package intake_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/testsupport"
	"hotline/internal/urgency"
)

// TestSweeperFilesUrgentDraftThroughIntake: with the real store, sealing
// and intake, an urgent draft nobody sends is filed as an urgent tip after
// ten minutes, with the same change that pages the on-call staff; the row
// shows only content-free metadata; an ordinary abandoned draft is gone
// after seven days.
func TestSweeperFilesUrgentDraftThroughIntake(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	clock := testsupport.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e.db.Clock = clock
	cs := dialog.NewSealedStore(e.db, e.vault)
	eng := &dialog.Engine{Intake: e.intake, Reporters: e.intake, Schools: e.intake, Store: cs, Clock: clock, Urgent: urgency.Urgent}
	sub := e.broker.SubscribeAll()
	defer sub.Cancel()

	const secret = "他说放学后要带刀来找我 CANARY-5120"
	tg := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: 777001}
	web := dialog.Key{Channel: hotline.ChannelWebchat, Session: "sess-ordinary-draft-0001"}
	for _, ev := range []dialog.Event{{Kind: dialog.EventCommand, Command: "start", Text: "no3"}, {Kind: dialog.EventText, Text: secret}} {
		if _, err := eng.Handle(ctx, tg, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []dialog.Event{{Kind: dialog.EventCommand, Command: "start", School: "no3"}, {Kind: dialog.EventText, Text: "他们总是抢我的作业本"}} {
		if _, err := eng.Handle(ctx, web, ev); err != nil {
			t.Fatal(err)
		}
	}
	type row struct {
		UrgentSince int64  `db:"urgent_since"`
		Draft       int    `db:"draft"`
		Sealed      []byte `db:"state_sealed"`
	}
	var rows []row
	if err := e.db.Reader().SelectContext(ctx, &rows, `SELECT urgent_since, draft, state_sealed FROM conversations ORDER BY urgent_since DESC`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].UrgentSince != clock.Now().UnixMicro() || rows[0].Draft != 1 || rows[1].UrgentSince != 0 || rows[1].Draft != 1 {
		t.Fatalf("rows: got %+v, want one urgent since now and one ordinary draft", rows)
	}
	for _, r := range rows {
		if bytes.Contains(r.Sealed, []byte("CANARY-5120")) || bytes.Contains(r.Sealed, []byte("777001")) {
			t.Fatal("state stored in the clear")
		}
	}

	clock.Add(dialog.UrgentSendAfter)
	sent, deleted, err := eng.Sweep(ctx)
	if err != nil || sent != 1 || deleted != 0 {
		t.Fatalf("sweep: got %d sent %d deleted %v, want 1 0 nil", sent, deleted, err)
	}
	var change hotline.Change
	select {
	case change = <-sub.C:
	case <-time.After(5 * time.Second):
		t.Fatal("no change after the automatic send")
	}
	if change.Kind != hotline.ChangeNewTip || !change.Urgent || change.SchoolID != e.school.School.ID {
		t.Fatalf("change: got %+v, want an urgent new tip (what pages the on-call staff)", change)
	}
	tip, msgs, err := e.triage.Thread(ctx, e.sess, change.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if !tip.Urgent || tip.Channel != hotline.ChannelTelegram || tip.AckDue.Sub(tip.CreatedAt) != time.Hour || len(msgs) != 1 || msgs[0].Body != secret {
		t.Fatalf("tip: got %+v %d messages, want urgent, due in the hour, the draft's text", tip, len(msgs))
	}
	// The chat is told at once by a notice in the relay's outbox, queued
	// with the tip; it is linked, and its next words are only a follow-up.
	if n, _ := e.db.OutboxLen(ctx); n != 1 {
		t.Fatalf("outbox: got %d rows, want the notice", n)
	}
	rs, err := eng.Handle(ctx, tg, dialog.Event{Kind: dialog.EventText, Text: "他们还在门口"})
	if err != nil || len(rs) != 1 || rs[0].Kind != dialog.ReplyText || strings.Contains(rs[0].Text, "自动") {
		t.Fatalf("next message: got %+v, %v, want only the follow-up", rs, err)
	}
	if _, msgs, _ = e.triage.Thread(ctx, e.sess, change.TipUID); len(msgs) != 2 || msgs[1].Body != "他们还在门口" {
		t.Fatalf("follow-up: got %d messages", len(msgs))
	}

	clock.Add(dialog.DraftKeep)
	if sent, deleted, err = eng.Sweep(ctx); err != nil || sent != 0 || deleted != 1 {
		t.Fatalf("week sweep: got %d sent %d deleted %v, want 0 1 nil", sent, deleted, err)
	}
	if _, err := cs.Load(ctx, web); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("ordinary draft after a week: %v, want gone", err)
	}
	if _, err := cs.Load(ctx, tg); err != nil {
		t.Fatalf("the sent report's chat lost its conversation: %v", err)
	}
	n := 0
	e.db.Reader().GetContext(ctx, &n, `SELECT COUNT(*) FROM tips`)
	if n != 1 {
		t.Errorf("tips: got %d, want 1", n)
	}
}
