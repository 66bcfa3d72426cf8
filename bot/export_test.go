package bot

// Taken is one past the highest update id polling has taken: a test
// knows from it that an update was fetched.
func (b *Bot) Taken() int64 {
	b.track.mu.Lock()
	defer b.track.mu.Unlock()
	return b.track.next
}
