package dialog

import (
	"errors"

	"hotline/internal/hotline"
	"hotline/internal/thread"
)

// After submission: follow-up messages, status, the reporter's tips,
// forgetting the chat, and resuming a thread with its receipt.

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
