package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/thread"
)

// Deliver sends one counselor reply, or one notice of the system, for the
// relay: one attempt, whose outcome the relay records durably and retries.
// It implements relay.Sender.
func (b *Bot) Deliver(ctx context.Context, p *relay.Payload) error {
	if p.Kind != relay.KindReply && p.Kind != relay.KindAutoSent {
		// A kind this version does not know (written by a newer one):
		// retrying here cannot help, and would hold the chat's later rows.
		return relay.ErrRejected
	}
	err := b.deliver(ctx, p)
	var tm *tgbot.TooManyRequestsError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tm):
		return &relay.RetryAfterError{After: time.Duration(max(tm.RetryAfter, 1)) * time.Second}
	case errors.Is(err, tgbot.ErrorForbidden):
		// "bot was blocked by the user", "user is deactivated".
		return relay.ErrUnreachable
	case errors.Is(err, tgbot.ErrorBadRequest):
		if strings.Contains(strings.ToLower(err.Error()), "chat not found") {
			return relay.ErrUnreachable
		}
		return relay.ErrRejected
	}
	if serverSide(err) {
		return fmt.Errorf("bot: deliver: %s: %w", errKind(err), relay.ErrServer)
	}
	return fmt.Errorf("bot: deliver: %s", errKind(err))
}

// serverSide tells a failure Telegram (or a proxy in front of it) answered
// (5xx, an answer that is not the API's JSON) from one where it could not be
// reached at all, for the relay's counts; both are retried alike.
func serverSide(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ) ||
		strings.Contains(err.Error(), "error response from telegram")
}

func (b *Bot) deliver(ctx context.Context, p *relay.Payload) error {
	lang := hotline.ParseLang(string(p.Lang))
	if p.Kind == relay.KindAutoSent {
		// The system speaks in its own words, never as a counselor.
		return b.deliverText(ctx, p.ChatID, dialog.AutoSentNotice(lang, p.Alias, p.OnCall, p.Possibly))
	}
	if len(p.Photo) > 0 {
		caption := thread.PushedPhoto(lang, p.Alias)
		if p.Text != "" {
			caption = thread.PushedReply(lang, p.Alias, p.Text)
		}
		short := caption
		if utf16Len(short) > maxCaption {
			short = thread.PushedPhoto(lang, p.Alias)
		}
		name := "photo.jpg"
		if p.PhotoType == "image/png" {
			name = "photo.png"
		}
		if _, err := b.api.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: p.ChatID, Photo: &models.InputFileUpload{Filename: name, Data: strings.NewReader(string(p.Photo))}, Caption: short}); err != nil {
			return err
		}
		if short == caption {
			return nil
		}
		return b.deliverText(ctx, p.ChatID, thread.PushedReply(lang, p.Alias, p.Text))
	}
	return b.deliverText(ctx, p.ChatID, thread.PushedReply(lang, p.Alias, p.Text))
}

func (b *Bot) deliverText(ctx context.Context, chat int64, text string) error {
	for _, part := range splitText(text, maxText) {
		if _, err := b.api.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: chat, Text: part}); err != nil {
			return err
		}
	}
	return nil
}
