package hotline

// Status is where a case stands. A tip is never deleted: closed is the end of
// a case that was not actionable, a duplicate or spam, and it still counts.
type Status string

// Case statuses, in order.
const (
	StatusNew           Status = "new"
	StatusAcknowledged  Status = "acknowledged"
	StatusInvestigating Status = "investigating"
	StatusResolved      Status = "resolved"
	StatusClosed        Status = "closed"
)

// Statuses lists every status in display order.
var Statuses = []Status{StatusNew, StatusAcknowledged, StatusInvestigating, StatusResolved, StatusClosed}

var statusLabels = map[Status]Label{
	StatusNew:           {"新报告", "New"},
	StatusAcknowledged:  {"已受理", "Acknowledged"},
	StatusInvestigating: {"调查处置中", "Investigating"},
	StatusResolved:      {"已处理完毕", "Resolved"},
	StatusClosed:        {"已关闭", "Closed"},
}

// reporterStatusLabels say a status in plain words to a reporter, without
// staff names.
var reporterStatusLabels = map[Status]Label{
	StatusNew:           {"学校已收到你的报告，老师很快会查看。", "The school has received your report; a counselor will look at it soon."},
	StatusAcknowledged:  {"老师已经看过你的报告并受理了。", "A counselor has read your report and taken it on."},
	StatusInvestigating: {"学校正在调查和处理这件事。", "The school is looking into this and acting on it."},
	StatusResolved:      {"学校认为这件事已经处理完毕。如果还有问题，可以随时再写给我们。", "The school considers this handled. If anything is still wrong, write to us any time."},
	StatusClosed:        {"这份报告已关闭。如果情况有变化，请随时再写给我们。", "This report is closed. If anything changes, write to us any time."},
}

// Label returns the status's name in both languages.
func (s Status) Label() Label { return statusLabels[s] }

// ForReporter says the status in plain words to a reporter.
func (s Status) ForReporter() Label { return reporterStatusLabels[s] }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Open reports whether the case still needs work.
func (s Status) Open() bool {
	return s == StatusNew || s == StatusAcknowledged || s == StatusInvestigating
}

// statusNext is every status change a counselor may make. A case never
// goes back to new; investigating may step back to acknowledged (work paused
// until something comes in); resolved may still be closed; and a resolved or
// closed case is reopened to investigating when the reporter writes again or
// it was closed by mistake.
var statusNext = map[Status][]Status{
	StatusNew:           {StatusAcknowledged, StatusInvestigating, StatusResolved, StatusClosed},
	StatusAcknowledged:  {StatusInvestigating, StatusResolved, StatusClosed},
	StatusInvestigating: {StatusAcknowledged, StatusResolved, StatusClosed},
	StatusResolved:      {StatusInvestigating, StatusClosed},
	StatusClosed:        {StatusInvestigating},
}

// CanMoveTo reports whether a case may go from s to next.
func (s Status) CanMoveTo(next Status) bool {
	for _, n := range statusNext[s] {
		if n == next {
			return true
		}
	}
	return false
}

// Next lists the statuses a case may move to from s, in display order.
func (s Status) Next() []Status {
	var out []Status
	for _, n := range Statuses {
		if s.CanMoveTo(n) {
			out = append(out, n)
		}
	}
	return out
}

// Reopens reports whether moving from s to next reopens a finished case.
func (s Status) Reopens(next Status) bool {
	return !s.Open() && next.Open()
}

// ErrStatusChange is the error for a status change the case may not make,
// naming both statuses so the counselor sees which move was refused.
func ErrStatusChange(from, to Status) *Error {
	toLabel := to.Label()
	if !to.Valid() {
		toLabel = Label{ZH: string(to), EN: string(to)}
	}
	return Errorf(EINVALID,
		"不能把状态从「"+from.Label().ZH+"」改为「"+toLabel.ZH+"」。",
		"A case cannot go from "+from.Label().EN+" to "+toLabel.EN+".")
}

// Severity is the policy's scale of a bullying case (情节轻微/较重/严重/涉嫌违法犯罪).
type Severity string

// Severities, from unassessed to criminal.
const (
	SeverityUnassessed Severity = "unassessed"
	SeverityMinor      Severity = "minor"
	SeveritySerious    Severity = "serious"
	SeveritySevere     Severity = "severe"
	SeverityCriminal   Severity = "criminal"
)

// Severities lists every severity in order.
var Severities = []Severity{SeverityUnassessed, SeverityMinor, SeveritySerious, SeveritySevere, SeverityCriminal}

var severityLabels = map[Severity]Label{
	SeverityUnassessed: {"未评估", "Unassessed"},
	SeverityMinor:      {"情节轻微", "Minor"},
	SeveritySerious:    {"情节较重", "Serious"},
	SeveritySevere:     {"情节严重", "Severe"},
	SeverityCriminal:   {"涉嫌违法犯罪", "Suspected crime"},
}

// Label returns the severity's name in both languages.
func (s Severity) Label() Label { return severityLabels[s] }

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { _, ok := severityLabels[s]; return ok }

// MustReportToDistrict reports whether the policy requires the case to be
// reported to the district (and possibly the police).
func (s Severity) MustReportToDistrict() bool { return s == SeveritySevere || s == SeverityCriminal }

// Step is a handling step the policy calls for on a case.
type Step string

// Handling steps.
const (
	StepWarningTalk     Step = "warning_talk"
	StepParentsInformed Step = "parents_informed"
	StepDisciplinary    Step = "disciplinary"
	StepPoliceEducation Step = "police_education"
	StepQualityRecord   Step = "quality_record"
	StepPoliceReferral  Step = "police_referral"
	// StepSpecialSchool is the policy's answer to violent, severe or
	// repeated bullying: 必要时依法转入专门学校就读.
	StepSpecialSchool  Step = "special_school"
	StepCounseling     Step = "counseling"
	StepDistrictReport Step = "district_report"
)

// Steps lists every handling step.
var Steps = []Step{StepWarningTalk, StepParentsInformed, StepDisciplinary, StepPoliceEducation, StepQualityRecord, StepSpecialSchool, StepPoliceReferral, StepCounseling, StepDistrictReport}

var stepLabels = map[Step]Label{
	StepWarningTalk:     {"批评教育和警示谈话", "Warning talk"},
	StepParentsInformed: {"已告知家长", "Parents informed"},
	StepDisciplinary:    {"纪律处分", "Disciplinary step"},
	StepPoliceEducation: {"邀请公安机关参与警示教育或训诫", "Police warning education"},
	StepQualityRecord:   {"记入学生综合素质评价", "Recorded in the student's evaluation"},
	StepSpecialSchool:   {"必要时依法转入专门学校就读", "Transfer to a special school (专门学校) where needed, as the law provides"},
	StepPoliceReferral:  {"已报告公安机关", "Referred to police"},
	StepCounseling:      {"对受欺凌学生进行心理辅导", "Counseling for the victim"},
	StepDistrictReport:  {"已上报区教育局", "Reported to the district"},
}

// Label returns the step's name in both languages.
func (s Step) Label() Label { return stepLabels[s] }

// Valid reports whether s is a known step.
func (s Step) Valid() bool { _, ok := stepLabels[s]; return ok }

// StepsFor returns the handling steps the policy calls for at a severity, as
// a checklist for the case page.
func StepsFor(s Severity) []Step {
	switch s {
	case SeverityMinor:
		return []Step{StepWarningTalk, StepParentsInformed, StepCounseling}
	case SeveritySerious:
		return []Step{StepWarningTalk, StepParentsInformed, StepDisciplinary, StepPoliceEducation, StepCounseling}
	case SeveritySevere:
		return []Step{StepWarningTalk, StepParentsInformed, StepDisciplinary, StepQualityRecord, StepSpecialSchool, StepPoliceReferral, StepCounseling, StepDistrictReport}
	case SeverityCriminal:
		return []Step{StepParentsInformed, StepPoliceReferral, StepCounseling, StepDistrictReport}
	}
	return []Step{StepCounseling}
}

// Category is what kind of bullying a tip is about.
type Category string

// Categories.
const (
	CategoryPhysical   Category = "physical"
	CategoryVerbal     Category = "verbal"
	CategoryExclusion  Category = "exclusion"
	CategoryCyber      Category = "cyber"
	CategoryProperty   Category = "property"
	CategorySexual     Category = "sexual"
	CategorySelfHarm   Category = "self_harm"
	CategoryOther      Category = "other"
	CategoryUnassigned Category = ""
)

// Categories lists every category in display order.
var Categories = []Category{CategoryPhysical, CategoryVerbal, CategoryExclusion, CategoryCyber, CategoryProperty, CategorySexual, CategorySelfHarm, CategoryOther}

var categoryLabels = map[Category]Label{
	CategoryPhysical:  {"身体欺凌（打、踢、推搡）", "Physical (hitting, kicking, pushing)"},
	CategoryVerbal:    {"言语欺凌（辱骂、嘲笑、起外号）", "Verbal (insults, mocking, name-calling)"},
	CategoryExclusion: {"孤立排挤", "Social exclusion"},
	CategoryCyber:     {"网络欺凌", "Cyberbullying"},
	CategoryProperty:  {"抢夺财物、勒索", "Property or extortion"},
	CategorySexual:    {"性骚扰", "Sexual harassment"},
	CategorySelfHarm:  {"自伤风险", "Self-harm risk"},
	CategoryOther:     {"其他", "Other"},
}

// Label returns the category's name in both languages.
func (c Category) Label() Label { return categoryLabels[c] }

// Valid reports whether c is a known category.
func (c Category) Valid() bool { _, ok := categoryLabels[c]; return ok }

// Channel is how a reporter reached the school.
type Channel string

// Channels.
const (
	ChannelTelegram Channel = "telegram"
	ChannelWechat   Channel = "wechat" // a WeChat Official Account (公众号)
	ChannelWebchat  Channel = "webchat"
	ChannelMailbox  Channel = "mailbox"
	ChannelStaff    Channel = "staff"
)

// Channels lists every channel.
var Channels = []Channel{ChannelTelegram, ChannelWechat, ChannelWebchat, ChannelMailbox, ChannelStaff}

var channelLabels = map[Channel]Label{
	ChannelTelegram: {"Telegram 热线", "Telegram"},
	ChannelWechat:   {"微信公众号", "WeChat"},
	ChannelWebchat:  {"网页聊天", "Web chat"},
	ChannelMailbox:  {"网上信箱", "Mailbox form"},
	ChannelStaff:    {"教师代录（电话/纸条）", "Entered by staff"},
}

// Label returns the channel's name in both languages.
func (c Channel) Label() Label { return channelLabels[c] }

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { _, ok := channelLabels[c]; return ok }

// Web reports whether reporters on c return with a receipt.
func (c Channel) Web() bool { return c == ChannelWebchat || c == ChannelMailbox }

// Chat reports whether c is a messenger chat (Telegram, WeChat): the chat is
// the thread, its id is sealed in the tip's handle, and replies are pushed
// to it through the relay.
func (c Channel) Chat() bool { return c == ChannelTelegram || c == ChannelWechat }

// ReporterRole is who the reporter says they are.
type ReporterRole string

// Reporter roles.
const (
	ReporterVictim  ReporterRole = "victim"
	ReporterWitness ReporterRole = "witness"
	ReporterParent  ReporterRole = "parent"
	ReporterOther   ReporterRole = "other"
)

// ReporterRoles lists every reporter role.
var ReporterRoles = []ReporterRole{ReporterVictim, ReporterWitness, ReporterParent, ReporterOther}

var reporterRoleLabels = map[ReporterRole]Label{
	ReporterVictim:  {"我正在被欺负", "I am being bullied"},
	ReporterWitness: {"我看到有人被欺负", "I saw someone being bullied"},
	ReporterParent:  {"我是家长", "I am a parent"},
	ReporterOther:   {"其他", "Other"},
}

// Label returns the role's name in both languages.
func (r ReporterRole) Label() Label { return reporterRoleLabels[r] }

// Valid reports whether r is a known reporter role.
func (r ReporterRole) Valid() bool { _, ok := reporterRoleLabels[r]; return ok }

// AuthorKind says who wrote a message of a thread.
type AuthorKind string

// Author kinds. Notes are internal and never reach the reporter.
const (
	AuthorReporter  AuthorKind = "reporter"
	AuthorCounselor AuthorKind = "counselor"
	AuthorNote      AuthorKind = "note"
	AuthorSystem    AuthorKind = "system"
)

// Role is a staff member's role.
type Role string

// Staff roles.
const (
	RoleCounselor Role = "counselor"
	RoleAdmin     Role = "admin"
	RoleDistrict  Role = "district"
)

var roleLabels = map[Role]Label{
	RoleCounselor: {"辅导老师", "Counselor"},
	RoleAdmin:     {"学校管理员", "School admin"},
	RoleDistrict:  {"区教育局", "District officer"},
}

// Label returns the role's name in both languages.
func (r Role) Label() Label { return roleLabels[r] }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleLabels[r]; return ok }

// Delivery is where a counselor's reply stands on its way to the reporter.
type Delivery string

// Delivery states.
const (
	DeliveryNone          Delivery = ""              // notes, reporter messages
	DeliveryWaiting       Delivery = "waiting"       // in the outbox
	DeliveryDelivered     Delivery = "delivered"     // accepted by Telegram, or stored for a web reporter
	DeliveryUndeliverable Delivery = "undeliverable" // the chat blocked the bot or was forgotten
)

var deliveryLabels = map[Delivery]Label{
	DeliveryWaiting:       {"等待送达", "Waiting"},
	DeliveryDelivered:     {"已送达", "Delivered"},
	DeliveryUndeliverable: {"无法送达", "Undeliverable"},
}

// Label returns the delivery state's name in both languages.
func (d Delivery) Label() Label { return deliveryLabels[d] }

// DeadlineKind names one duty of a case with a due time. The scheduler
// records a missed one in the ledger by this name ("deadline=ack"), and
// the pages say it in words; so it lives here, not in the scheduler.
type DeadlineKind string

// Deadline kinds, as written in ledger details ("deadline=ack").
const (
	DeadlineAck      DeadlineKind = "ack"      // acknowledge (受理): 1 h if urgent, else 24 h
	DeadlineReply    DeadlineKind = "reply"    // first reply to the reporter
	DeadlineDistrict DeadlineKind = "district" // report a severe or criminal case to the district
	DeadlineFollowup DeadlineKind = "followup" // follow-up report (续报) after an escalated case changed
	DeadlineAssess   DeadlineKind = "assess"   // assess the severity of a new case
	DeadlineProgress DeadlineKind = "progress" // the next action on an open case, or its closure
)

// DeadlineKinds lists every deadline kind.
var DeadlineKinds = []DeadlineKind{DeadlineAck, DeadlineReply, DeadlineDistrict, DeadlineFollowup, DeadlineAssess, DeadlineProgress}

var deadlineLabels = map[DeadlineKind]Label{
	DeadlineAck:      {"受理", "acknowledge"},
	DeadlineReply:    {"首次回复", "first reply"},
	DeadlineDistrict: {"上报区教育局", "report to the district"},
	DeadlineFollowup: {"向区教育局续报", "follow-up report to the district"},
	DeadlineAssess:   {"评估情节", "assess the severity"},
	DeadlineProgress: {"跟进处理或办结", "follow up or close"},
}

// Label returns the deadline's name in both languages; an unknown kind
// has an empty label.
func (k DeadlineKind) Label() Label { return deadlineLabels[k] }

// Valid reports whether k is a known deadline kind.
func (k DeadlineKind) Valid() bool { _, ok := deadlineLabels[k]; return ok }
