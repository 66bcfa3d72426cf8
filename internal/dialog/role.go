package dialog

import "hotline/internal/hotline"

// The step role: who is reporting.

// chooseRole takes the reporter's role (step role): the victim, a
// witness, a parent...
func (c *conv) chooseRole(v string) {
	r := hotline.ReporterRole(v)
	if !r.Valid() {
		c.stale()
		return
	}
	c.st.Role = r
	c.st.Step = stepCategory
	c.prompt()
}
