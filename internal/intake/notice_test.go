package intake_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/relay"
)

// TestAutoSentNoticeQueued: an urgent Telegram draft the sweeper sends
// (Submission.Auto) queues, with the tip, a system notice for the chat:
// the alias and the school's on-call time, no content, sealed. A report
// the reporter sent, or one from the web, queues nothing.
func TestAutoSentNoticeQueued(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const chat = 424242
	const secret = "他说放学后要带刀来找我 CANARY-NOTICE-5150"
	for _, sub := range []hotline.Submission{
		{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: chat, Texts: []string{secret}},
		{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{secret}, Auto: true},
		{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: chat, Texts: []string{"他们孤立我"}, Auto: true},
	} {
		res, err := e.intake.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		if res.Notified {
			t.Errorf("%s auto=%v urgent=%v: notified", sub.Channel, sub.Auto, res.Urgent)
		}
	}
	if n, _ := e.db.OutboxLen(ctx); n != 0 {
		t.Fatalf("outbox has %d rows, want none", n)
	}

	res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: chat, Lang: hotline.LangEN, Texts: []string{secret}, Auto: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Urgent || !res.Notified {
		t.Fatalf("automatic urgent send: urgent=%v notified=%v, want both", res.Urgent, res.Notified)
	}
	items, err := e.db.OutboxHeads(ctx, time.Now().Add(time.Minute), 10)
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox: %d rows, %v; want the notice", len(items), err)
	}
	if items[0].MessageID.Valid {
		t.Error("the notice is tied to a message of the thread")
	}
	if strings.Contains(string(items[0].PayloadSealed), "CANARY") || strings.Contains(string(items[0].PayloadSealed), res.Alias.EN) {
		t.Error("the notice is stored in clear")
	}
	p, err := relay.OpenPayload(e.vault, items[0])
	if err != nil {
		t.Fatal(err)
	}
	want := relay.Payload{Kind: relay.KindAutoSent, ChatID: chat, Alias: res.Alias.EN, Lang: hotline.LangEN, TipUID: res.TipUID, OnCall: time.Hour}
	if got, _ := json.Marshal(p); string(got) != string(must(json.Marshal(want))) {
		t.Errorf("payload: got %s, want %s", got, must(json.Marshal(want)))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
