package scheduler_test

import (
	"context"
	"mime"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/internal/alert"
	"hotline/internal/mail"
	"hotline/internal/mail/mailtest"
	"hotline/internal/sim/telegramsim"
	"hotline/internal/store"
	"hotline/internal/telegramtest"
)

// tgAlerter sends alerts with the real go-telegram/bot client, as the bot does.
type tgAlerter struct{ b *tgbot.Bot }

func (a tgAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := a.b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

func TestAlertsThroughFakeBotAPIAndSMTPHoldNoContent(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	api := telegramtest.New(t, telegramsim.Config{})
	b, err := tgbot.New(api.Token(), tgbot.WithServerURL(api.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	sink := mailtest.NewServer(t, mailtest.Options{})
	mailer, err := mail.New(mail.Config{Addr: sink.Addr, From: "hotline@example.cn"})
	if err != nil {
		t.Fatal(err)
	}
	e.sched.Channels = alert.New(alert.Config{}, mailer, tgAlerter{b})

	staff := api.NewUser(telegramsim.UserOptions{LanguageCode: "zh-hans"})
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
	// A Bot API that fails for a moment leaves the deadline alert pending
	// for a retry; a chat that blocked the bot is a refusal for good,
	// recorded on the target with its reason.
	api.InjectNext("sendMessage", telegramsim.FaultServerError)
	e.at(time.Hour + time.Second)
	e.tick()
	pending := func() int {
		as, _ := e.db.AlertsByTip(ctx, e.tip(sub.TipUID).ID)
		n := 0
		for _, a := range as {
			if a.SentAt == 0 {
				n++
			}
		}
		return n
	}
	if n := pending(); n != 1 {
		t.Errorf("%d alerts pending after a failure, want 1", n)
	}
	api.SetBlocked(staff.ChatID(), true)
	e.tick()
	if n := pending(); n != 0 {
		t.Errorf("%d alerts pending after a refusal for good, want 0", n)
	}
	ts, err := e.db.AlertTargets(ctx, store.TargetOwner{CounselorID: e.admin.Counselor.ID})
	if err != nil || len(ts) != 1 || ts[0].FailCode != "403" || ts[0].FailReason == "" {
		t.Errorf("the blocked chat's target = %+v, %v", ts, err)
	}
}
