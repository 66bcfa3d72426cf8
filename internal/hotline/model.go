package hotline

import "time"

// School is a school that receives reports.
type School struct {
	ID        int64
	Code      string // short code used in links: t.me/<bot>?start=<code>, /c/<code>
	Name      string
	District  string
	Settings  SchoolSettings
	PublicKey []byte // HPKE public key every message is sealed to
	CreatedAt time.Time
}

// SchoolSettings are a school's own choices.
type SchoolSettings struct {
	NameEN           string    `json:"name_en,omitempty"`
	EmergencyContact string    `json:"emergency_contact,omitempty"` // shown to a reporter in danger, e.g. "学校保卫处 010-1234567"
	AllowedOrigins   []string  `json:"allowed_origins,omitempty"`   // origins allowed to frame the web chat widget
	Deadlines        Deadlines `json:"deadlines"`
	RequireTOTP      bool      `json:"require_totp,omitempty"`
	RetentionDays    int       `json:"retention_days,omitempty"` // 0: keep sealed content forever
	// TimeZone is the IANA zone the school's rota hours are in; empty:
	// Asia/Shanghai.
	TimeZone string `json:"time_zone,omitempty"`
}

// Deadlines are how long a school has for each duty. Zero values take the
// defaults of DefaultDeadlines.
type Deadlines struct {
	AckUrgent      Duration `json:"ack_urgent,omitempty"`
	Ack            Duration `json:"ack,omitempty"`
	FirstReply     Duration `json:"first_reply,omitempty"`
	DistrictReport Duration `json:"district_report,omitempty"`
}

// DefaultDeadlines are the policy's defaults.
var DefaultDeadlines = Deadlines{
	AckUrgent:      Duration(time.Hour),
	Ack:            Duration(24 * time.Hour),
	FirstReply:     Duration(24 * time.Hour),
	DistrictReport: Duration(24 * time.Hour),
}

// WithDefaults fills zero deadlines with the defaults.
func (d Deadlines) WithDefaults() Deadlines {
	if d.AckUrgent <= 0 {
		d.AckUrgent = DefaultDeadlines.AckUrgent
	}
	if d.Ack <= 0 {
		d.Ack = DefaultDeadlines.Ack
	}
	if d.FirstReply <= 0 {
		d.FirstReply = DefaultDeadlines.FirstReply
	}
	if d.DistrictReport <= 0 {
		d.DistrictReport = DefaultDeadlines.DistrictReport
	}
	return d
}

// CaseDeadlines are a district's limits on how long a case may wait for the
// school's next step once it has been received: an assessment of its
// severity, then — after every counselor action (a reply, a status or
// severity change, a handling step, an escalation) — the next action or
// its closure, sooner the graver the case. They keep every open case under
// a deadline until it is closed. Zero values take DefaultCaseDeadlines.
type CaseDeadlines struct {
	Assess   Duration `json:"assess,omitempty"`   // from receipt to a severity (评估)
	Minor    Duration `json:"minor,omitempty"`    // 情节轻微: between actions
	Serious  Duration `json:"serious,omitempty"`  // 情节较重
	Severe   Duration `json:"severe,omitempty"`   // 情节严重
	Criminal Duration `json:"criminal,omitempty"` // 涉嫌违法犯罪
}

// DefaultCaseDeadlines are the defaults of a district that set none.
var DefaultCaseDeadlines = CaseDeadlines{
	Assess:   Duration(72 * time.Hour),
	Minor:    Duration(14 * 24 * time.Hour),
	Serious:  Duration(7 * 24 * time.Hour),
	Severe:   Duration(3 * 24 * time.Hour),
	Criminal: Duration(2 * 24 * time.Hour),
}

// WithDefaults fills zero deadlines with the defaults.
func (d CaseDeadlines) WithDefaults() CaseDeadlines {
	def := DefaultCaseDeadlines
	for _, f := range []struct{ v, def *Duration }{{&d.Assess, &def.Assess}, {&d.Minor, &def.Minor}, {&d.Serious, &def.Serious}, {&d.Severe, &def.Severe}, {&d.Criminal, &def.Criminal}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return d
}

// Progress returns how long a case of severity s may wait for its next
// action (after defaults); 0 for an unassessed case, which owes its
// assessment instead.
func (d CaseDeadlines) Progress(s Severity) time.Duration {
	d = d.WithDefaults()
	switch s {
	case SeverityMinor:
		return d.Minor.D()
	case SeveritySerious:
		return d.Serious.D()
	case SeveritySevere:
		return d.Severe.D()
	case SeverityCriminal:
		return d.Criminal.D()
	}
	return 0
}

// Duration is a time.Duration that reads and writes JSON as "1h30m".
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DisplayName returns the school's name in lang.
func (s *School) DisplayName(lang Lang) string {
	if lang == LangEN && s.Settings.NameEN != "" {
		return s.Settings.NameEN
	}
	return s.Name
}

// Counselor is a member of staff: counselor, school admin or district officer.
type Counselor struct {
	ID          int64
	SchoolID    int64 // 0 for district officers
	District    string
	Username    string
	DisplayName string
	Role        Role
	Active      bool
	// MustChangePassword is set while the counselor holds a one-time password.
	MustChangePassword bool
	TOTPSecretSealed   []byte `json:"-"` // sealed under the server key
	CreatedAt          time.Time
}

// IsAdmin reports whether the counselor manages their school.
func (c *Counselor) IsAdmin() bool { return c.Role == RoleAdmin }

// Alias is a tip's pseudonym, unique within its school, e.g. 蓝狐 / Blue Fox.
type Alias struct {
	ZH string
	EN string
}

// In returns the alias in lang.
func (a Alias) In(lang Lang) string {
	if lang == LangEN {
		return a.EN
	}
	return a.ZH
}

// String returns both forms, "蓝狐 / Blue Fox".
func (a Alias) String() string { return a.ZH + " / " + a.EN }

// Tip is one report, from its first message on: the case.
type Tip struct {
	ID         int64
	UID        string // random; binds ciphertexts to their tip
	SchoolID   int64
	Alias      Alias
	Channel    Channel
	Role       ReporterRole
	Status     Status
	Severity   Severity
	Category   Category
	Urgent     bool
	AssigneeID int64 // 0 when unassigned
	Escalated  bool  // escalated to the district
	Steps      map[Step]bool
	// ReporterKey is the public key of a web reporter's copy of the thread.
	ReporterKey []byte
	// ReporterKeyVersion says how ReporterKey was derived from the receipt
	// (a vault reporter key version); 0 when there is no reporter key.
	ReporterKeyVersion int
	CreatedAt          time.Time
	UpdatedAt          time.Time
	// LastReporterAt is when the reporter last wrote; the inbox marks a tip
	// unread when it is after the counselor's last view.
	LastReporterAt time.Time
	AckDue         time.Time
	ReplyDue       time.Time
	DistrictDue    time.Time // zero unless the case must be reported to the district
	// AssessDue is when an unassessed case must have a severity.
	AssessDue time.Time
	// ProgressDue is when an assessed open case needs its next action or
	// its closure; every counselor action renews it (RenewProgress).
	ProgressDue    time.Time
	AcknowledgedAt time.Time
	FirstReplyAt   time.Time
	ResolvedAt     time.Time
	Purged         bool // sealed content removed by the retention policy
	// PossiblyUrgent marks a case whose reporter was asked whether they
	// are safe (the detector was unsure of their words) and did not
	// answer within SafetyQuestionWait: the counselor's queue shows it and
	// filters on it. A mark beside urgency, free of content.
	PossiblyUrgent bool
	// SafetyDue is when a safety question asked about this case goes
	// unanswered (zero when none is waiting); SafetyAskedAt when the last
	// one was asked.
	SafetyDue, SafetyAskedAt time.Time
}

// Assessed reports whether the case has a severity.
func (t *Tip) Assessed() bool { return t.Severity != SeverityUnassessed && t.Severity != "" }

// RenewProgress restarts the clock of the case's next action after a
// counselor acted at now: an assessed open case owes its next action or
// closure within its severity's time (d.Progress); an unassessed one owes
// its assessment (AssessDue) instead, and a closed one nothing.
func (t *Tip) RenewProgress(d CaseDeadlines, now time.Time) {
	if p := d.Progress(t.Severity); t.Status.Open() && p > 0 {
		t.ProgressDue = now.Add(p)
		return
	}
	t.ProgressDue = time.Time{}
}

// Overdue reports whether any of the tip's open duties is past due at now.
func (t *Tip) Overdue(now time.Time) bool {
	if t.Status == StatusResolved || t.Status == StatusClosed {
		return false
	}
	if !t.AckDue.IsZero() && t.AcknowledgedAt.IsZero() && now.After(t.AckDue) {
		return true
	}
	if !t.ReplyDue.IsZero() && t.FirstReplyAt.IsZero() && now.After(t.ReplyDue) {
		return true
	}
	if !t.DistrictDue.IsZero() && !t.Steps[StepDistrictReport] && now.After(t.DistrictDue) {
		return true
	}
	if !t.AssessDue.IsZero() && !t.Assessed() && now.After(t.AssessDue) {
		return true
	}
	if !t.ProgressDue.IsZero() && now.After(t.ProgressDue) {
		return true
	}
	return false
}

// NextDue returns the nearest open deadline, or zero.
func (t *Tip) NextDue() time.Time {
	var due time.Time
	consider := func(d time.Time, done bool) {
		if d.IsZero() || done {
			return
		}
		if due.IsZero() || d.Before(due) {
			due = d
		}
	}
	if t.Status.Open() {
		consider(t.AckDue, !t.AcknowledgedAt.IsZero())
		consider(t.ReplyDue, !t.FirstReplyAt.IsZero())
		consider(t.DistrictDue, t.Steps[StepDistrictReport])
		consider(t.AssessDue, t.Assessed())
		consider(t.ProgressDue, false)
	}
	return due
}

// Message is one entry of a tip's thread. Body and Photo are plaintext and
// live only in memory after opening; the store holds sealed bytes.
type Message struct {
	ID          int64
	UID         string
	TipID       int64
	Author      AuthorKind
	CounselorID int64
	Body        string
	Photo       *Photo
	HasPhoto    bool
	Delivery    Delivery
	CreatedAt   time.Time
}
