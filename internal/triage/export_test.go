package triage

// SetSearchBounds lowers the search's bounds for a test and returns a
// function that restores them.
func SetSearchBounds(maxTips, maxHits int) (restore func()) {
	t, h := searchMaxTips, searchMaxHits
	searchMaxTips, searchMaxHits = maxTips, maxHits
	return func() { searchMaxTips, searchMaxHits = t, h }
}
