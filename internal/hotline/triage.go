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
	// PossiblyUrgent keeps only cases whose reporter left the safety
	// question unanswered (Tip.PossiblyUrgent).
	PossiblyUrgent bool
	Overdue        bool
	Escalated      bool
	// Alias matches a case's alias in either language, in part ("蓝", "fox").
	Alias string
	// From and To bound when a case was received: From inclusive, To
	// exclusive; zero leaves that side open.
	From, To time.Time
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
