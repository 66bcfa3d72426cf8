package dialog

import (
	"crypto/rand"
	"time"

	"hotline/internal/hotline"
)

// stateVersion changes when the saved state changes shape incompatibly.
const stateVersion = 1

// step is where the conversation stands.
type step string

const (
	stepNew      step = ""         // nothing said yet
	stepSchool   step = "school"   // waiting for a school name or code
	stepRole     step = "role"     // who are you
	stepCategory step = "category" // what kind of bullying
	stepText     step = "text"     // what happened: texts and photos
	stepDanger   step = "danger"   // is anyone in danger now
	stepConfirm  step = "confirm"  // summary, send / add more / cancel
	stepFollow   step = "follow"   // submitted: messages go to the active tip
	stepIdle     step = "idle"     // draft cancelled, no active tip
	stepForget   step = "forget"   // waiting for /forget's confirmation
)

// Limits on a draft keep a saved conversation bounded; intake checks the
// same limits again at submission.
const (
	maxTextRunes  = 4096 // thread.MaxMessageRunes: Telegram's whole message
	maxDraftTexts = 50
	maxPhotos     = 10
	maxPhotoBytes = 10 << 20
	maxCodeLen    = 64
	maxQueryLen   = 100
	schoolResults = 6
)

// state is the saved conversation. It holds the draft (the reporter's own
// words, which must survive a restart). It holds a receipt only in Sent,
// for a web report the sweeper sent, until the reporter is shown it once.
type state struct {
	V       int          `json:"v"`
	Lang    hotline.Lang `json:"lang"`
	Step    step         `json:"step"`
	Back    step         `json:"back,omitempty"` // where /forget's "not now" returns to
	Privacy bool         `json:"privacy,omitempty"`

	School    *schoolRef           `json:"school,omitempty"`
	Role      hotline.ReporterRole `json:"role,omitempty"`
	Category  hotline.Category     `json:"category,omitempty"`
	Texts     []string             `json:"texts,omitempty"`
	Photos    []hotline.Photo      `json:"photos,omitempty"`
	DangerNow bool                 `json:"danger_now,omitempty"`
	Urgent    bool                 `json:"urgent,omitempty"`       // a draft text looked urgent
	SafetyOn  bool                 `json:"safety_shown,omitempty"` // guidance shown for this draft
	// UrgentAt is when the draft, with its school known, turned urgent:
	// the sweeper sends it UrgentSendAfter later unless the reporter has.
	UrgentAt time.Time `json:"urgent_at,omitzero"`

	// Ask is the safety question asked when the detector was unsure of the
	// reporter's words: about the draft, or about a filed report (Tip).
	Ask *question `json:"ask,omitempty"`
	// PossiblyUrgent says the draft's question went unanswered: the
	// report is filed with the mark (by the sweeper at once when the
	// school is known, else by the reporter when they send it).
	PossiblyUrgent bool `json:"possibly,omitempty"`
	// Counts are the safety question's events not counted yet (store
	// feedback kinds): counted for the school's district in the commit
	// that saves them, once the school is known; under no district once
	// the draft is gone without one (see Engine.encode).
	Counts []string `json:"counts,omitempty"`

	// SubmissionID is the random id of the draft's submission, created
	// with the draft: however often the draft is sent, it files one tip.
	SubmissionID string `json:"sub,omitempty"`

	Active string        `json:"active,omitempty"` // TipUID the follow-up messages go to
	Alias  hotline.Alias `json:"alias,omitempty"`

	// Sent is a report the sweeper sent that the reporter has not been
	// told of yet; the next event tells them.
	Sent *sentNotice `json:"sent,omitempty"`
	// Key is the conversation's own key, kept (sealed with the rest) only
	// while the sweeper may have to act on it: an unsent draft or an untold
	// automatic send. The sweeper finds states by their clear metadata and
	// needs the key to lock, reload and submit them.
	Key *savedKey `json:"key,omitempty"`

	Updated time.Time `json:"updated"`
}

// question is a safety question and its answer.
type question struct {
	// Due is when it goes unanswered.
	Due time.Time `json:"due"`
	// Tip is the filed report it is about; empty for the draft. A question
	// about a filed report waits on the case (intake keeps its deadline).
	Tip string `json:"tip,omitempty"`
	// Answer: "" while it waits, answerYes, answerNo, answerNone (not in
	// time, or the draft was cancelled first), answerOvertaken (the draft
	// turned urgent first).
	Answer string `json:"answer,omitempty"`
}

// Answers of a safety question.
const (
	answerYes       = "yes"
	answerNo        = "no"
	answerNone      = "none"
	answerOvertaken = "overtaken"
)

// waiting reports whether the question waits for its answer.
func (q *question) waiting() bool { return q != nil && q.Answer == "" }

// draftWaiting reports whether a question about the draft waits.
func (s *state) draftWaiting() bool { return s.Ask.waiting() && s.Ask.Tip == "" }

// sentNotice is what the reporter of an automatically sent report is told.
type sentNotice struct {
	TipUID  string        `json:"tip"`
	Alias   hotline.Alias `json:"alias"`
	Receipt string        `json:"receipt,omitempty"` // web only; shown once, then gone
	// Told says the reporter was told through their channel at once
	// (relay.KindAutoSent): the next event need not tell them again.
	Told bool `json:"told,omitempty"`
	// Possibly says the draft was sent because its safety question went
	// unanswered (marked possibly urgent), not because it was urgent.
	Possibly bool `json:"possibly,omitempty"`
}

// savedKey is a Key as the state keeps it.
type savedKey struct {
	Channel hotline.Channel `json:"ch"`
	ChatID  int64           `json:"chat,omitempty"`
	Session string          `json:"session,omitempty"`
}

func (k *savedKey) key() Key { return Key{Channel: k.Channel, ChatID: k.ChatID, Session: k.Session} }

// schoolRef is what the conversation needs of a school: the code to submit
// to, the name for the summary, the emergency contact for safety guidance,
// and the deadlines it keeps, so that texts promise what it does.
type schoolRef struct {
	Code      string           `json:"code"`
	Name      string           `json:"name"`
	NameEN    string           `json:"name_en,omitempty"`
	Emergency string           `json:"emergency,omitempty"`
	AckUrgent hotline.Duration `json:"ack_urgent,omitempty"`
	Ack       hotline.Duration `json:"ack,omitempty"`
}

func newSchoolRef(s *hotline.School) *schoolRef {
	dl := s.Settings.Deadlines.WithDefaults()
	return &schoolRef{Code: s.Code, Name: s.Name, NameEN: s.Settings.NameEN, Emergency: s.Settings.EmergencyContact, AckUrgent: dl.AckUrgent, Ack: dl.Ack}
}

// ack is how soon the school acts on a report: its on-call acknowledgement
// deadline for an urgent one, its ordinary one otherwise. The deadlines are
// the ones the scheduler holds the school to, so the text stays true.
func (s *schoolRef) ack(urgent bool) time.Duration {
	d := hotline.Deadlines{}
	if s != nil {
		d = hotline.Deadlines{AckUrgent: s.AckUrgent, Ack: s.Ack}
	}
	d = d.WithDefaults()
	if urgent {
		return d.AckUrgent.D()
	}
	return d.Ack.D()
}

func (s *schoolRef) name(lang hotline.Lang) string {
	if lang == hotline.LangEN && s.NameEN != "" {
		return s.NameEN
	}
	return s.Name
}

// hasDraft reports whether the reporter has written anything unsent.
func (s *state) hasDraft() bool { return len(s.Texts) > 0 || len(s.Photos) > 0 }

// drafting reports whether the conversation is inside the report flow.
func (s *state) drafting() bool {
	switch s.Step {
	case stepSchool, stepRole, stepCategory, stepText, stepDanger, stepConfirm:
		return true
	}
	return false
}

func (s *state) resetDraft() {
	s.Role, s.Category = "", ""
	s.Texts, s.Photos = nil, nil
	s.DangerNow, s.Urgent, s.SafetyOn = false, false, false
	s.UrgentAt = time.Time{}
	s.PossiblyUrgent = false
	if s.Ask != nil && s.Ask.Tip == "" {
		s.Ask = nil // a question about a filed report outlives the draft
	}
	s.SubmissionID = "" // the next draft is another submission
}

// submission returns the draft's submission id, creating it the first time.
func (s *state) submission() string {
	if s.SubmissionID == "" {
		s.SubmissionID = rand.Text()
	}
	return s.SubmissionID
}

// draftStep is where an interrupted draft picks up again.
func (s *state) draftStep() step {
	switch {
	case s.School == nil:
		return stepSchool
	case !s.Role.Valid():
		return stepRole
	case !s.Category.Valid():
		return stepCategory
	}
	return stepText
}
