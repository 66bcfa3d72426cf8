// Package platform is what a district's own platform (the bureau's 平安校园
// 平台) gets from Hotline, and what leaves the server to anchor the ledger
// outside it:
//
//   - signed webhooks of content-free events (a case opened, a deadline
//     missed, a case escalated or closed, a questionnaire closed, a new
//     ledger head), written to an outbox in the same transaction as the
//     event, delivered by a worker that claims rows with a lease (several
//     nodes never send one row at once), retries with backoff and keeps
//     each event's id on every retry, so a receiver drops duplicates;
//   - each day's ledger head to the district's group robots and its
//     officers' e-mail, through internal/alert's channels, from the same
//     outbox;
//   - a read-only statistics endpoint, behind a district token stored only
//     as a keyed hash, serving the figures the district page shows.
//
// Nothing here carries content: payloads hold schools, case aliases and
// ids, channels, severities, statuses, deadline kinds, times, suppressed
// survey counts and ledger hashes — never a message, a receipt, a chat id
// or a name of a pupil. Every payload carries the ledger head of its event
// (seq and hash), so the platform holds the tail of the ledger outside the
// server, event by event: `hotline ledger verify --heads FILE` proves a
// deletion after the newest head recorded inside.
package platform

import (
	"time"

	"hotline/internal/hotline"
)

// Event kinds of the webhooks.
const (
	KindCaseOpened     = "case.opened"
	KindDeadlineMissed = "case.deadline_missed"
	KindEscalated      = "case.escalated"
	KindClosed         = "case.closed"
	KindSurveyClosed   = "survey.closed"
	KindLedgerHead     = "ledger.head"
	KindTest           = "webhook.test"
	// kindDailyNotice is the daily head's message to the district's
	// robots and officers' e-mail (not a webhook).
	kindDailyNotice = "ledger.daily_notice"
)

// HeaderEvent names the event kind beside the body's "event", for
// receivers that route before parsing.
const HeaderEvent = "X-Hotline-Event"

// Payload is the JSON body of every webhook. ID is also the X-Hotline-Id
// header, the same on every retry. Ledger is the head of the ledger at the
// event: the event's own seq and hash.
type Payload struct {
	ID       string    `json:"id"`
	Event    string    `json:"event"`
	At       time.Time `json:"at"`
	District string    `json:"district"`
	School   *School   `json:"school,omitempty"`
	Case     *Case     `json:"case,omitempty"`
	Deadline *Deadline `json:"deadline,omitempty"`
	Survey   *Survey   `json:"survey,omitempty"`
	Head     *Head     `json:"head,omitempty"`
	Ledger   *Ledger   `json:"ledger,omitempty"`
	Test     bool      `json:"test,omitempty"`
}

// School names a school.
type School struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEN string `json:"name_en,omitempty"`
}

// Case is a case's metadata: no content, nothing that identifies the
// reporter.
type Case struct {
	ID         string    `json:"id"`
	Alias      string    `json:"alias"`
	AliasEN    string    `json:"alias_en"`
	Channel    string    `json:"channel"`
	Severity   string    `json:"severity"`
	Category   string    `json:"category,omitempty"`
	Urgent     bool      `json:"urgent"`
	Status     string    `json:"status,omitempty"`
	Escalated  bool      `json:"escalated"`
	ReceivedAt time.Time `json:"received_at"`
}

// Deadline is a missed deadline: its kind (ack, reply, district, followup,
// assess, progress) and when it was due.
type Deadline struct {
	Kind  string     `json:"kind"`
	Label Words      `json:"label"`
	Due   *time.Time `json:"due,omitempty"`
}

// Survey is a closed questionnaire wave of the district, with the
// district's and each school's figures as the district's page shows them:
// a count of 1 to 4 pupils, or one from which such a count could be worked
// out, is null with "hidden": true.
type Survey struct {
	ID     string       `json:"id"`
	Title  Words        `json:"title"`
	Wave   int          `json:"wave"`
	Name   Words        `json:"wave_name"`
	Closes time.Time    `json:"closes"`
	Units  []SurveyUnit `json:"units"`
}

// SurveyUnit is the district or a school in a survey's results.
type SurveyUnit struct {
	Level       string      `json:"level"` // district, school
	Name        string      `json:"name"`
	School      string      `json:"school,omitempty"` // the school's code
	Respondents *int        `json:"respondents"`
	Hidden      bool        `json:"hidden,omitempty"`
	Indicators  []Indicator `json:"indicators,omitempty"`
}

// Indicator is one share of a unit: Count of Base pupils.
type Indicator struct {
	Key    string `json:"key"`
	Label  Words  `json:"label"`
	Count  *int   `json:"count"`
	Base   *int   `json:"base"`
	Hidden bool   `json:"hidden,omitempty"`
}

// Words are a text in both languages, zh first.
type Words struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

func words(l hotline.Label) Words { return Words{ZH: l.ZH, EN: l.EN} }

// Ledger is a ledger head: event Seq's hash, and its short form.
type Ledger struct {
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	Short string `json:"short"`
}

// Head says what kind of head a ledger.head event is.
type Head struct {
	Kind       string    `json:"kind"`          // checkpoint, daily
	Day        string    `json:"day,omitempty"` // a daily head's day (China time)
	RecordedAt time.Time `json:"recorded_at"`
}
