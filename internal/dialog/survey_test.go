package dialog

import (
	"context"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/survey"
)

// fakeSurveys records what the questionnaires were given.
type fakeSurveys struct {
	active bool
	got    []string
}

func (f *fakeSurveys) reply(s string) ([]survey.ChatReply, error) {
	f.got = append(f.got, s)
	return []survey.ChatReply{{Text: "survey " + s, Buttons: [][]hotline.Button{{{Label: "Skip", Data: "sv:s:0"}}}}}, nil
}

func (f *fakeSurveys) Start(_ context.Context, _ int64, payload string, _ hotline.Lang) ([]survey.ChatReply, error) {
	return f.reply("start " + payload)
}
func (f *fakeSurveys) Active(context.Context, int64) (bool, error) { return f.active, nil }
func (f *fakeSurveys) Choice(_ context.Context, _ int64, data string) ([]survey.ChatReply, error) {
	return f.reply("choice " + data)
}
func (f *fakeSurveys) Text(_ context.Context, _ int64, text string) ([]survey.ChatReply, error) {
	return f.reply("text " + text)
}

// TestSurveyRouting: a Telegram chat's questionnaire buttons, deep link and
// words while one is open go to the questionnaires, not the conversation;
// "talk to someone" opens a report at the school; the web chat's events
// always stay the conversation's.
func TestSurveyRouting(t *testing.T) {
	ctx := context.Background()
	tg := Key{Channel: hotline.ChannelTelegram, ChatID: 31337}
	web := Key{Channel: hotline.ChannelWebchat, Session: "web-survey-routing"}
	tests := []struct {
		name   string
		key    Key
		active bool
		ev     Event
		want   string // in the replies
		survey string // what the questionnaires got; "" none
	}{
		{"deep link", tg, false, cmd("start", survey.ChatPayload+"ABCD"), "survey start q_ABCD", "start q_ABCD"},
		{"button", tg, false, tap("sv:o:0:a"), "survey choice sv:o:0:a", "choice sv:o:0:a"},
		{"answer in words", tg, true, txt("my answer"), "survey text my answer", "text my answer"},
		{"words without a questionnaire", tg, false, txt("他们打我"), "这件事发生在哪所学校", ""},
		{"talk to someone", tg, false, tap("sv:talk:demo"), "「实验中学」", ""},
		{"web button", web, false, tap("sv:o:0:a"), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(newWorld(), newMemStore())
			sv := &fakeSurveys{active: tc.active}
			e.Surveys = sv
			rs, err := e.Handle(ctx, tc.key, tc.ev)
			if err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if got := show(rs); !strings.Contains(got, tc.want) {
				t.Errorf("replies: got\n%s want %q", got, tc.want)
			}
			if got := strings.Join(sv.got, "|"); got != tc.survey {
				t.Errorf("questionnaires got %q, want %q", got, tc.survey)
			}
		})
	}
}
