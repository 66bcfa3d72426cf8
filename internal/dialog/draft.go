package dialog

import (
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// The step text: the reporter's words and photos, the draft.

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
		// Words the detector is only unsure of are a school's name when
		// they find one: a short code or name ("demo", "三中") says too
		// little for the detector to be sure either way.
		if photo != nil || (c.e.Urgent != nil && c.e.Urgent(text)) || (c.e.Unsure != nil && c.e.Unsure(text) && !c.namesSchool(text)) {
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

// doneWriting ends the text and photos (step text): on to the danger
// question, once there is something to send.
func (c *conv) doneWriting() {
	if !c.st.hasDraft() {
		c.say(ReplyText, c.t(txtDraftEmpty))
		return
	}
	c.st.Step = stepDanger
	c.prompt()
}

func (c *conv) doneRow() []hotline.Button { return []hotline.Button{c.btn(txtBtnDone, dataDone)} }
