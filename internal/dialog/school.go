package dialog

import (
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// The first step: greeting, privacy notice and the school, chosen by
// button, by name or code, or set by the page or the deep link.

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
		if hotline.ErrorCode(err) == hotline.ENOTFOUND && !errors.Is(err, hotline.ErrSchoolNotOpen) {
			err = hotline.ErrSchoolNotFound
		}
		c.fail(err)
		return false
	}
	c.st.School = newSchoolRef(s)
	c.say(ReplyText, c.t(txtSchoolSet, c.st.School.name(c.lang())))
	return true
}

// namesSchool reports whether query finds a school, as findSchool would
// look it up; a failed look-up answers no.
func (c *conv) namesSchool(query string) bool {
	query, err := checkText(query)
	if err != nil || query == "" || utf8.RuneCountInString(query) > maxQueryLen {
		return false
	}
	schools, err := c.e.Schools.FindSchools(c.ctx, query, 1)
	return err == nil && len(schools) > 0 && schools[0] != nil
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

// chooseSchool takes a school button (step school).
func (c *conv) chooseSchool(code string) {
	if c.setSchool(code) {
		c.st.Step = c.st.draftStep()
	}
	c.prompt()
}
