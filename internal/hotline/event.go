package hotline

import "time"

// EventKind names a case event recorded in the ledger (台账).
type EventKind string

// Case events. Ledger events hold the school, the case alias, the kind and
// the time — never content.
const (
	EventReceived        EventKind = "received"
	EventReporterMessage EventKind = "reporter_message"
	EventAcknowledged    EventKind = "acknowledged"
	EventStatusChanged   EventKind = "status_changed"
	EventSeverityChanged EventKind = "severity_changed"
	EventCategoryChanged EventKind = "category_changed"
	EventUrgencyChanged  EventKind = "urgency_changed"
	EventAssigned        EventKind = "assigned"
	EventReplied         EventKind = "replied"
	EventNoted           EventKind = "noted"
	EventStepRecorded    EventKind = "step_recorded"
	EventEscalated       EventKind = "escalated"
	EventDistrictReport  EventKind = "district_report" // 续报: a follow-up report to the district
	EventReferredPolice  EventKind = "referred_police"
	EventClosed          EventKind = "closed"
	EventResolved        EventKind = "resolved"
	EventReopened        EventKind = "reopened"
	EventDeadlineMissed  EventKind = "deadline_missed"
	EventPurged          EventKind = "purged"
	EventUndeliverable   EventKind = "undeliverable"
	EventForgotten       EventKind = "forgotten"
	EventHeadRecorded    EventKind = "head_recorded"
	// Rectification measures (整改措施) from a survey's findings: the
	// event holds the finding's key and the deadline, never the words.
	EventMeasureRecorded EventKind = "measure_recorded"
	EventMeasureDone     EventKind = "measure_done"
	// The escalation ladder of an urgent case: a rung was paged
	// ("rung=3"), and a district officer answered an alert's "I'm on it"
	// link (school staff answering it acknowledge the case itself:
	// EventAcknowledged with "via=alert_link").
	EventPaged             EventKind = "paged"
	EventAlertAcknowledged EventKind = "alert_acknowledged"
	// A case's evidence bundle (证据包) was exported: the detail names the
	// bundle, the reason (an ExportReason) and the SHA-256 of the files it
	// carries, so that the ledger itself vouches for the bytes handed over.
	EventEvidenceExported EventKind = "evidence_exported"
	// A school's hand-over from the district to its admin: started (detail
	// "code=…;handover=N"), accepted ("handover=N;new_key=true" when the
	// school's key pair was made then), and an admin deactivated by an
	// officer ("counselor=N").
	EventHandoverStarted  EventKind = "handover_started"
	EventHandoverAccepted EventKind = "handover_accepted"
	EventAdminDeactivated EventKind = "admin_deactivated"
	// An officer withdrew a school no admin had accepted ("code=…").
	EventHandoverWithdrawn EventKind = "handover_withdrawn"
)

var eventLabels = map[EventKind]Label{
	EventReceived:          {"收到报告", "Report received"},
	EventReporterMessage:   {"报告人补充信息", "Reporter wrote"},
	EventAcknowledged:      {"已受理", "Acknowledged"},
	EventStatusChanged:     {"状态变更", "Status changed"},
	EventSeverityChanged:   {"情节等级变更", "Severity changed"},
	EventCategoryChanged:   {"类别变更", "Category changed"},
	EventUrgencyChanged:    {"紧急标记变更", "Urgency changed"},
	EventAssigned:          {"指派负责人", "Assigned"},
	EventReplied:           {"回复报告人", "Replied to reporter"},
	EventNoted:             {"添加内部备注", "Internal note"},
	EventStepRecorded:      {"记录处置措施", "Handling step recorded"},
	EventEscalated:         {"上报区教育局", "Escalated to the district"},
	EventDistrictReport:    {"向区教育局续报", "Follow-up report to the district"},
	EventReferredPolice:    {"报告公安机关", "Referred to police"},
	EventClosed:            {"关闭", "Closed"},
	EventResolved:          {"处理完毕", "Resolved"},
	EventReopened:          {"重新打开", "Reopened"},
	EventDeadlineMissed:    {"超过处理时限", "Deadline missed"},
	EventPurged:            {"按保存期限清除内容", "Content purged (retention)"},
	EventUndeliverable:     {"回复无法送达", "Reply undeliverable"},
	EventForgotten:         {"报告人解除关联", "Reporter unlinked their chat"},
	EventHeadRecorded:      {"记录台账校验值", "Ledger head recorded"},
	EventMeasureRecorded:   {"记录整改措施", "Rectification measure recorded"},
	EventMeasureDone:       {"整改措施完成", "Rectification measure done"},
	EventPaged:             {"紧急提醒", "Urgent alert sent"},
	EventAlertAcknowledged: {"区教育局确认收到紧急提醒", "District confirmed the urgent alert"},
	EventEvidenceExported:  {"导出证据包", "Evidence bundle exported"},
	EventHandoverStarted:   {"区教育局发出学校管理员交接", "District started a school admin hand-over"},
	EventHandoverAccepted:  {"学校管理员接受交接", "School admin accepted the hand-over"},
	EventAdminDeactivated:  {"区教育局停用学校管理员", "District deactivated a school admin"},
	EventHandoverWithdrawn: {"区教育局撤回尚未开通的学校", "District withdrew a school not yet open"},
}

// Label returns the event kind's name in both languages.
func (k EventKind) Label() Label { return eventLabels[k] }

// Event is one ledger entry. Detail is a short machine value such as
// "severity=severe" or "deadline=ack" — never content.
type Event struct {
	Seq      int64
	SchoolID int64
	TipID    int64 // 0 for events that are not about one case
	Alias    string
	Kind     EventKind
	Detail   string
	ActorID  int64
	At       time.Time
	// Salt is the random salt of a version 2 event, whose hash commits to
	// its fields through a salted digest, so that a case's evidence
	// bundle can prove its own events without showing other cases' (see
	// internal/ledger). Nil for a version 1 event.
	Salt     []byte
	PrevHash []byte
	Hash     []byte
}

// ChangeKind says what happened to a tip, for live updates.
type ChangeKind string

// Live change kinds.
const (
	ChangeNewTip          ChangeKind = "new_tip"
	ChangeReporterMessage ChangeKind = "reporter_message"
	ChangeReply           ChangeKind = "reply"    // a counselor replied: a web reporter's page shows it
	ChangeUpdated         ChangeKind = "updated"  // metadata changed
	ChangeDelivery        ChangeKind = "delivery" // a reply's delivery state changed
)

// Change is a content-free notice that a tip changed; subscribers re-read
// what they are allowed to see.
type Change struct {
	Kind       ChangeKind
	SchoolID   int64
	TipUID     string
	MessageUID string
	Urgent     bool
}

// Notifier publishes changes after they have committed.
type Notifier interface {
	Notify(Change)
}
