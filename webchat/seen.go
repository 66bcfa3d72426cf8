package webchat

import (
	"context"
	"strconv"
	"sync"

	"hotline/internal/hotline"
)

// WidgetSeen keeps, durably, that the widget ran on a school's site on a
// day: one row per school, origin and day, nothing about the visitor.
type WidgetSeen interface {
	RecordWidgetSeen(ctx context.Context, schoolID int64, origin, day string) error
}

// seenDays remembers which school, origin and day this process has
// written, so that a busy school site costs one write a day, not one a
// page view. The database holds the truth; a restart writes a row again,
// which the store ignores.
type seenDays struct {
	mu   sync.Mutex
	day  string
	done map[string]bool
}

// recordSeen notes a load of the widget from an allowed origin (the caller
// checked it: only the school's own sites are kept, so strangers cannot
// fill the table). A failure is logged and the widget still opens.
func (s *Server) recordSeen(ctx context.Context, school *hotline.School, origin string) {
	if s.Seen == nil {
		return
	}
	origin, err := hotline.CanonicalOrigin(origin)
	if err != nil {
		return
	}
	day := s.Now().In(hotline.ChinaTime).Format("2006-01-02")
	key := strconv.FormatInt(school.ID, 10) + " " + origin
	s.seen.mu.Lock()
	if s.seen.day != day || s.seen.done == nil {
		s.seen.day, s.seen.done = day, map[string]bool{}
	}
	done := s.seen.done[key]
	s.seen.mu.Unlock()
	if done {
		return
	}
	if err := s.Seen.RecordWidgetSeen(ctx, school.ID, origin, day); err != nil {
		s.Logger.Error("record widget seen", "err", err)
		return
	}
	s.seen.mu.Lock()
	if s.seen.day == day {
		s.seen.done[key] = true
	}
	s.seen.mu.Unlock()
}
