package dialog

import "hotline/internal/hotline"

// The step category: what kind of bullying.

// chooseCategory takes what kind of bullying it is (step category); "not
// sure" files it as other.
func (c *conv) chooseCategory(v string) {
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
}
