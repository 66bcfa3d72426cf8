package dialog

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// The conversation's flow: one event applied to one conversation, routed
// to its step (apply, choice, command) and the question each step asks
// (prompt). The steps are in files of their own: school.go, role.go,
// category.go, draft.go (text and photos), danger.go (the danger and
// safety questions), confirm.go, submit.go and follow.go (after sending).

// conv is one event being applied to one conversation.
type conv struct {
	e         *Engine
	ctx       context.Context
	k         Key
	receipt   string // web follow-ups only; never copied into st
	st        *state
	fresh     bool // no saved state: first contact
	out       []Reply
	deleted   bool  // /forget removed the state: do not save it again
	submitted bool  // a tip was submitted by this event
	auto      bool  // the sweeper, not the reporter, is sending the draft
	failed    error // why the submission of this event failed
	saved     bool  // the state was saved in the commit that filed the report
	// notApplied is the first failure on our side (a service's internal
	// error): the event is then not saved, and its answer says so.
	notApplied error
	// pageSecret is the web page's secret of this event: the receipt of a
	// report it sends is sealed to it. Never copied into st.
	pageSecret string
	// botName is the Telegram bot's username this event came through
	// (Event.BotName), for the privacy notice.
	botName string
}

func (c *conv) lang() hotline.Lang { return c.st.Lang }

func (c *conv) t(l hotline.Label, args ...any) string {
	s := l.In(c.lang())
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

func (c *conv) say(kind ReplyKind, text string, buttons ...[]hotline.Button) {
	c.out = append(c.out, Reply{Kind: kind, Text: text, Buttons: buttons})
}

func (c *conv) fail(err error, buttons ...[]hotline.Button) {
	if hotline.ErrorCode(err) == hotline.EINTERNAL && c.notApplied == nil {
		c.notApplied = err
	}
	c.say(ReplyError, hotline.ErrorMessage(err, c.lang()), buttons...)
}

// replies returns the replies with safety guidance first, once: whatever
// else happened, a reporter in danger must see it before anything else.
func (c *conv) replies() []Reply {
	out := make([]Reply, 0, len(c.out))
	var safety, ask *Reply
	for i := range c.out {
		switch c.out[i].Kind {
		case ReplySafety:
			if safety == nil {
				safety = &c.out[i]
			}
			continue
		case ReplyAsk:
			ask = &c.out[i] // the last one asked
			continue
		}
		out = append(out, c.out[i])
	}
	if safety != nil {
		out = append([]Reply{*safety}, out...)
	}
	if ask != nil {
		// Last, so that its buttons are the ones a page shows.
		out = append(out, *ask)
	}
	for i := range out {
		out[i].Lang = c.lang()
	}
	return out
}

// chat reports whether the conversation is a messenger chat (Telegram,
// WeChat): the chat is the thread, and it needs no receipt.
func (c *conv) chat() bool { return c.k.Channel.Chat() }

func (c *conv) btn(l hotline.Label, data string) hotline.Button {
	return hotline.Button{Label: c.t(l), Data: data}
}

// Button data. Buttons come back from the client, so every value is checked
// again when it arrives.
const (
	dataLang      = "lang:"
	dataSchool    = "school:"
	dataRole      = "role:"
	dataCategory  = "cat:"
	dataTip       = "tip:"
	dataCmd       = "cmd:"
	dataDone      = "done"
	dataDangerYes = "danger:yes"
	dataDangerNo  = "danger:no"
	dataSend      = "send"
	dataUrgent    = "urgent:send" // "send to the school now", offered once a draft turns urgent
	dataEdit      = "edit"
	dataForgetYes = "forget:yes"
	dataForgetNo  = "forget:no"
	dataSafeYes   = "safe:yes" // the safety question: "yes, I need help"
	dataSafeNo    = "safe:no"
	notSure       = "unsure"
)

var commands = map[string]bool{"sos": true, "start": true, "new": true, "status": true, "help": true, "language": true, "forget": true, "cancel": true, "tips": true}

// normalize turns a typed "/status" into a command: the web chat has no
// command menu, and a Telegram transport may pass commands through as text.
func normalize(ev Event) Event {
	if ev.Kind == EventText && strings.HasPrefix(ev.Text, "/") {
		word, arg, _ := strings.Cut(strings.TrimSpace(ev.Text[1:]), " ")
		word, _, _ = strings.Cut(word, "@") // "/start@SomeBot"
		if commands[strings.ToLower(word)] {
			return Event{Kind: EventCommand, Command: word, Text: strings.TrimSpace(arg), Lang: ev.Lang, School: ev.School}
		}
	}
	if ev.Kind == EventCommand {
		ev.Command = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(ev.Command)), "/")
		ev.Command, _, _ = strings.Cut(ev.Command, "@")
		ev.Text = strings.TrimSpace(ev.Text)
	}
	return ev
}

func (c *conv) apply(ev Event) {
	ev = normalize(ev)
	switch ev.Kind {
	case EventCommand:
		c.command(ev.Command, ev.Text, ev)
	case EventChoice:
		c.choice(ev.Choice, ev)
	case EventText, EventPhoto:
		c.input(ev)
	default:
		if c.st.Step == stepNew {
			c.begin(ev.School)
			return
		}
		c.prompt()
	}
}

// prompt asks the question of the current step again.
func (c *conv) prompt() {
	switch c.st.Step {
	case stepNew:
		c.begin("")
	case stepSchool:
		c.say(ReplyText, c.t(txtAskSchool))
	case stepRole:
		rows := make([][]hotline.Button, 0, len(hotline.ReporterRoles)+1)
		rows = c.urgentRows(rows)
		for _, r := range hotline.ReporterRoles {
			rows = append(rows, []hotline.Button{c.btn(r.Label(), dataRole+string(r))})
		}
		c.say(ReplyText, c.t(txtAskRole), rows...)
	case stepCategory:
		rows := c.urgentRows(make([][]hotline.Button, 0, len(hotline.Categories)+2))
		for _, k := range hotline.Categories {
			rows = append(rows, []hotline.Button{c.btn(k.Label(), dataCategory+string(k))})
		}
		rows = append(rows, []hotline.Button{c.btn(txtNotSure, dataCategory+notSure)})
		c.say(ReplyText, c.t(txtAskCategory), rows...)
	case stepText:
		if c.st.hasDraft() {
			c.say(ReplyText, c.t(txtAskText), c.urgentRows(nil, c.doneRow())...)
		} else {
			c.say(ReplyText, c.t(txtAskText))
		}
	case stepDanger:
		// This question asks what the safety question asks: its answer
		// answers both, and the two are not offered side by side.
		rows := [][]hotline.Button{{c.btn(txtYes, dataDangerYes), c.btn(txtNo, dataDangerNo)}}
		if !c.st.UrgentAt.IsZero() {
			rows = append([][]hotline.Button{{c.btn(txtBtnUrgentSend, dataUrgent)}}, rows...)
		}
		c.say(ReplyText, c.t(txtAskDanger), rows...)
	case stepConfirm:
		c.confirm()
	case stepFollow:
		c.say(ReplyText, c.t(txtFollowPrompt), []hotline.Button{c.btn(txtBtnStatus, dataCmd+"status"), c.btn(txtBtnNew, dataCmd+"new")})
	case stepIdle:
		c.say(ReplyText, c.t(txtIdle), []hotline.Button{c.btn(txtBtnNew, dataCmd+"new")})
	case stepForget:
		c.say(ReplyText, c.t(c.forChannel(txtForgetAsk, txtForgetAskWechat)), []hotline.Button{c.btn(txtBtnForgetYes, dataForgetYes), c.btn(txtBtnForgetNo, dataForgetNo)})
	default:
		// An unknown step (a damaged state) restarts rather than strands.
		c.st.Step = c.st.draftStep()
		c.prompt()
	}
}

// reprompt is prompt for Engine.Prompt: the state it changes is never
// saved, and it calls no service.
func (c *conv) reprompt() {
	st := c.st
	if !st.UrgentAt.IsZero() && st.hasDraft() {
		c.safety(st.School)
	}
	if st.Ask.waiting() {
		c.askReply()
	}
	if st.Step == stepFollow && st.Active != "" {
		alias := st.Alias.In(c.lang())
		c.out = append(c.out, Reply{Kind: ReplySubmitted, Text: c.t(txtAlreadySent, alias), Alias: alias, TipUID: st.Active})
	}
	c.prompt()
}

// dur writes a deadline for a reporter: "1 小时", "2 hours", "30 分钟".
func (c *conv) dur(d time.Duration) string { return hotline.Duration(d).In(c.lang()) }

func (c *conv) choice(data string, ev Event) {
	if !utf8.ValidString(data) || len(data) > 256 {
		c.stale()
		return
	}
	switch {
	case strings.HasPrefix(data, dataCmd):
		c.command(strings.TrimPrefix(data, dataCmd), "", ev)
	case strings.HasPrefix(data, dataLang):
		c.setLang(strings.TrimPrefix(data, dataLang))
	case strings.HasPrefix(data, dataTip):
		c.selectTip(strings.TrimPrefix(data, dataTip))
	case data == dataSafeYes || data == dataSafeNo:
		c.answerSafety(data == dataSafeYes)
	case data == dataUrgent:
		switch {
		case !c.st.UrgentAt.IsZero() && c.st.hasDraft() && c.st.School != nil:
			c.submit()
		case c.st.Step == stepFollow && c.st.Active != "":
			// Sent already (by the reporter's other tap, or the sweeper).
			c.alreadySent()
		case c.st.Step == stepFollow:
			c.prompt()
		default:
			c.stale()
		}
	case c.st.Step == stepNew:
		c.begin(ev.School)
	case strings.HasPrefix(data, dataSchool) && c.st.Step == stepSchool:
		c.chooseSchool(strings.TrimPrefix(data, dataSchool))
	case strings.HasPrefix(data, dataRole) && c.st.Step == stepRole:
		c.chooseRole(strings.TrimPrefix(data, dataRole))
	case strings.HasPrefix(data, dataCategory) && c.st.Step == stepCategory:
		c.chooseCategory(strings.TrimPrefix(data, dataCategory))
	case data == dataDone && c.st.Step == stepText:
		c.doneWriting()
	case (data == dataDangerYes || data == dataDangerNo) && c.st.Step == stepDanger:
		c.answerDanger(data == dataDangerYes)
	case data == dataSend && c.st.Step == stepConfirm:
		c.submit()
	case data == dataSend && c.st.Step == stepFollow && c.st.Active != "":
		// A "send" resent after its report was filed (the answer was
		// lost to a dropped connection or a restart): the same report.
		c.alreadySent()
	case data == dataEdit && c.st.Step == stepConfirm:
		c.st.Step = stepText
		c.prompt()
	case data == dataForgetYes && c.st.Step == stepForget:
		c.forget()
	case data == dataForgetNo && c.st.Step == stepForget:
		c.st.Step, c.st.Back = c.st.Back, ""
		c.say(ReplyText, c.t(txtForgetKept))
		c.prompt()
	default:
		c.stale()
	}
}

// stale answers a button from an old message: say so, ask the current question.
func (c *conv) stale() {
	c.say(ReplyText, c.t(txtStale))
	c.prompt()
}

func (c *conv) setLang(v string) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "en", "english":
		c.st.Lang = hotline.LangEN
	case "zh", "cn", "中文", "chinese":
		c.st.Lang = hotline.LangZH
	default:
		c.say(ReplyText, c.t(txtLangAsk), []hotline.Button{{Label: langNameZH, Data: dataLang + "zh"}, {Label: langNameEN, Data: dataLang + "en"}})
		return
	}
	c.say(ReplyText, c.t(txtLangSet))
	c.prompt()
}

func (c *conv) command(name, arg string, ev Event) {
	if c.st.Step == stepForget && name != "forget" {
		// Any other command answers "not now".
		c.st.Step, c.st.Back = c.st.Back, ""
	}
	switch name {
	case "start":
		code := arg
		if code == "" {
			code = ev.School
		}
		if c.st.hasDraft() {
			// Tapping the poster's link again must not throw away what a
			// child already wrote: the draft stays until they send or
			// cancel it.
			c.say(ReplyText, c.t(txtStartKeepsDraft))
			if !c.st.drafting() {
				c.st.Step = c.st.draftStep()
			}
			c.prompt()
			return
		}
		c.begin(code)
	case "new":
		c.newReport(ev.School)
	case "status":
		c.status()
	case "help":
		if c.chat() {
			c.say(ReplyText, c.t(txtHelp))
		} else {
			c.say(ReplyText, c.t(txtHelpWeb))
		}
	case "language":
		c.setLang(arg)
	case "forget":
		if !c.chat() {
			c.say(ReplyText, c.t(txtForgetWeb))
			return
		}
		if c.st.Step != stepForget {
			c.st.Back = c.st.Step
			c.st.Step = stepForget
		}
		c.prompt()
	case "sos":
		// A messenger's "emergency" menu button: the safety guidance with
		// the school's number when it is known, then where we were.
		c.safety(c.st.School)
		c.prompt()
	case "cancel":
		c.cancel()
	case "tips":
		c.tips()
	default:
		c.say(ReplyText, c.t(txtHelp))
	}
}

// newReport starts another report, or picks an unfinished one up again:
// the reporter's words are dropped only by an explicit cancel.
func (c *conv) newReport(code string) {
	if c.st.hasDraft() {
		c.say(ReplyText, c.t(txtResumeDraft))
		if !c.st.drafting() {
			c.st.Step = c.st.draftStep()
		}
		c.prompt()
		return
	}
	if c.st.Step == stepNew {
		c.begin(code)
		return
	}
	c.st.resetDraft()
	if c.st.School == nil && code != "" {
		c.setSchool(code)
	}
	c.st.Step = c.st.draftStep()
	c.prompt()
}

func (c *conv) cancel() {
	if !c.st.drafting() && !c.st.hasDraft() {
		c.say(ReplyText, c.t(txtNothingToCancel))
		c.prompt()
		return
	}
	c.unanswered()
	c.st.resetDraft()
	c.say(ReplyText, c.t(txtCancelled))
	if c.st.Active != "" {
		c.st.Step = stepFollow
	} else {
		c.st.Step = stepIdle
	}
	c.prompt()
}

// forChannel picks the WeChat wording of a text that names the messenger
// (Telegram's /start, "stays in Telegram").
func (c *conv) forChannel(telegram, wechat hotline.Label) hotline.Label {
	if c.k.Channel == hotline.ChannelWechat {
		return wechat
	}
	return telegram
}
