package bot

// QueueLen returns how many updates wait in the per-chat queues for a
// worker: zero before Run. A queue that stays full means handlers are
// slower than the updates coming in.
func (b *Bot) QueueLen() int {
	q := b.running.Load()
	if q == nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.queued
}
