package dialog

import "hotline/internal/hotline"

// The step confirm: the summary before sending.

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
