package alert

import (
	"context"
	"errors"
	"strconv"
	"strings"

	tgbot "github.com/go-telegram/bot"
)

// TelegramSender sends a text to one Telegram chat; the bot's API client
// does (cmd/hotline's botAlerter, as the scheduler uses today).
type TelegramSender interface {
	SendAlert(ctx context.Context, chatID int64, text string) error
}

// Mailer sends one plain-text e-mail; *mail.Sender does. Its refusals
// are classified by ReplyCode() int and Temporary() bool (mail.SendError
// has both), so this package does not import the mail adapter.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

type telegram struct{ s TelegramSender }

// NewTelegram adapts the bot's alert sender. The target's address is
// the chat id in decimal. Telegram is blocked in mainland China.
func NewTelegram(s TelegramSender) Channel { return &telegram{s: s} }

func (t *telegram) Kind() Kind { return Telegram }

func (t *telegram) Send(ctx context.Context, to Target, m Message) error {
	a, err := Normalize(Telegram, to.Address)
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(a, 10, 64)
	if err := t.s.SendAlert(ctx, id, m.text()); err != nil {
		return telegramError(err)
	}
	return nil
}

// telegramError classifies the bot library's errors without quoting
// them.
func telegramError(err error) *Error {
	e := &Error{Kind: Telegram}
	switch {
	case tgbot.IsTooManyRequestsError(err):
		e.Code, e.Reason = "429", "Telegram 限流 / Telegram is rate limiting"
	case errors.Is(err, tgbot.ErrorForbidden):
		e.Code, e.Permanent, e.Reason = "403", true, "机器人被该会话屏蔽或移出 / the bot was blocked by or removed from this chat"
	case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorNotFound):
		e.Code, e.Permanent, e.Reason = "400", true, "Telegram 会话不存在 / no such Telegram chat"
	case errors.Is(err, tgbot.ErrorUnauthorized):
		e.Code, e.Permanent, e.Reason = "401", true, "Telegram 机器人令牌无效 / the bot token is invalid"
	case errors.Is(err, context.DeadlineExceeded):
		e.Code, e.Reason = CodeTimeout, reasonTimeout
	default:
		e.Code, e.Reason = CodeNetwork, "无法连接 Telegram（中国大陆无法访问）/ could not reach Telegram (blocked in mainland China)"
	}
	return e
}

type email struct{ m Mailer }

// NewEmail adapts an SMTP sender.
func NewEmail(m Mailer) Channel { return &email{m: m} }

func (e *email) Kind() Kind { return Email }

func (e *email) Send(ctx context.Context, to Target, m Message) error {
	addr, err := Normalize(Email, to.Address)
	if err != nil {
		return err
	}
	subject := "Hotline 提醒 / alert: " + m.AliasZH + " / " + m.AliasEN
	if m.Urgent {
		subject = "【紧急 / URGENT】" + subject
	}
	if err := e.m.SendMail(ctx, addr, subject, m.text()); err != nil {
		return mailError(err)
	}
	return nil
}

// mailError classifies an SMTP failure by the server's reply code (5xx
// is permanent) without quoting it: a reply often repeats the address.
func mailError(err error) *Error {
	var se smtpError
	switch {
	case errors.As(err, &se):
		// No reply code: the send failed before the server answered,
		// which a retry may get past.
		e := &Error{Kind: Email, Code: strconv.Itoa(se.ReplyCode()), Permanent: !se.Temporary() && se.ReplyCode() >= 500}
		if e.Permanent {
			e.Reason = "邮件服务器拒收（地址不存在或被拒）/ the mail server refused it (no such address, or rejected)"
		} else {
			e.Reason = "邮件服务器暂时拒收 / the mail server deferred it"
		}
		if se.ReplyCode() == 0 {
			e.Code = "smtp"
		}
		return e
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "timeout"):
		return &Error{Kind: Email, Code: CodeTimeout, Reason: reasonTimeout}
	}
	return &Error{Kind: Email, Code: CodeNetwork, Reason: "无法连接邮件服务器 / could not reach the mail server"}
}

// smtpError is an SMTP server's refusal (mail.SendError).
type smtpError interface {
	error
	ReplyCode() int
	Temporary() bool
}
