package alert_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"

	"hotline/internal/alert"
	"hotline/internal/mail"
	"hotline/internal/mail/mailtest"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/telegramtest"
)

// botSender is what cmd/hotline's botAlerter does: one sendMessage.
type botSender struct{ b *tgbot.Bot }

func (s botSender) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := s.b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

// TestTelegram drives the real go-telegram/bot client against the fake
// Bot API: delivered, blocked (permanent), unknown chat (permanent).
func TestTelegram(t *testing.T) {
	srv := telegramtest.New(t, telegramsim.Config{})
	b, err := tgbot.New(srv.Token(), tgbot.WithServerURL(srv.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	set := alert.New(alert.Config{}, nil, botSender{b})
	if !set.Has(alert.Telegram) || set.Has(alert.Email) {
		t.Fatalf("kinds %v, want Telegram and no e-mail", set.Kinds())
	}
	u := srv.NewUser(telegramsim.UserOptions{})
	to := alert.Target{Kind: alert.Telegram, Address: strconv.FormatInt(u.ChatID(), 10)}
	m := msg()
	if err := set.Send(ctx(t), to, m); err != nil {
		t.Fatal(err)
	}
	sent := srv.Messages(u.ChatID())
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "蓝狐") || !strings.Contains(sent[0].Text, m.Link) {
		t.Fatalf("sent %+v, want one message with the alias and the link", sent)
	}
	srv.SetBlocked(u.ChatID(), true)
	e := alertError(t, set.Send(ctx(t), to, m))
	if !e.Permanent || e.Code != "403" {
		t.Errorf("blocked: %v, want 403 permanent", e)
	}
	checkSafe(t, e, to)
	e = alertError(t, set.Send(ctx(t), alert.Target{Kind: alert.Telegram, Address: "123456"}, m))
	if !e.Permanent || e.Code != "400" {
		t.Errorf("unknown chat: %v, want 400 permanent", e)
	}
}

func TestEmail(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Options{})
	sender, err := mail.New(mail.Config{Addr: srv.Addr, From: "hotline@example.cn", Security: mail.SecurityOpportunistic})
	if err != nil {
		t.Fatal(err)
	}
	set := alert.New(alert.Config{}, sender, nil)
	m := msg()
	if err := set.Send(ctx(t), alert.Target{Kind: alert.Email, Address: "wang@school.example.cn"}, m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	if subj := got[0].Header.Get("Subject"); subj == "" || !strings.Contains(got[0].Body, m.Link) || !strings.Contains(got[0].Body, "蓝狐") {
		t.Errorf("subject %q body %q: want the alias and the link", subj, got[0].Body)
	}

	refusing := mailtest.NewServer(t, mailtest.Options{RejectRcpt: true})
	sender, err = mail.New(mail.Config{Addr: refusing.Addr, From: "hotline@example.cn", Security: mail.SecurityOpportunistic})
	if err != nil {
		t.Fatal(err)
	}
	to := alert.Target{Kind: alert.Email, Address: "wang@school.example.cn"}
	e := alertError(t, alert.New(alert.Config{}, sender, nil).Send(ctx(t), to, m))
	if !e.Permanent || e.Code != "550" {
		t.Errorf("refused recipient: %v, want 550 permanent", e)
	}
	if strings.Contains(e.Error(), "wang") {
		t.Errorf("error %q names the recipient", e)
	}
}

// TestNilAdapters: a nil *mail.Sender is no e-mail channel.
func TestNilAdapters(t *testing.T) {
	var sender *mail.Sender
	if set := alert.New(alert.Config{}, sender, nil); set.Has(alert.Email) || set.Has(alert.Telegram) {
		t.Errorf("kinds %v from nil adapters", set.Kinds())
	}
}
