package hotline

import "time"

// AuditKind names a staff action in the audit trail: log-ins, key
// recovery, password changes, cases opened, exports. Case events are the
// ledger's.
type AuditKind string

// Audit kinds.
const (
	AuditLogin           AuditKind = "login"            // a complete log-in (password, and code if enrolled)
	AuditLoginFailed     AuditKind = "login_failed"     // a wrong password for an existing account
	AuditLoginThrottled  AuditKind = "login_throttled"  // an attempt refused while the account's counter was locked
	AuditTOTPFailed      AuditKind = "totp_failed"      // a wrong or replayed second-factor code
	AuditRecovery        AuditKind = "recovery"         // the school's recovery key made a new admin
	AuditRecoveryFailed  AuditKind = "recovery_failed"  // a wrong recovery key for the school
	AuditPasswordChanged AuditKind = "password_changed" // a counselor set a new password
	AuditCaseOpened      AuditKind = "case_opened"      // a case page was opened (once per counselor and case per AuditOpenedEvery)
	AuditExport          AuditKind = "export"           // statistics or a report left the server as a file
	AuditSurveyCodes     AuditKind = "survey_codes"     // survey codes printed: survey, wave, class, how many (never a code)
	AuditSavedReply      AuditKind = "saved_reply"      // a saved reply added, changed or deleted
	AuditEvidence        AuditKind = "evidence"         // a case's evidence bundle left the server: bundle, reason and reference
	AuditPlatform        AuditKind = "platform"         // the district's platform connection changed: a webhook or a statistics token
	// The district's hand-over of schools to their admins (detail: the
	// school code and the hand-over's number; never the link).
	AuditHandoverStarted   AuditKind = "handover_started"   // an officer added a school or started a new admin hand-over
	AuditHandoverAccepted  AuditKind = "handover_accepted"  // an admin accepted a hand-over and set a password
	AuditHandoverWithdrawn AuditKind = "handover_withdrawn" // an officer withdrew a school no admin had accepted yet
	AuditAdminDeactivated  AuditKind = "admin_deactivated"  // an officer deactivated a school admin's account
	AuditPosterDownloaded  AuditKind = "poster_downloaded"  // the school's poster was downloaded to print
)

// AuditOpenedEvery is how often opening the same case again is recorded:
// a counselor working a case reloads its page after every action.
const AuditOpenedEvery = 15 * time.Minute

var auditLabels = map[AuditKind]Label{
	AuditLogin:             {"登录", "Logged in"},
	AuditLoginFailed:       {"登录失败（密码错误）", "Log-in failed (wrong password)"},
	AuditLoginThrottled:    {"登录被暂时拒绝（尝试过多）", "Log-in refused (too many attempts)"},
	AuditTOTPFailed:        {"登录失败（验证码错误）", "Log-in failed (wrong code)"},
	AuditRecovery:          {"用恢复密钥恢复访问", "Access recovered with the recovery key"},
	AuditRecoveryFailed:    {"恢复密钥错误", "Wrong recovery key"},
	AuditPasswordChanged:   {"修改密码", "Password changed"},
	AuditCaseOpened:        {"查看案件", "Opened a case"},
	AuditExport:            {"导出", "Exported"},
	AuditSurveyCodes:       {"打印问卷码", "Printed survey codes"},
	AuditSavedReply:        {"修改常用回复", "Changed a saved reply"},
	AuditEvidence:          {"导出证据包", "Exported an evidence bundle"},
	AuditPlatform:          {"修改平台对接", "Changed the platform connection"},
	AuditHandoverStarted:   {"发出学校管理员交接链接", "Started a school admin hand-over"},
	AuditHandoverAccepted:  {"学校管理员接受交接并设置密码", "School admin accepted the hand-over"},
	AuditHandoverWithdrawn: {"撤回尚未开通的学校", "Withdrew a school not yet open"},
	AuditAdminDeactivated:  {"停用学校管理员账号", "Deactivated a school admin"},
	AuditPosterDownloaded:  {"下载海报", "Downloaded the poster"},
}

// AuditKinds lists every kind, for filters and tests.
var AuditKinds = []AuditKind{AuditLogin, AuditLoginFailed, AuditLoginThrottled, AuditTOTPFailed, AuditRecovery, AuditRecoveryFailed, AuditPasswordChanged, AuditCaseOpened, AuditExport, AuditSurveyCodes, AuditSavedReply, AuditEvidence, AuditPlatform, AuditHandoverStarted, AuditHandoverAccepted, AuditHandoverWithdrawn, AuditAdminDeactivated, AuditPosterDownloaded}

// Label returns the kind in words.
func (k AuditKind) Label() Label {
	if l, ok := auditLabels[k]; ok {
		return l
	}
	return Label{ZH: string(k), EN: string(k)}
}

// AuditEntry is one row of the audit trail, with the names a page shows.
type AuditEntry struct {
	ID          int64
	At          time.Time
	Kind        AuditKind
	District    string
	SchoolID    int64
	CounselorID int64
	TipID       int64
	// Client is a coarse browser and system family ("Chrome/Android"),
	// "cli" for the command line; never an address or a user agent.
	Client string
	// Detail says what was exported, e.g. "report.csv 2024-03-01..2024-03-31".
	Detail string

	// Filled when read: who, which school, which case (alias).
	Username, DisplayName, SchoolName string
	Alias                             Alias
}
