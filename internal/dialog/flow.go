package dialog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/thread"
)

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

// begin starts a report from the top: privacy notice (once per Telegram
// conversation), greeting, then the school (unless pre-set) and the role.
func (c *conv) begin(code string) {
	c.start(code)
	c.prompt()
}

// start is begin without the question, for callers that add a reply first.
func (c *conv) start(code string) {
	c.st.resetDraft()
	c.st.School = nil
	switch {
	case c.st.Privacy:
	case c.k.Channel == hotline.ChannelWechat:
		// Tencent sees the chat; the school does not see who writes.
		// WeChat tells us no language: both, Chinese first.
		c.say(ReplyPrivacy, txtPrivacyWechat.ZH+"\n\n"+txtPrivacyWechat.EN)
		c.st.Privacy = true
	case c.k.Channel == hotline.ChannelTelegram:
		bot := c.t(txtThisBot)
		if c.botName != "" {
			bot = "@" + strings.TrimPrefix(c.botName, "@")
		}
		c.say(ReplyPrivacy, c.t(txtPrivacy, bot))
		c.st.Privacy = true
	}
	c.say(ReplyText, c.t(txtGreeting, int(DraftKeep/(24*time.Hour)), int(UrgentSendAfter/time.Minute), int(hotline.SafetyQuestionWait/time.Minute)), c.langRow())
	c.st.Step = stepSchool
	if code = strings.TrimSpace(code); code != "" && c.setSchool(code) {
		c.st.Step = stepRole
	}
}

// langRow offers the other language.
func (c *conv) langRow() []hotline.Button {
	if c.lang() == hotline.LangEN {
		return []hotline.Button{{Label: langNameZH, Data: dataLang + "zh"}}
	}
	return []hotline.Button{{Label: langNameEN, Data: dataLang + "en"}}
}

// setSchool looks a school up by its code and makes it the draft's school.
func (c *conv) setSchool(code string) bool {
	if len(code) > maxCodeLen || !utf8.ValidString(code) {
		c.fail(hotline.ErrSchoolNotFound)
		return false
	}
	s, err := c.e.Schools.SchoolByCode(c.ctx, code)
	if err == nil && s == nil {
		err = hotline.ErrSchoolNotFound
	}
	if err != nil {
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			err = hotline.ErrSchoolNotFound
		}
		c.fail(err)
		return false
	}
	c.st.School = newSchoolRef(s)
	c.say(ReplyText, c.t(txtSchoolSet, c.st.School.name(c.lang())))
	return true
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

func (c *conv) doneRow() []hotline.Button { return []hotline.Button{c.btn(txtBtnDone, dataDone)} }

// urgentRows puts "send to the school now" first, while an urgent draft
// waits for it, and the safety question's answers while it waits, before
// rows: a page that shows only the latest buttons keeps them.
func (c *conv) urgentRows(into [][]hotline.Button, rows ...[]hotline.Button) [][]hotline.Button {
	if !c.st.UrgentAt.IsZero() {
		into = append(into, []hotline.Button{c.btn(txtBtnUrgentSend, dataUrgent)})
	}
	if c.st.Ask.waiting() {
		into = append(into, c.askRows()...)
	}
	return append(into, rows...)
}

// askRows are the safety question's two answers.
func (c *conv) askRows() [][]hotline.Button {
	return [][]hotline.Button{{c.btn(txtBtnSafeYes, dataSafeYes)}, {c.btn(txtBtnSafeNo, dataSafeNo)}}
}

// askReply shows the waiting safety question with its answers.
func (c *conv) askReply() {
	var text string
	switch {
	case c.st.Ask != nil && c.st.Ask.Tip != "":
		text = c.t(txtAskSafetyFiled)
	case c.st.School != nil:
		text = c.t(txtAskSafetyDraftSend, int(hotline.SafetyQuestionWait/time.Minute))
	default:
		text = c.t(txtAskSafetyDraft)
	}
	rows := c.askRows()
	if c.st.Step == stepText && c.st.hasDraft() && c.st.Ask.Tip == "" {
		// A page shows the latest buttons only: "done" stays reachable.
		rows = append(rows, c.doneRow())
	}
	c.out = append(c.out, Reply{Kind: ReplyAsk, Text: text, Buttons: rows})
}

// ask asks the safety question about the draft (tip "") or a filed
// report, at once: the detector was unsure of what the reporter wrote.
// Asking directly is what crisis lines do; it does not put the idea in a
// child's head. due is when it goes unanswered.
func (c *conv) ask(tip string, due time.Time) {
	c.st.Ask = &question{Due: due, Tip: tip}
	c.askReply()
}

// count records an event of the safety question, counted when the state
// is saved (Meta.Count) for the school's district.
func (c *conv) count(kind string) { c.st.Counts = append(c.st.Counts, kind) }

// unanswered counts a question about the draft that waits as going
// unanswered: the draft is about to go (cancelled, forgotten), and every
// question asked has one outcome.
func (c *conv) unanswered() {
	if c.st.draftWaiting() {
		c.st.Ask.Answer = answerNone
		c.count(hotline.SafetyCountNone)
	}
}

// answerSafety takes the reporter's answer to the safety question. Yes is
// never turned away, whatever question it answers (an old button, a late
// tap): a draft takes the urgent path (safety guidance now, the offer to
// send it, sent by itself after UrgentSendAfter); a filed report is marked
// urgent and the on-call paged. No goes on as before.
func (c *conv) answerSafety(yes bool) {
	st := c.st
	q := st.Ask
	answer := answerNo
	if yes {
		answer = answerYes
	}
	target := st.Active
	if q != nil && q.Tip != "" {
		target = q.Tip
	}
	onFiled := !st.hasDraft() && target != "" && (q.waiting() || yes)
	if q.waiting() && (q.Tip == "") == st.hasDraft() {
		q.Answer = answer
		if q.Tip == "" {
			kind := hotline.SafetyCountNo
			if yes {
				kind = hotline.SafetyCountYes
			}
			c.count(kind)
		}
	}
	switch {
	case st.hasDraft():
		if yes {
			st.DangerNow = true
			c.safety(st.School)
			if st.School == nil {
				c.prompt() // the school first; checkUrgent offers to send then
			}
			return
		}
		c.say(ReplyText, c.t(txtSafeNo))
		c.prompt()
	case onFiled:
		if c.e.Safety == nil {
			if yes {
				c.safety(st.School)
			}
			c.prompt()
			return
		}
		ref, ok := c.ref()
		if !ok {
			c.say(ReplyError, c.t(txtNeedReceipt))
			return
		}
		ref.TipUID = target
		tip, err := c.e.Safety.AnswerSafety(c.ctx, ref, yes)
		if err != nil {
			if yes {
				c.safety(st.School) // whatever failed, the numbers
			}
			c.fail(err, c.askRows()...)
			return
		}
		st.Ask = nil
		if yes {
			c.safety(st.School)
			c.out = append(c.out, Reply{Kind: ReplyText, Text: c.t(txtSafeYesFiled, c.dur(st.School.ack(true))), TipUID: tip.UID})
			return
		}
		c.say(ReplyText, c.t(txtSafeNo))
	case yes:
		// Nothing to mark: the guidance, and a report can begin.
		c.safety(st.School)
		c.prompt()
	default:
		c.stale()
	}
}

// checkUrgent runs after every event: the moment a draft with a known
// school turns urgent, the reporter is offered to send it at once, told
// that it goes by itself after UrgentSendAfter, and the sweeper's clock
// starts. A draft that is no longer urgent (the reporter answered "no one
// is in danger now" to an urgent answer they had given) stops waiting.
func (c *conv) checkUrgent() {
	st := c.st
	if !(st.Urgent || st.DangerNow) || !st.hasDraft() || st.School == nil {
		st.UrgentAt = time.Time{}
		return
	}
	if !st.UrgentAt.IsZero() {
		return
	}
	st.UrgentAt = c.e.now()
	if st.draftWaiting() {
		// Urgent already: the question has no more to find out.
		st.Ask.Answer = answerOvertaken
		c.count(hotline.SafetyCountOvertaken)
	}
	if !slices.ContainsFunc(c.out, func(r Reply) bool { return r.Kind == ReplySafety }) {
		c.safety(st.School)
	}
	offer := Reply{Kind: ReplyText, Text: c.t(txtUrgentOffer, c.dur(st.School.ack(true)), int(UrgentSendAfter/time.Minute)),
		Buttons: [][]hotline.Button{{c.btn(txtBtnUrgentSend, dataUrgent)}}}
	c.out = append([]Reply{offer}, c.out...)
}

// dur writes a deadline for a reporter: "1 小时", "2 hours", "30 分钟".
func (c *conv) dur(d time.Duration) string { return hotline.Duration(d).In(c.lang()) }

func (c *conv) confirm() {
	school, role, category := c.t(txtNone), c.t(txtNone), c.t(txtNone)
	if c.st.School != nil {
		school = c.st.School.name(c.lang())
	}
	if c.st.Role.Valid() {
		role = c.t(c.st.Role.Label())
	}
	if c.st.Category.Valid() {
		category = c.t(c.st.Category.Label())
	}
	danger := c.t(txtNo)
	if c.st.DangerNow {
		danger = c.t(txtYes)
	}
	c.say(ReplyText, c.t(txtConfirm, school, role, category, len(c.st.Texts), len(c.st.Photos), danger),
		[]hotline.Button{c.btn(txtBtnSend, dataSend)},
		[]hotline.Button{c.btn(txtBtnEdit, dataEdit), c.btn(txtBtnCancel, dataCmd+"cancel")})
}

// safety shows urgent guidance with the school's emergency contact: in full
// the first time in a report, then as a short reminder with the same
// numbers, so that repeats do not bury what comes next.
func (c *conv) safety(school *schoolRef) {
	text := c.t(txtSafety)
	if c.st.SafetyOn {
		text = c.t(txtSafetyAgain)
	}
	c.st.SafetyOn = true
	if school != nil && school.Emergency != "" {
		text += "\n" + c.t(txtSafetySchool, school.Emergency)
	}
	c.say(ReplySafety, text)
}

// input handles a text or a photo from the reporter.
func (c *conv) input(ev Event) {
	text := ev.Text
	var photo *hotline.Photo
	if ev.Kind == EventPhoto {
		if ev.Photo == nil || len(ev.Photo.Data) == 0 {
			c.fail(hotline.ErrPhotoInvalid)
			return
		}
		photo = ev.Photo
	}
	switch c.st.Step {
	case stepNew, stepIdle:
		// A reporter who just starts writing is starting a report: keep the
		// words rather than make them say it twice.
		code := ev.School
		if c.st.Step == stepIdle && c.st.School != nil {
			code = c.st.School.Code
		}
		c.start(code)
		if c.draft(text, photo) {
			c.say(ReplyText, c.t(txtNoted))
		}
		c.prompt()
	case stepSchool:
		// A photo, or words that show danger, are not a school's name:
		// they belong to the report, and danger gets its guidance now.
		if photo != nil || (c.e.Urgent != nil && c.e.Urgent(text)) || (c.e.Unsure != nil && c.e.Unsure(text)) {
			if c.draft(text, photo) {
				c.say(ReplyText, c.t(txtNoted))
			}
			c.prompt()
			return
		}
		c.findSchool(text)
	case stepText:
		if c.draft(text, photo) {
			// The offer of an urgent draft comes with each
			// acknowledgement; checkUrgent makes the first one.
			if photo != nil {
				c.say(ReplyText, c.t(txtGotPhoto), c.urgentRows(nil, c.doneRow())...)
			} else {
				c.say(ReplyText, c.t(txtGotText), c.urgentRows(nil, c.doneRow())...)
			}
		}
	case stepRole, stepCategory, stepDanger, stepConfirm:
		// Words written before the question is answered still belong to
		// the report.
		if c.draft(text, photo) {
			c.say(ReplyText, c.t(txtNoted))
		}
		c.prompt()
	case stepFollow:
		c.followUp(text, photo)
	case stepForget:
		// Writing on instead of answering means "not now".
		c.st.Step = c.st.Back
		c.st.Back = ""
		if c.st.Step == stepForget {
			c.st.Step = stepNew
		}
		c.input(ev)
	default:
		c.prompt()
	}
}

// checkText validates a reporter's text as intake will, so that the draft
// never holds what could not be submitted.
func checkText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", hotline.ErrInvalidUTF8
	}
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > maxTextRunes {
		return "", hotline.ErrTooLong
	}
	return text, nil
}

// draft adds a text and/or photo to the draft and shows safety guidance the
// moment a text looks urgent. It reports whether anything was added.
func (c *conv) draft(text string, photo *hotline.Photo) bool {
	text, err := checkText(text)
	if err != nil {
		c.fail(err)
		return false
	}
	if photo != nil && len(photo.Data) > maxPhotoBytes {
		c.fail(hotline.ErrPhotoTooLarge)
		return false
	}
	if text == "" && photo == nil {
		return false
	}
	if (text != "" && len(c.st.Texts) >= maxDraftTexts) || (photo != nil && len(c.st.Photos) >= maxPhotos) {
		c.say(ReplyError, c.t(txtDraftFull))
		return false
	}
	c.st.submission() // created with the draft, before it can be sent
	if photo != nil {
		c.st.Photos = append(c.st.Photos, hotline.Photo{Data: photo.Data, Type: photo.Type})
	}
	if text != "" {
		c.st.Texts = append(c.st.Texts, text)
		switch {
		case c.e.Urgent != nil && c.e.Urgent(text):
			c.st.Urgent = true
			if !c.st.SafetyOn {
				c.safety(c.st.School)
			}
		case c.st.Ask == nil && !c.st.DangerNow && !c.st.Urgent && c.e.Unsure != nil && c.e.Unsure(text):
			// Once a draft: a reporter who answered is not asked again
			// about the same report.
			c.count(hotline.SafetyCountAsked)
			c.ask("", c.e.now().Add(hotline.SafetyQuestionWait))
		}
	}
	return true
}

func (c *conv) findSchool(query string) {
	query, err := checkText(query)
	if err != nil {
		c.fail(err)
		return
	}
	if query == "" {
		c.prompt()
		return
	}
	if utf8.RuneCountInString(query) > maxQueryLen {
		c.say(ReplyText, c.t(txtSchoolNone))
		return
	}
	schools, err := c.e.Schools.FindSchools(c.ctx, query, schoolResults)
	if err != nil {
		c.fail(err)
		return
	}
	rows := make([][]hotline.Button, 0, len(schools))
	for _, s := range schools {
		if s == nil {
			continue
		}
		// A typed exact code needs no second tap.
		if strings.EqualFold(s.Code, query) {
			c.st.School = newSchoolRef(s)
			c.say(ReplyText, c.t(txtSchoolSet, c.st.School.name(c.lang())))
			c.st.Step = c.st.draftStep()
			c.prompt()
			return
		}
		label := s.DisplayName(c.lang())
		if s.District != "" {
			label += "（" + s.District + "）"
		}
		rows = append(rows, []hotline.Button{{Label: label, Data: dataSchool + s.Code}})
	}
	if len(rows) == 0 {
		c.say(ReplyText, c.t(txtSchoolNone))
		return
	}
	c.say(ReplyText, c.t(txtSchoolPick), rows...)
}

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
		if c.setSchool(strings.TrimPrefix(data, dataSchool)) {
			c.st.Step = c.st.draftStep()
		}
		c.prompt()
	case strings.HasPrefix(data, dataRole) && c.st.Step == stepRole:
		r := hotline.ReporterRole(strings.TrimPrefix(data, dataRole))
		if !r.Valid() {
			c.stale()
			return
		}
		c.st.Role = r
		c.st.Step = stepCategory
		c.prompt()
	case strings.HasPrefix(data, dataCategory) && c.st.Step == stepCategory:
		v := strings.TrimPrefix(data, dataCategory)
		k := hotline.Category(v)
		if v == notSure {
			k = hotline.CategoryOther
		}
		if !k.Valid() {
			c.stale()
			return
		}
		c.st.Category = k
		c.st.Step = stepText
		c.prompt()
	case data == dataDone && c.st.Step == stepText:
		if !c.st.hasDraft() {
			c.say(ReplyText, c.t(txtDraftEmpty))
			return
		}
		c.st.Step = stepDanger
		c.prompt()
	case (data == dataDangerYes || data == dataDangerNo) && c.st.Step == stepDanger:
		c.st.DangerNow = data == dataDangerYes
		if c.st.draftWaiting() {
			kind, answer := hotline.SafetyCountNo, answerNo
			if c.st.DangerNow {
				kind, answer = hotline.SafetyCountYes, answerYes
			}
			c.st.Ask.Answer = answer
			c.count(kind)
		}
		if c.st.DangerNow {
			c.safety(c.st.School)
		}
		c.st.Step = stepConfirm
		c.prompt()
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

// submit sends the draft. A failed submission keeps the draft and offers to
// try again: nothing the reporter wrote may be lost. An urgent draft goes
// without waiting for the role and kind, and so does a possibly urgent one
// the sweeper sends: intake files those as "other".
func (c *conv) submit() {
	st := c.st
	urgentDraft := !st.UrgentAt.IsZero()
	early := urgentDraft || (c.auto && st.PossiblyUrgent)
	if st.School == nil || !st.hasDraft() || (!early && (!st.Role.Valid() || !st.Category.Valid())) {
		st.Step = st.draftStep()
		c.prompt()
		return
	}
	sub := hotline.Submission{
		SchoolCode: st.School.Code,
		Channel:    c.k.Channel,
		Role:       st.Role,
		Category:   st.Category,
		Lang:       c.lang(),
		Texts:      append([]string(nil), st.Texts...),
		Photos:     append([]hotline.Photo(nil), st.Photos...),
		DangerNow:  st.DangerNow,
	}
	if c.chat() {
		sub.ChatID = c.k.ChatID
	}
	sub.Auto = c.auto
	if q := st.Ask; q != nil && q.Tip == "" {
		sub.SafetyAsked = true
		sub.SafetyYes = q.Answer == answerYes
		if q.waiting() {
			sub.SafetyDue = q.Due
		}
	}
	sub.PossiblyUrgent = st.PossiblyUrgent
	sub.SubmissionID = st.submission()
	if c.k.Channel.Web() {
		sub.PageSecret = c.pageSecret
	}
	recorded := false
	sub.Record = func(ctx context.Context, res *hotline.Submitted) error {
		// The conversation as it stands after this submission, saved in
		// the commit that files it: a crash cannot leave a filed report
		// behind a draft still waiting to be sent. A copy, so that a
		// transaction that fails after this leaves the draft as it was.
		after := *st
		c.sent(&after, res)
		b, meta, err := c.e.encode(&after, c.k)
		if err != nil {
			return err
		}
		if err := c.e.Store.Save(ctx, c.k, b, meta); err != nil {
			return err
		}
		recorded = true
		return nil
	}
	res, err := c.e.Intake.Submit(c.ctx, sub)
	if err == nil && (res == nil || res.TipUID == "") {
		err = errors.New("dialog: intake returned no tip")
	}
	if err != nil {
		c.failed = err
		retry := dataSend
		if urgentDraft {
			retry = dataUrgent
		}
		c.say(ReplyError, hotline.ErrorMessage(err, c.lang())+"\n"+c.t(txtDraftKept),
			[]hotline.Button{c.btn(txtBtnRetry, retry), c.btn(txtBtnEdit, dataEdit)})
		return
	}
	school := st.School
	if res.School != nil {
		school = newSchoolRef(res.School)
	}
	urgent := res.Urgent || st.DangerNow || st.Urgent
	if urgent {
		c.safety(school)
	}
	alias := res.Alias.In(c.lang())
	msg := txtSubmitted
	switch {
	case urgent && c.k.Channel.Web():
		msg = txtSubmittedUrgentWeb
	case urgent:
		msg = txtSubmittedUrgent
	case c.k.Channel.Web():
		msg = txtSubmittedWeb
	}
	c.out = append(c.out, Reply{Kind: ReplySubmitted, Text: c.t(msg, alias, c.dur(school.ack(urgent))), Alias: alias, TipUID: res.TipUID})
	receipt := res.Receipt
	if receipt == "" && res.Repeated && !c.auto {
		receipt = c.claimReceipt(res.TipUID)
	}
	if c.k.Channel.Web() && receipt != "" {
		c.out = append(c.out, Reply{Kind: ReplyReceipt, Text: c.t(txtReceipt), Receipt: receipt, TipUID: res.TipUID})
	}
	c.sent(st, res)
	c.saved = recorded
	c.submitted = true
	if st.Ask.waiting() {
		c.askReply() // still waiting, now on the report
	}
}

// sent moves a conversation on after its draft was filed as res: the draft
// goes, follow-ups go to the new tip.
func (c *conv) sent(st *state, res *hotline.Submitted) {
	if res.School != nil {
		st.School = newSchoolRef(res.School)
	}
	possibly := st.PossiblyUrgent && !res.Urgent
	waiting, due := st.draftWaiting(), time.Time{}
	if waiting {
		due = st.Ask.Due
	}
	st.resetDraft()
	st.Active, st.Alias = res.TipUID, res.Alias
	switch {
	case waiting && !res.Urgent:
		// The question now waits on the filed report.
		st.Ask = &question{Due: due, Tip: res.TipUID}
	case !res.SafetyDue.IsZero():
		st.Ask = &question{Due: res.SafetyDue, Tip: res.TipUID}
	}
	st.Back = ""
	st.Step = stepFollow
	if c.auto {
		// Nobody reads these replies now. A Telegram reporter is told
		// through the relay when intake says so (Notified); anyone else
		// hears of the send at their next event, a web reporter gets
		// their receipt then.
		st.Sent = &sentNotice{TipUID: res.TipUID, Alias: res.Alias, Told: res.Notified, Possibly: possibly}
		if c.k.Channel.Web() {
			st.Sent.Receipt = res.Receipt
		}
	}
}

// claimReceipt asks for the receipt of a web report of this page whose
// answer was lost; empty when there is none to hand back.
func (c *conv) claimReceipt(tipUID string) string {
	if !c.k.Channel.Web() || c.pageSecret == "" || c.e.Receipts == nil || c.receipt != "" {
		return ""
	}
	r, err := c.e.Receipts.ClaimReceipt(c.ctx, tipUID, c.pageSecret)
	if err != nil {
		return ""
	}
	c.receipt = r
	return r
}

// alreadySent answers a "send" that arrives after its report was filed:
// the reporter is told the report was received, with its alias, and a web
// page that lost its receipt gets it back (with its page secret, until the
// page has written with it).
func (c *conv) alreadySent() {
	alias := c.st.Alias.In(c.lang())
	c.out = append(c.out, Reply{Kind: ReplySubmitted, Text: c.t(txtAlreadySent, alias), Alias: alias, TipUID: c.st.Active})
	if r := c.claimReceipt(c.st.Active); r != "" {
		c.out = append(c.out, Reply{Kind: ReplyReceipt, Text: c.t(txtReceipt), Receipt: r, TipUID: c.st.Active})
	}
	c.prompt()
}

// tellSent tells the reporter of a report the sweeper sent, once, with the
// usual receipt card on the web; that receipt then carries this event's
// follow-up. It reports whether there was anything to tell.
func (c *conv) tellSent() bool {
	n := c.st.Sent
	if n == nil {
		return false
	}
	c.st.Sent = nil
	if n.Told {
		return true // told at once; only the guard against old buttons is left
	}
	alias := n.Alias.In(c.lang())
	msg, wait, ack := txtAutoSent, UrgentSendAfter, c.st.School.ack(true)
	if n.Possibly {
		msg, wait, ack = txtPossiblySent, hotline.SafetyQuestionWait, c.st.School.ack(false)
	}
	if c.k.Channel.Web() {
		msg = map[bool]hotline.Label{false: txtAutoSentWeb, true: txtPossiblySentWeb}[n.Possibly]
	}
	text := c.t(msg, int(wait/time.Minute), alias, c.dur(ack))
	c.out = append(c.out, Reply{Kind: ReplySubmitted, Text: text, Alias: alias, TipUID: n.TipUID})
	if c.k.Channel.Web() && n.Receipt != "" {
		c.out = append(c.out, Reply{Kind: ReplyReceipt, Text: c.t(txtReceipt), Receipt: n.Receipt, TipUID: n.TipUID})
		if c.receipt == "" {
			c.receipt = n.Receipt
		}
	}
	return true
}

// waitsAfterSent says which events are only answered, not applied, when
// they are the first after an automatic send: taps on buttons of the old
// draft and commands that would start another report.
func waitsAfterSent(ev Event) bool {
	ev = normalize(ev)
	switch ev.Kind {
	case EventChoice:
		return true
	case EventCommand:
		return ev.Command == "start" || ev.Command == "new" || ev.Command == "cancel"
	}
	return false
}

// ref finds the active tip: by chat on Telegram, by receipt on the web.
func (c *conv) ref() (hotline.ReporterRef, bool) {
	if c.chat() {
		return hotline.ReporterRef{ChatID: c.k.ChatID, TipUID: c.st.Active}, true
	}
	if c.receipt == "" {
		return hotline.ReporterRef{}, false
	}
	return hotline.ReporterRef{Receipt: c.receipt, TipUID: c.st.Active}, true
}

func (c *conv) followUp(text string, photo *hotline.Photo) {
	text, err := checkText(text)
	if err != nil {
		c.fail(err)
		return
	}
	if text == "" && photo == nil {
		c.fail(hotline.ErrEmptyMessage)
		return
	}
	ref, ok := c.ref()
	if !ok {
		c.say(ReplyError, c.t(txtNeedReceipt))
		return
	}
	res, err := c.e.Intake.AddReporterMessage(c.ctx, ref, text, photo)
	if err == nil && res == nil {
		err = errors.New("dialog: intake returned no result")
	}
	if err != nil {
		if errors.Is(err, hotline.ErrTipClosed) {
			c.fail(err, []hotline.Button{c.btn(txtBtnNew, dataCmd+"new")})
			return
		}
		c.fail(err)
		return
	}
	if res.Urgent {
		c.safety(c.st.School)
	}
	if res.TipUID != "" {
		c.st.Active, c.st.Alias = res.TipUID, res.Alias
	}
	c.out = append(c.out, Reply{Kind: ReplyText, Text: c.t(txtForwarded), TipUID: c.st.Active})
	if !res.SafetyDue.IsZero() {
		// Intake asked (and counted) it: it waits on the case.
		c.ask(c.st.Active, res.SafetyDue)
	}
}

// chatTips lists a Telegram chat's tips, or the one tip of a web receipt.
func (c *conv) chatTips() ([]*hotline.Tip, error) {
	if c.chat() {
		return c.e.Reporters.ChatTips(c.ctx, c.k.ChatID)
	}
	if c.receipt == "" {
		return nil, nil
	}
	// The tip's status only: its thread stays sealed.
	tip, err := c.e.Reporters.TipStatus(c.ctx, c.receipt)
	if err != nil || tip == nil {
		return nil, err
	}
	return []*hotline.Tip{tip}, nil
}

func (c *conv) status() {
	if !c.chat() && c.receipt == "" && c.st.Active != "" {
		c.say(ReplyError, c.t(txtNeedReceipt))
		return
	}
	tips, err := c.chatTips()
	if err != nil {
		c.fail(err)
		return
	}
	var tip *hotline.Tip
	open := 0
	for _, t := range tips {
		if t == nil {
			continue
		}
		if t.Status.Open() {
			open++
		}
		if tip == nil || t.UID == c.st.Active {
			tip = t
		}
	}
	if tip == nil {
		c.say(ReplyText, c.t(txtNoTips))
		if c.st.hasDraft() {
			c.say(ReplyText, c.t(txtDraftWaiting))
		}
		return
	}
	text := c.t(txtStatus, tip.Alias.In(c.lang()), c.t(tip.Status.ForReporter()))
	if open > 1 || (open == 1 && !tip.Status.Open()) {
		text += "\n" + c.t(txtMoreTips)
	}
	c.out = append(c.out, Reply{Kind: ReplyText, Text: text, TipUID: tip.UID})
}

func (c *conv) tips() {
	if !c.chat() {
		c.say(ReplyText, c.t(txtWebOneTip))
		return
	}
	tips, err := c.chatTips()
	if err != nil {
		c.fail(err)
		return
	}
	var rows [][]hotline.Button
	for _, t := range tips {
		if t == nil || !t.Status.Open() {
			continue
		}
		label := t.Alias.In(c.lang()) + " — " + c.t(t.Status.Label())
		rows = append(rows, []hotline.Button{{Label: label, Data: dataTip + t.UID}})
	}
	if len(rows) == 0 {
		c.say(ReplyText, c.t(txtNoOpenTips))
		return
	}
	c.say(ReplyText, c.t(txtTipsList), rows...)
}

// selectTip makes one of the reporter's own tips the active one. The UID
// comes from a button, so it is checked against the chat's tips.
func (c *conv) selectTip(uid string) {
	tips, err := c.chatTips()
	if err != nil {
		c.fail(err)
		return
	}
	for _, t := range tips {
		if t == nil || t.UID != uid || uid == "" {
			continue
		}
		c.st.Active, c.st.Alias = t.UID, t.Alias
		if c.st.Step == stepForget {
			c.st.Back = ""
		}
		c.st.Step = stepFollow
		text := c.t(txtTipSwitched, t.Alias.In(c.lang())) + "\n" + c.t(t.Status.ForReporter())
		c.out = append(c.out, Reply{Kind: ReplyText, Text: text, TipUID: t.UID})
		if c.st.hasDraft() {
			c.say(ReplyText, c.t(txtDraftWaiting))
		}
		return
	}
	c.say(ReplyText, c.t(txtTipUnknown))
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

// forget unlinks the chat from its tips and deletes the conversation.
func (c *conv) forget() {
	if _, err := c.e.Reporters.Forget(c.ctx, c.k.ChatID); err != nil {
		c.st.Step, c.st.Back = c.st.Back, ""
		c.fail(err)
		return
	}
	c.unanswered()
	c.st.resetDraft()
	if err := c.e.drop(c); err != nil {
		// The tips are unlinked; the saved draft could not go. Clear it
		// in the saved state instead so nothing of it stays.
		lang, counts := c.st.Lang, c.st.Counts
		*c.st = state{V: stateVersion, Lang: lang, Counts: counts}
		c.say(ReplyText, c.t(c.forChannel(txtForgotten, txtForgottenWechat)))
		return
	}
	c.deleted = true
	c.say(ReplyText, c.t(c.forChannel(txtForgotten, txtForgottenWechat)))
}

// resume replays a web reporter's thread and makes its tip active.
func (c *conv) resume() {
	tip, msgs, err := c.e.Reporters.ThreadByReceipt(c.ctx, c.receipt)
	if err == nil && tip == nil {
		err = hotline.ErrReceiptUnknown
	}
	if err != nil {
		c.fail(err)
		return
	}
	alias := tip.Alias.In(c.lang())
	c.out = append(c.out, Reply{Kind: ReplyText, Text: c.t(txtWelcomeBack, alias), TipUID: tip.UID})
	for _, e := range thread.Entries(msgs) {
		c.out = append(c.out, Reply{Kind: ReplyThread, Text: e.Line(c.lang()), TipUID: tip.UID, Photo: e.Photo, Entry: &e})
	}
	c.st.Active, c.st.Alias = tip.UID, tip.Alias
	if c.st.Step == stepForget {
		c.st.Back = ""
	}
	c.st.Step = stepFollow
	c.out = append(c.out, Reply{Kind: ReplyText, Text: c.t(txtStatus, alias, c.t(tip.Status.ForReporter())), TipUID: tip.UID})
	if c.st.hasDraft() {
		c.say(ReplyText, c.t(txtDraftWaiting))
	}
	c.prompt()
}
