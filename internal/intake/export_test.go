package intake

import "hotline/internal/hotline"

// PlainAliases returns every alias without a number, for a test that
// fills a school's names.
func PlainAliases() []hotline.Alias {
	out := make([]hotline.Alias, aliasSpace)
	for i := range out {
		out[i] = aliasAt(i, 1)
	}
	return out
}
