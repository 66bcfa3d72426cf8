package dialog

import (
	"slices"
	"time"

	"hotline/internal/hotline"
)

// The danger question ("is someone in danger now?"), the safety
// question the detector asks when unsure, and the urgent draft.

// answerDanger takes the answer to "is someone in danger now?" (step
// danger); it answers a safety question still waiting about the draft too.
func (c *conv) answerDanger(yes bool) {
	c.st.DangerNow = yes
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
