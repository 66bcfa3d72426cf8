// Package hotline holds the domain of Hotline: schools, counselors, tips and
// their messages, the enums with their zh-CN and English labels, coded errors
// and the service interfaces that transports and UIs call.
//
// It imports nothing of ours. Plaintext fields exist only in memory: nothing
// in this package is ever written to disk or a log as it stands; the store
// keeps sealed bytes only.
package hotline

import (
	"context"
	"time"
)

// Lang is a user-interface language. zh-CN is first, English second.
type Lang string

// The languages Hotline speaks.
const (
	LangZH Lang = "zh"
	LangEN Lang = "en"
)

// ParseLang maps a browser or Telegram language code to a Lang; anything
// that is not English falls back to Chinese, the first language.
func ParseLang(code string) Lang {
	if len(code) >= 2 && (code[:2] == "en" || code[:2] == "EN") {
		return LangEN
	}
	return LangZH
}

// Label is a text in both languages.
type Label struct {
	ZH string
	EN string
}

// In returns the label in lang.
func (l Label) In(lang Lang) string {
	if lang == LangEN {
		return l.EN
	}
	return l.ZH
}

// Clock tells the time; tests set a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time in UTC, truncated to microseconds so that a
// time survives a round trip through the database unchanged.
func (SystemClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Actor is who performs an action: a counselor, an officer, or the system.
type Actor struct {
	CounselorID int64 // 0 for the system or a reporter
	SchoolID    int64 // 0 for district staff
	Role        Role
}

// ReporterRef finds a reporter's tip without identifying the reporter: either
// a web receipt or a Telegram chat (sealed, found by HMAC) plus a tip.
type ReporterRef struct {
	Receipt string // web reporters
	ChatID  int64  // Telegram reporters; used only in memory
	TipUID  string // which of the chat's tips; empty means the chat's latest open tip
}

// Button is a choice a reporter can tap, in a conversation or a
// questionnaire, on every channel: Data comes back as the choice (the
// Telegram bot's callback data, the web page's choice, WeChat's menu id).
type Button struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// Photo is an image a reporter or counselor attaches. Data is re-encoded by
// intake to drop EXIF/GPS before it is sealed.
type Photo struct {
	Data []byte
	Type string // content type after re-encoding, "image/jpeg" or "image/png"
}

// Submission is a new tip as it arrives from a channel.
type Submission struct {
	SchoolCode string
	Channel    Channel
	Role       ReporterRole
	Category   Category
	Lang       Lang
	Texts      []string // the reporter's messages, in order
	Photos     []Photo
	DangerNow  bool // the reporter said someone is in danger now
	ChatID     int64
	Staff      *Actor // set for channel staff: the counselor who entered it
	// IssueReceipt gives a report entered by staff (a phone call) a
	// receipt like a web report's: read to the caller or printed on a
	// slip, it opens the thread in the web chat and the mailbox status
	// page. Web channels always get one; others ignore it.
	IssueReceipt bool

	// SubmissionID is a random id the conversation created with its draft.
	// One submission files one tip: submitted again (a redelivered update,
	// a resent "send"), it returns the tip it filed, with Repeated set and
	// no receipt. Empty: no de-duplication here (a counselor; a mailbox
	// form, whose post the caller keys with its token, dialog.Once).
	SubmissionID string
	// PageSecret is a random secret that only the reporter's web page
	// holds. With it, the receipt is also kept for a day sealed to it, so
	// that a page whose answer was lost can claim the receipt once
	// (ReceiptKeeper). It is never stored.
	PageSecret string
	// Record, when set, runs inside the transaction that files the tip,
	// after the tip is written, with its result: the caller records what
	// it did (its conversation state) in the same commit, so that a crash
	// leaves either both or neither. ctx carries that transaction to a
	// store that joins it. An error rolls the tip back. It also runs for
	// a repeated submission.
	Record func(ctx context.Context, res *Submitted) error

	// Auto says the dialog's sweeper sends this urgent draft, not the
	// reporter: a Telegram reporter is told at once through the relay.
	Auto bool

	// The safety question (see SafetyQuestionWait). SafetyAsked says the
	// conversation asked it about this draft already, so intake does not
	// ask again; SafetyYes that the reporter answered yes (the report is
	// urgent, its flag's reason "asked"); SafetyDue, when the question is
	// still waiting, when it goes unanswered (the case keeps waiting for
	// it); PossiblyUrgent that it went unanswered already. Without
	// SafetyAsked, intake asks itself when the detector is unsure of the
	// words (the mailbox): Submitted.SafetyDue says so.
	SafetyAsked    bool
	SafetyYes      bool
	SafetyDue      time.Time
	PossiblyUrgent bool
}

// SafetyQuestionWait is how long the safety question waits for its answer.
// When the detector is unsure whether a reporter's words mean danger now,
// the reporter is asked at once, directly, whether they are in danger or
// thinking of hurting themselves; "yes" takes the urgent path, "no" goes on
// as before, and no answer within this time marks the report "possibly
// urgent" in the counselor's queue.
const SafetyQuestionWait = 5 * time.Minute

// The safety question's counts for the district's feedback (by district
// and month, content-free): asked, and each question's one outcome, so
// that asked is the sum of the four: answered yes, answered no, no answer
// (in time, or the draft was deleted unanswered), overtaken (the report
// turned urgent first: the detector, the reporter's own "danger now", or
// a counselor).
const (
	SafetyCountAsked     = "asked"
	SafetyCountYes       = "answered_yes"
	SafetyCountNo        = "answered_no"
	SafetyCountNone      = "no_answer"
	SafetyCountOvertaken = "overtaken"
)

// SafetyService takes a reporter's answer to the safety question about a
// report already filed (a follow-up message, the mailbox).
type SafetyService interface {
	// AnswerSafety records the answer. Yes marks the tip urgent, with all
	// an urgent report owes (the on-call paged), whether or not a question
	// was waiting: a reporter who says they are in danger is never turned
	// away. It returns the tip.
	AnswerSafety(ctx context.Context, ref ReporterRef, yes bool) (*Tip, error)
}

// Submitted is what a reporter learns after submitting.
type Submitted struct {
	TipUID  string
	Alias   Alias
	Receipt string // web channels and staff intake with IssueReceipt; shown once, never stored
	Urgent  bool
	School  *School
	// Repeated says the submission had filed this tip already; Receipt is
	// then empty (it is never stored in a form the server can read).
	Repeated bool
	// Notified says the reporter of an automatic send (Submission.Auto)
	// is being told of it over their channel, durably with the tip.
	Notified bool
	// SafetyDue is set when intake asked the safety question about this
	// report itself (the detector was unsure, and the submission had not
	// asked it): the reporter's page shows the question, which waits until
	// then.
	SafetyDue time.Time
}

// ReceiptKeeper hands a web page back the receipt of its own submission
// when the answer that carried it was lost.
type ReceiptKeeper interface {
	// ClaimReceipt returns the receipt of tipUID kept sealed to pageSecret
	// until the page writes with it or the copy expires. ErrNotFound when
	// there is none for this secret (used, expired, or another page's).
	ClaimReceipt(ctx context.Context, tipUID, pageSecret string) (string, error)
}

// IntakeService takes reports from reporters.
type IntakeService interface {
	// Submit seals and stores a new tip and returns its alias (and receipt for the web).
	Submit(ctx context.Context, s Submission) (*Submitted, error)
	// AddReporterMessage adds a reporter's message to their existing tip.
	AddReporterMessage(ctx context.Context, ref ReporterRef, text string, photo *Photo) (*ReporterMessageResult, error)
}

// ReporterMessageResult tells a transport what happened to a reporter message.
type ReporterMessageResult struct {
	TipUID     string
	Alias      Alias
	Urgent     bool // urgency was detected in this message
	MessageUID string
	// SafetyDue is set when the detector was unsure of this message and
	// the safety question is now waiting on the tip: show it.
	SafetyDue time.Time
}

// ReporterService lets a reporter see their own tips, and only those.
type ReporterService interface {
	// ThreadByReceipt opens a web reporter's thread with the receipt alone.
	ThreadByReceipt(ctx context.Context, receipt string) (*Tip, []*Message, error)
	// TipStatus finds a web reporter's tip (alias, status and other clear
	// metadata) by receipt without opening its thread.
	TipStatus(ctx context.Context, receipt string) (*Tip, error)
	// ChatTips lists the tips linked to a Telegram chat, newest first.
	ChatTips(ctx context.Context, chatID int64) ([]*Tip, error)
	// Forget unlinks a chat from all its tips; the tips stay with the school.
	Forget(ctx context.Context, chatID int64) (int, error)
}

// SchoolService finds schools for reporters.
type SchoolService interface {
	SchoolByCode(ctx context.Context, code string) (*School, error)
	// FindSchools matches a name or code, for a reporter who types it.
	FindSchools(ctx context.Context, query string, limit int) ([]*School, error)
}
