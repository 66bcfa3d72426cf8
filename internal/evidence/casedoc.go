package evidence

import (
	"time"
)

// CaseDoc is case.json: the case as case.pdf shows it, for machines. Times
// are UTC; the PDF shows them in China time.
type CaseDoc struct {
	Format        string    `json:"format"`
	Bundle        string    `json:"bundle"`
	ExportedAt    time.Time `json:"exported_at"`
	ExportedBy    Person    `json:"exported_by"`
	Reason        Reason    `json:"reason"`
	NotesIncluded bool      `json:"notes_included"`
	School        SchoolDoc `json:"school"`
	Case          CaseMeta  `json:"case"`
	Thread        []Message `json:"thread"`
	// NotesLeftOut counts internal notes not in Thread (the exporter did
	// not include them).
	NotesLeftOut int `json:"notes_left_out,omitempty"`
	// StatusHistory is every change of status, severity, category or
	// urgency, from the ledger.
	StatusHistory []Change      `json:"status_history"`
	Steps         []StepDoc     `json:"steps"`
	Deadlines     []DeadlineDoc `json:"deadlines"`
	Misses        []MissDoc     `json:"missed_deadlines"`
	// Events are the case's ledger events up to the export (the export
	// event itself is in ledger.jsonl), in words.
	Events []EventDoc `json:"events"`
}

// SchoolDoc names the school.
type SchoolDoc struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	NameEN   string `json:"name_en,omitempty"`
	District string `json:"district,omitempty"`
}

// CaseMeta is the case's metadata: nothing that identifies the reporter
// (no receipt, no chat, no key), who appears as the alias.
type CaseMeta struct {
	ID             string     `json:"id"`
	Alias          Words      `json:"alias"`
	Channel        Labelled   `json:"channel"`
	ReporterRole   Labelled   `json:"reporter_role"`
	Status         Labelled   `json:"status"`
	Severity       Labelled   `json:"severity"`
	Category       Labelled   `json:"category"`
	Urgent         bool       `json:"urgent"`
	Escalated      bool       `json:"escalated"`
	ReceivedAt     time.Time  `json:"received_at"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	FirstReplyAt   *time.Time `json:"first_reply_at,omitempty"`
	ResolvedAt     *time.Time `json:"resolved_at,omitempty"`
	// Purged: the retention policy removed the thread's content; the
	// metadata and ledger remain.
	Purged bool `json:"purged,omitempty"`
}

// Labelled is an enum value with its words.
type Labelled struct {
	Value string `json:"value"`
	Label Words  `json:"label"`
}

// Message is one entry of the thread: who wrote what and when. Counselors
// by name; the reporter by the case alias.
type Message struct {
	N      int       `json:"n"`
	At     time.Time `json:"at"`
	Author string    `json:"author"` // reporter, counselor, note, system
	Name   string    `json:"name"`
	Text   string    `json:"text"`
	Photo  string    `json:"photo,omitempty"` // the file in photos/
}

// Change is a change of the case's status, severity, category or urgency.
type Change struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Words Words     `json:"words"`
	By    string    `json:"by,omitempty"`
}

// StepDoc is a handling step: done or not, and when it was last recorded.
type StepDoc struct {
	Step Labelled   `json:"step"`
	Done bool       `json:"done"`
	At   *time.Time `json:"at,omitempty"`
	By   string     `json:"by,omitempty"`
	Owed bool       `json:"owed"` // the case's severity calls for it
}

// Deadline outcomes.
const (
	OutcomeMet    = "met"
	OutcomeMissed = "missed"
	OutcomeOpen   = "open"
	OutcomeNone   = "not_due" // the case closed before it was owed
)

// DeadlineDoc is one duty of the case with its deadline: met, missed or
// still open.
type DeadlineDoc struct {
	Kind    Labelled   `json:"kind"`
	Due     time.Time  `json:"due"`
	DoneAt  *time.Time `json:"done_at,omitempty"`
	Outcome string     `json:"outcome"`
}

// MissDoc is a missed deadline as the server recorded it (and wrote to the
// ledger) when it passed.
type MissDoc struct {
	Kind       Labelled  `json:"kind"`
	Due        time.Time `json:"due"`
	RecordedAt time.Time `json:"recorded_at"`
}

// EventDoc is a ledger event of the case in words.
type EventDoc struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	Words  Words     `json:"words"`
	Hash   string    `json:"hash"`
}
