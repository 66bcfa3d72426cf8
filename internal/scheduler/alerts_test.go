package scheduler_test

import (
	"context"
	"mime"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/internal/alert"
	"hotline/internal/mail"
	"hotline/internal/mail/mailtest"
	"hotline/internal/telegramtest"
)

// tgChannel sends alerts with the real go-telegram/bot client, as the bot does.
type tgChannel struct{ b *tgbot.Bot }

func (tgChannel) Kind() alert.Kind { return alert.Telegram }

func (c tgChannel) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	chatID, err := strconv.ParseInt(to.Address, 10, 64)
	if err != nil {
		return err
	}
	_, err = c.b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: m.Text})
	return err
}

// mailChannel sends alerts through internal/mail.
type mailChannel struct{ s *mail.Sender }

func (mailChannel) Kind() alert.Kind { return alert.Email }

func (c mailChannel) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	return c.s.SendMail(ctx, to.Address, "Hotline 提醒 / alert: "+m.AliasZH+" / "+m.AliasEN, m.Text)
}

func TestAlertsThroughFakeBotAPIAndSMTPHoldNoContent(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	api := telegramtest.NewT(t, telegramtest.Config{})
	b, err := tgbot.New(api.Token(), tgbot.WithServerURL(api.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	sink := mailtest.NewServer(t, mailtest.Options{})
	mailer, err := mail.New(mail.Config{Addr: sink.Addr, From: "hotline@example.cn"})
	if err != nil {
		t.Fatal(err)
	}
	e.sched.Channels = alert.Set{alert.Telegram: tgChannel{b}, alert.Email: mailChannel{mailer}}

	staff := api.NewUser(telegramtest.UserOptions{LanguageCode: "zh-hans"})
	e.linkTelegram(e.admin, staff.ChatID())
	if err := e.staff.SetAlertEmail(ctx, e.wang, "wang@school.example.cn"); err != nil {
		t.Fatal(err)
	}
	secret := "他说放学后要带刀来找我"
	sub := e.submit([]string{secret}, true)
	e.tick()
	msgs, err := api.WaitMessages(staff.ChatID(), 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	alias := e.tip(sub.TipUID).Alias
	if !strings.Contains(msgs[0].Text, "紧急报告「"+alias.ZH+"」仍无人受理 — 第三中学") || !strings.Contains(msgs[0].Text, "https://hotline.example.cn/inbox/ack/") {
		t.Errorf("telegram alert = %q", msgs[0].Text)
	}
	mails := sink.Messages()
	if len(mails) != 1 || !strings.Contains(mails[0].Body, "Urgent report "+alias.EN+" at No. 3 Middle School") {
		t.Fatalf("mails = %+v", mails)
	}
	if len(mails[0].To) != 1 || mails[0].To[0] != "wang@school.example.cn" {
		t.Errorf("mail went to %q", mails[0].To)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(mails[0].Header.Get("Subject"))
	if err != nil || !strings.Contains(subject, alias.ZH) {
		t.Errorf("subject %q: %v", subject, err)
	}
	for _, text := range append(api.Texts(staff.ChatID()), mails[0].Raw, mails[0].Body, subject) {
		for _, bit := range []string{secret, "刀", "放学"} {
			if strings.Contains(text, bit) {
				t.Errorf("alert holds content %q: %q", bit, text)
			}
		}
	}
	// A failing Bot API leaves the deadline alert pending for a retry.
	api.SetBlocked(staff.ChatID(), true)
	e.at(time.Hour + time.Second)
	e.tick()
	as, _ := e.db.AlertsByTip(ctx, e.tip(sub.TipUID).ID)
	pending := 0
	for _, a := range as {
		if a.SentAt == 0 {
			pending++
		}
	}
	if pending != 1 {
		t.Errorf("%d alerts pending after a failure, want 1", pending)
	}
}
