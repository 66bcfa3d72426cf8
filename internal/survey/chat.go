package survey

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Chats runs questionnaires in Telegram chats, one question a message. The
// chat's place (its code, sealed under the server key and bound to the
// chat's HMAC, and the question it is at) is in the store; the answers so
// far are the code's draft, as on the web, and the chat is the draft's
// owner as a browser is (its HMAC is its session). Submitting forgets the
// chat.
type Chats struct{ S *Service }

// ChatReply is one message to send.
type ChatReply struct {
	Text    string
	Buttons [][]hotline.Button
}

// ChatPayload is the prefix of a /start payload that carries a survey
// code: t.me/<bot>?start=q_<code without dashes>.
const ChatPayload = "q_"

var chatTexts = map[string]hotline.Label{
	"skip":     {ZH: "跳过", EN: "Skip"},
	"done":     {ZH: "选好了", EN: "Done"},
	"text":     {ZH: "请直接发送文字回答，或点“跳过”。", EN: "Send your answer as a message, or tap Skip."},
	"buttons":  {ZH: "请点下面的按钮作答。", EN: "Please answer with the buttons below."},
	"confirm":  {ZH: "题目答完了。提交以后不能再修改。要提交吗？", EN: "That was the last question. Once submitted, answers cannot change. Submit?"},
	"submit":   {ZH: "提交", EN: "Submit"},
	"review":   {ZH: "从头检查", EN: "Go over it again"},
	"thanks":   {ZH: "谢谢你！问卷已经收到。你的答案和问卷码没有任何联系，老师只看到全班合起来的结果。", EN: "Thank you! Your answers were received. They are not linked to your code; teachers see only the whole class's results."},
	"talk":     {ZH: "我想和老师聊聊", EN: "I'd like to talk to someone"},
	"talk_tip": {ZH: "想和老师聊聊，可以点下面的按钮开始一个普通的匿名举报，它和问卷答案没有关系。", EN: "To talk to someone, tap below to start an ordinary anonymous report; it is not linked to your answers."},
	"resumed":  {ZH: "已保存你之前的答案，接着答吧。", EN: "Your earlier answers were saved; carry on."},
	"gone":     {ZH: "这个聊天里没有进行中的问卷。请扫描纸条上的二维码，或打开纸条上的网址。", EN: "There is no questionnaire open in this chat. Scan your slip's QR code or open its address."},
}

// TalkData is the button data that opens an ordinary report at a school.
func TalkData(schoolCode string) string { return "sv:talk:" + schoolCode }

func (c *Chats) chatMAC(chatID int64) []byte {
	return c.S.Vault.MAC("survey-chat", strconv.AppendInt(nil, chatID, 10))
}

func chatRow(mac []byte) string { return "survey-chat|" + hex.EncodeToString(mac) }

// Active reports whether the chat is in the middle of a questionnaire.
func (c *Chats) Active(ctx context.Context, chatID int64) (bool, error) {
	row, err := c.S.DB.SurveyChat(ctx, c.chatMAC(chatID))
	return row != nil, err
}

// Start opens the questionnaire of a code for a chat and asks its first
// unanswered question.
func (c *Chats) Start(ctx context.Context, chatID int64, payload string, lang hotline.Lang) ([]ChatReply, error) {
	code := strings.TrimPrefix(payload, ChatPayload)
	mac := c.chatMAC(chatID)
	t, err := c.S.Open(ctx, code, mac)
	if err != nil {
		if IsCodeError(err) {
			return []ChatReply{{Text: hotline.ErrorMessage(err, lang)}}, nil
		}
		return nil, err
	}
	sealed, err := c.S.Vault.SealServerFor("survey-chat", chatRow(mac), []byte(t.Code))
	if err != nil {
		return nil, err
	}
	step := 0
	for step < len(t.Survey.Questions) && len(t.Answers[t.Survey.Questions[step].ID]) > 0 {
		step++
	}
	if err := c.S.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.PutSurveyChat(&store.SurveyChatRow{ChatMAC: mac, CodeSealed: sealed, Step: step, Lang: string(lang)})
	}); err != nil {
		return nil, err
	}
	intro := t.Survey.Title.In(lang) + " · " + t.School.Name + " · " + t.Class.Name() + "\n\n" + Definition.In(lang)
	out := []ChatReply{{Text: intro}}
	if len(t.Answers) > 0 {
		out = append(out, ChatReply{Text: chatTexts["resumed"].In(lang)})
	}
	return append(out, c.ask(t, step, lang)), nil
}

// load reads the chat's place and opens its code again.
func (c *Chats) load(ctx context.Context, chatID int64) (*Take, *store.SurveyChatRow, hotline.Lang, []ChatReply, error) {
	mac := c.chatMAC(chatID)
	row, err := c.S.DB.SurveyChat(ctx, mac)
	if err != nil || row == nil {
		return nil, nil, hotline.LangZH, []ChatReply{{Text: chatTexts["gone"].In(hotline.LangZH)}}, err
	}
	lang := hotline.ParseLang(row.Lang)
	code, err := c.S.Vault.OpenServerFor("survey-chat", chatRow(mac), row.CodeSealed)
	if err != nil {
		return nil, nil, lang, nil, fmt.Errorf("survey chat code: %w", err)
	}
	t, err := c.S.Open(ctx, string(code), mac)
	clear(code)
	if err != nil {
		if IsCodeError(err) {
			// Used elsewhere (the web), or closed: the chat is done.
			c.forget(ctx, mac)
			return nil, nil, lang, []ChatReply{{Text: hotline.ErrorMessage(err, lang)}}, nil
		}
		return nil, nil, lang, nil, err
	}
	return t, row, lang, nil, nil
}

func (c *Chats) forget(ctx context.Context, mac []byte) {
	if err := c.S.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSurveyChat(mac) }); err != nil {
		c.S.Log.Warn("survey chat not forgotten", "code", hotline.ErrorCode(err))
	}
}

// ask shows question step (or the confirmation after the last one).
func (c *Chats) ask(t *Take, step int, lang hotline.Lang) ChatReply {
	qs := t.Survey.Questions
	if step >= len(qs) {
		return ChatReply{Text: chatTexts["confirm"].In(lang), Buttons: [][]hotline.Button{{{Label: chatTexts["submit"].In(lang), Data: "sv:submit"}, {Label: chatTexts["review"].In(lang), Data: "sv:review"}}}}
	}
	q := &qs[step]
	text := fmt.Sprintf("%d/%d  %s", step+1, len(qs), q.Text.In(lang))
	var rows [][]hotline.Button
	s := strconv.Itoa(step)
	switch q.Kind {
	case Text:
		text += "\n\n" + chatTexts["text"].In(lang)
		rows = append(rows, []hotline.Button{{Label: chatTexts["skip"].In(lang), Data: "sv:s:" + s}})
	default:
		for _, o := range q.Options {
			label := o.Label.In(lang)
			if t.Answers.Has(q.ID, o.Key) {
				label = "✓ " + label
			}
			rows = append(rows, []hotline.Button{{Label: label, Data: "sv:o:" + s + ":" + o.Key}})
		}
		last := chatTexts["skip"]
		if q.Kind == Multiple {
			last = chatTexts["done"]
		}
		rows = append(rows, []hotline.Button{{Label: last.In(lang), Data: "sv:s:" + s}})
	}
	return ChatReply{Text: text, Buttons: rows}
}

func (c *Chats) move(ctx context.Context, row *store.SurveyChatRow, step int) error {
	row.Step = step
	return c.S.DB.Update(ctx, func(tx *store.Tx) error { return tx.PutSurveyChat(row) })
}

// Choice handles a button ("sv:..."). A button of another question than
// the current one (an old message) asks the current question again.
func (c *Chats) Choice(ctx context.Context, chatID int64, data string) ([]ChatReply, error) {
	t, row, lang, replies, err := c.load(ctx, chatID)
	if t == nil {
		return replies, err
	}
	parts := strings.Split(data, ":")
	qs := t.Survey.Questions
	switch {
	case data == "sv:submit" && row.Step >= len(qs):
		if err := c.S.Submit(ctx, t, t.Answers); err != nil && err != ErrCodeUsed {
			if IsCodeError(err) {
				c.forget(ctx, row.ChatMAC)
				return []ChatReply{{Text: hotline.ErrorMessage(err, lang)}}, nil
			}
			return nil, err
		}
		c.forget(ctx, row.ChatMAC)
		return []ChatReply{{Text: chatTexts["thanks"].In(lang)},
			{Text: chatTexts["talk_tip"].In(lang), Buttons: [][]hotline.Button{{{Label: chatTexts["talk"].In(lang), Data: TalkData(t.School.Code)}}}}}, nil
	case data == "sv:review":
		if err := c.move(ctx, row, 0); err != nil {
			return nil, err
		}
		return []ChatReply{c.ask(t, 0, lang)}, nil
	case len(parts) >= 3 && parts[2] == strconv.Itoa(row.Step) && row.Step < len(qs):
		q := &qs[row.Step]
		next := row.Step + 1
		if parts[1] == "o" && len(parts) == 4 {
			a := t.Answers.Merge(nil, nil)
			if q.Kind == Multiple {
				if a.Has(q.ID, parts[3]) {
					var keep []string
					for _, v := range a[q.ID] {
						if v != parts[3] {
							keep = append(keep, v)
						}
					}
					a[q.ID] = keep
				} else {
					a[q.ID] = append(append([]string(nil), a[q.ID]...), parts[3])
				}
				next = row.Step // choose more, then Done
			} else {
				a[q.ID] = []string{parts[3]}
			}
			if err := c.S.Save(ctx, t, a); err != nil {
				return c.codeErr(ctx, row, lang, err)
			}
		}
		if next != row.Step {
			if err := c.move(ctx, row, next); err != nil {
				return nil, err
			}
		}
		return []ChatReply{c.ask(t, next, lang)}, nil
	}
	return []ChatReply{c.ask(t, row.Step, lang)}, nil
}

func (c *Chats) codeErr(ctx context.Context, row *store.SurveyChatRow, lang hotline.Lang, err error) ([]ChatReply, error) {
	if IsCodeError(err) {
		if hotline.ErrorCode(err) != hotline.EINVALID && hotline.ErrorCode(err) != hotline.ETOOLARGE {
			c.forget(ctx, row.ChatMAC)
		}
		return []ChatReply{{Text: hotline.ErrorMessage(err, lang)}}, nil
	}
	return nil, err
}

// Text handles a message: the answer to a text question, else a reminder
// to use the buttons.
func (c *Chats) Text(ctx context.Context, chatID int64, text string) ([]ChatReply, error) {
	t, row, lang, replies, err := c.load(ctx, chatID)
	if t == nil {
		return replies, err
	}
	qs := t.Survey.Questions
	if row.Step >= len(qs) || qs[row.Step].Kind != Text {
		return []ChatReply{{Text: chatTexts["buttons"].In(lang)}, c.ask(t, row.Step, lang)}, nil
	}
	a := t.Answers.Merge(Answers{qs[row.Step].ID: {text}}, []string{qs[row.Step].ID})
	if err := c.S.Save(ctx, t, a); err != nil {
		return c.codeErr(ctx, row, lang, err)
	}
	if err := c.move(ctx, row, row.Step+1); err != nil {
		return nil, err
	}
	return []ChatReply{c.ask(t, row.Step, lang)}, nil
}
