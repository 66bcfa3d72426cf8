package scheduler_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"hotline/internal/scheduler"
	"hotline/internal/telegramtest"
)

// smtpSink is a minimal SMTP server on 127.0.0.1 that keeps what it gets.
type smtpSink struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	rcpt []string
}

func newSMTPSink(t *testing.T) *smtpSink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(l string) { c.Write([]byte(l + "\r\n")) }
	say("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 sink")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			s.mu.Lock()
			s.rcpt = append(s.rcpt, strings.TrimSpace(line[len("RCPT TO:"):]))
			s.mu.Unlock()
			say("250 ok")
		case strings.HasPrefix(cmd, "DATA"):
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, b.String())
			s.mu.Unlock()
			say("250 queued")
		case strings.HasPrefix(cmd, "QUIT"):
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func (s *smtpSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// tgAlerter sends alerts with the real go-telegram/bot client, as the bot does.
type tgAlerter struct{ b *tgbot.Bot }

func (a tgAlerter) SendAlert(ctx context.Context, chatID int64, text string) error {
	_, err := a.b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chatID, Text: text})
	return err
}

func TestAlertsThroughFakeBotAPIAndSMTPHoldNoContent(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	api := telegramtest.NewT(t, telegramtest.Config{})
	b, err := tgbot.New(api.Token(), tgbot.WithServerURL(api.URL()), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	sink := newSMTPSink(t)
	e.sched.Telegram = tgAlerter{b}
	e.sched.Mail = &scheduler.SMTPMailer{Addr: sink.ln.Addr().String(), From: "hotline@example.cn"}
	e.sched.BaseURL = "https://hotline.example.cn"

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
	if !strings.Contains(msgs[0].Text, "紧急报告「"+alias.ZH+"」— 第三中学 — 请打开收件箱") || !strings.Contains(msgs[0].Text, "https://hotline.example.cn/inbox/") {
		t.Errorf("telegram alert = %q", msgs[0].Text)
	}
	mails := sink.messages()
	if len(mails) != 1 || !strings.Contains(mails[0], "Urgent report "+alias.EN+" at No. 3 Middle School") {
		t.Fatalf("mails = %q", mails)
	}
	for _, text := range append(api.Texts(staff.ChatID()), mails...) {
		for _, bit := range []string{secret, "刀", "放学"} {
			if strings.Contains(text, bit) {
				t.Errorf("alert holds content %q: %q", bit, text)
			}
		}
	}
	// A failing Bot API leaves the alert pending for a retry.
	api.SetBlocked(staff.ChatID(), true)
	e.at(31 * time.Minute)
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
