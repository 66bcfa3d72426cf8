package main

import (
	"context"
	"strconv"

	"hotline/internal/alert"
	"hotline/internal/mail"
)

// Temporary adapters of the bot and internal/mail to alert.Channel, until
// the channels branch (alert.New) is merged; deleted then.

type tmpTelegram struct{ a botAlerter }

func (tmpTelegram) Kind() alert.Kind { return alert.Telegram }

func (t tmpTelegram) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	id, err := strconv.ParseInt(to.Address, 10, 64)
	if err != nil {
		return err
	}
	return t.a.SendAlert(ctx, id, m.Text)
}

type tmpMail struct{ s *mail.Sender }

func (tmpMail) Kind() alert.Kind { return alert.Email }

func (t tmpMail) Send(ctx context.Context, to alert.Target, m alert.Message) error {
	return t.s.SendMail(ctx, to.Address, "Hotline 提醒 / alert: "+m.AliasZH+" / "+m.AliasEN, m.Text)
}
