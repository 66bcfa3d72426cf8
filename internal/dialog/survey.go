package dialog

import (
	"context"
	"log/slog"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/survey"
)

// Surveys runs class questionnaires in Telegram chats (survey.Chats): a
// chat opened with a /start q_<code> deep link answers one question a
// message, beside the reporter conversation and apart from it.
type Surveys interface {
	Start(ctx context.Context, chatID int64, payload string, lang hotline.Lang) ([]survey.ChatReply, error)
	Active(ctx context.Context, chatID int64) (bool, error)
	Choice(ctx context.Context, chatID int64, data string) ([]survey.ChatReply, error)
	Text(ctx context.Context, chatID int64, text string) ([]survey.ChatReply, error)
}

// surveyPrefix starts the data of a questionnaire's buttons.
const surveyPrefix = "sv:"

// routeSurvey sends to the questionnaires what is theirs: their buttons,
// their deep link, and the words of a chat in the middle of one. It
// returns the event for the conversation otherwise ("I'd like to talk to
// someone" after a questionnaire becomes an ordinary report at its
// school, carrying no answers), or, when taken, the questionnaire's
// replies. Questionnaires run in Telegram chats only.
func (e *Engine) routeSurvey(ctx context.Context, k Key, ev Event) (Event, []Reply, bool) {
	if e.Surveys == nil || k.Channel != hotline.ChannelTelegram {
		return ev, nil, false
	}
	lang := ev.Lang
	switch {
	case ev.Kind == EventChoice && strings.HasPrefix(ev.Choice, surveyPrefix):
		if school, ok := strings.CutPrefix(ev.Choice, surveyPrefix+"talk:"); ok {
			return Event{Kind: EventCommand, Command: "start", Text: school, Lang: ev.Lang, BotName: ev.BotName}, nil, false
		}
		return ev, e.surveyReplies(lang)(e.Surveys.Choice(ctx, k.ChatID, ev.Choice)), true
	case ev.Kind == EventCommand && ev.Command == "start" && strings.HasPrefix(ev.Text, survey.ChatPayload):
		return ev, e.surveyReplies(lang)(e.Surveys.Start(ctx, k.ChatID, ev.Text, lang)), true
	case ev.Kind == EventText:
		if active, err := e.Surveys.Active(ctx, k.ChatID); err == nil && active {
			return ev, e.surveyReplies(lang)(e.Surveys.Text(ctx, k.ChatID, ev.Text)), true
		}
	}
	return ev, nil, false
}

// surveyReplies turns a questionnaire's replies into the conversation's,
// or its failure into its safe message (logged by code only).
func (e *Engine) surveyReplies(lang hotline.Lang) func([]survey.ChatReply, error) []Reply {
	return func(replies []survey.ChatReply, err error) []Reply {
		if err != nil {
			e.logger().Error("dialog: survey step failed", "code", hotline.ErrorCode(err))
			return []Reply{{Kind: ReplyError, Text: hotline.ErrorMessage(err, lang)}}
		}
		out := make([]Reply, len(replies))
		for i, r := range replies {
			out[i] = Reply{Kind: ReplyText, Text: r.Text, Buttons: r.Buttons}
		}
		return out
	}
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}
