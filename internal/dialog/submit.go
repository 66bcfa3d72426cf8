package dialog

import (
	"context"
	"errors"
	"time"

	"hotline/internal/hotline"
)

// Submission: filing the draft with intake, and telling the reporter,
// once, of a report the sweeper sent.

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
