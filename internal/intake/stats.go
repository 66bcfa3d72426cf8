package intake

import (
	"sync"

	"hotline/internal/hotline"
)

// Stats is what operations may see of intake: how many reports were filed
// since start, by channel. Never per school (small counts could single out
// a reporter), never content.
type Stats struct {
	Reports map[hotline.Channel]int64
}

// counters are the running counts behind Stats.
type counters struct {
	mu      sync.Mutex
	reports map[hotline.Channel]int64
}

func (c *counters) report(ch hotline.Channel) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reports == nil {
		c.reports = map[hotline.Channel]int64{}
	}
	c.reports[ch]++
}

// Stats returns the counts since the service started.
func (s *Service) Stats() Stats {
	s.counters.mu.Lock()
	defer s.counters.mu.Unlock()
	out := Stats{Reports: make(map[hotline.Channel]int64, len(s.counters.reports))}
	for ch, n := range s.counters.reports {
		out.Reports[ch] = n
	}
	return out
}
