package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"hotline/bot"
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// TestDeliverAutoSentNotice: the system's notice of an automatic urgent
// send is written by the bot in its own words — the alias and the on-call
// time in the reporter's language — never as a counselor's reply; a
// payload kind the bot does not know is rejected for good, not retried.
func TestDeliverAutoSentNotice(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	b, err := bot.New(context.Background(), bot.Config{Token: srv.Token(), APIURL: srv.URL(), CallTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	kid := srv.NewUser(telegramsim.UserOptions{FirstName: "Kid", LanguageCode: "en"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := &relay.Payload{Kind: relay.KindAutoSent, ChatID: kid.ChatID(), Alias: "Blue Fox", Lang: hotline.LangEN, TipUID: "t1", OnCall: 30 * time.Minute}
	if err := b.Deliver(ctx, p); err != nil {
		t.Fatal(err)
	}
	m, err := kid.WaitMessage(ctx, func(telegramsim.SentMessage) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"sent it to the school as an urgent report automatically", "\"Blue Fox\"", "within 30 minutes", "after 10 minutes"} {
		if !strings.Contains(m.PlainText, want) {
			t.Errorf("notice: got %q, want %q in it", m.PlainText, want)
		}
	}
	if strings.Contains(m.PlainText, "counselor at your school replied") {
		t.Errorf("notice shown as a counselor's reply: %q", m.PlainText)
	}
	// A draft sent because its safety question went unanswered: told so,
	// with the school's ordinary time, not as urgent.
	p = &relay.Payload{Kind: relay.KindAutoSent, Possibly: true, ChatID: kid.ChatID(), Alias: "Blue Fox", Lang: hotline.LangEN, TipUID: "t2", OnCall: 24 * time.Hour}
	if err := b.Deliver(ctx, p); err != nil {
		t.Fatal(err)
	}
	m, err = kid.WaitMessage(ctx, func(m telegramsim.SentMessage) bool { return strings.Contains(m.PlainText, "heard nothing") })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"We asked whether you are safe and heard nothing for 5 minutes", "look at it first", "\"Blue Fox\"", "within 24 hours", "call 110"} {
		if !strings.Contains(m.PlainText, want) {
			t.Errorf("possibly urgent notice: got %q, want %q in it", m.PlainText, want)
		}
	}
	if strings.Contains(m.PlainText, "urgent report") {
		t.Errorf("possibly urgent notice calls the report urgent: %q", m.PlainText)
	}
	if err := b.Deliver(ctx, &relay.Payload{Kind: "from_a_newer_version", ChatID: kid.ChatID(), Text: "x"}); !errors.Is(err, relay.ErrRejected) {
		t.Errorf("unknown kind: got %v, want relay.ErrRejected", err)
	}
	if n := len(kid.Messages()); n != 2 {
		t.Errorf("chat got %d messages, want the two notices only", n)
	}
}
