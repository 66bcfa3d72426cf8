package hotline

import "time"

// TipFilter selects tips for a queue. Zero fields match everything.
type TipFilter struct {
	SchoolID   int64 // required for school staff; the service enforces it
	Status     Status
	OpenOnly   bool
	Severity   Severity
	Category   Category
	Channel    Channel
	AssigneeID int64
	Urgent     *bool
	Overdue    bool
	Escalated  bool
	// Keyset pagination: rows after (AfterUrgent, AfterDue, AfterID) in queue order.
	After *QueueCursor
	Limit int
}

// QueueCursor is a position in the queue order: urgent first, then nearest
// deadline, then oldest.
type QueueCursor struct {
	Urgent bool
	Due    time.Time
	ID     int64
}
