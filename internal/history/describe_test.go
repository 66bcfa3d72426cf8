package history

import (
	"strings"
	"testing"

	"hotline/internal/hotline"
)

// TestDescribeEveryDetailFormat covers each detail format the ledger writes,
// and a detail nobody knows yet.
func TestDescribeEveryDetailFormat(t *testing.T) {
	names := map[int64]string{7: "张老师"}
	tests := []struct {
		kind   hotline.EventKind
		detail string
		zh, en string
	}{
		{hotline.EventReceived, "channel=telegram;urgent", "收到报告 · 渠道：Telegram 热线 · 紧急", "Report received · Channel: Telegram · urgent"},
		{hotline.EventAcknowledged, "", "已受理", "Acknowledged"},
		{hotline.EventAcknowledged, "from=new;to=acknowledged", "状态：新报告 → 已受理", "Status: New → Acknowledged"},
		{hotline.EventStatusChanged, "from=investigating;to=acknowledged", "状态：调查处置中 → 已受理", "Status: Investigating → Acknowledged"},
		{hotline.EventSeverityChanged, "from=;to=severe", "情节等级变更：未评估 → 情节严重", "Severity changed: Unassessed → Severe"},
		{hotline.EventCategoryChanged, "from=;to=cyber", "类别变更：未分类 → 网络欺凌", "Category changed: Uncategorized → Cyberbullying"},
		{hotline.EventUrgencyChanged, "urgent=true;detected", "标记为紧急（系统识别到危险词语）", "Marked urgent (flagged by the system's danger words)"},
		{hotline.EventUrgencyChanged, "urgent=false", "取消紧急标记", "Urgent mark removed"},
		{hotline.EventAssigned, "counselor=7", "指派负责人：张老师", "Assigned: 张老师"},
		{hotline.EventAssigned, "counselor=0", "取消指派负责人", "Unassigned"},
		{hotline.EventAssigned, "counselor=99", "指派负责人：其他工作人员", "Assigned: another staff member"},
		{hotline.EventStepRecorded, "step=counseling;done=true", "记录处置措施：对受欺凌学生进行心理辅导 · 已完成", "Handling step recorded: Counseling for the victim · done"},
		{hotline.EventStepRecorded, "step=warning_talk;done=false", "记录处置措施：批评教育和警示谈话 · 取消完成", "Handling step recorded: Warning talk · marked not done"},
		{hotline.EventStepRecorded, "step=district_report;done=false;followup_after=12", "案件有变化，需要向区教育局续报", "the case changed: a follow-up report to the district is owed"},
		{hotline.EventDistrictReport, "step=district_report;done=true;followup=true", "向区教育局续报：已上报区教育局（续报）", "Follow-up report to the district: Reported to the district (follow-up)"},
		{hotline.EventEscalated, "severity=criminal", "上报区教育局 · 情节等级：涉嫌违法犯罪", "Escalated to the district · Severity: Suspected crime"},
		{hotline.EventDeadlineMissed, "deadline=progress", "超过处理时限：跟进处理或办结", "Deadline missed: follow up or close"},
		{hotline.EventPurged, "retention_days=365", "按保存期限清除内容 · 保存期限：365 天", "Content purged (retention) · Retention: 365 days"},
		{hotline.EventHeadRecorded, "day=2026-11-28;after=40", "记录台账校验值 · 日期：2026-11-28 · 台账序号 #40", "Ledger head recorded · Day: 2026-11-28 · after entry #40"},
		{hotline.EventAcknowledged, "via=alert_link", "已受理（从紧急提醒里的“我来处理”链接）", "Acknowledged (from an urgent alert's “I'm on it” link)"},
		{hotline.EventPaged, "rung=3", "紧急提醒：第 3 级（全体辅导老师）", "Urgent alert sent: rung 3 (every counselor)"},
		{hotline.EventAlertAcknowledged, "via=alert_link", "区教育局确认收到紧急提醒", "District confirmed the urgent alert"},
		{"future_kind", "some_key=x;flag", "future kind，some key：x，flag", "future kind, some key: x, flag"},
	}
	for _, tt := range tests {
		e := &hotline.Event{Kind: tt.kind, Detail: tt.detail}
		if got := Describe(e, names, hotline.LangZH); got != tt.zh {
			t.Errorf("%s %q zh = %q, want %q", tt.kind, tt.detail, got, tt.zh)
		}
		got := Describe(e, names, hotline.LangEN)
		if got != tt.en {
			t.Errorf("%s %q en = %q, want %q", tt.kind, tt.detail, got, tt.en)
		}
		if strings.Contains(got, "=") || strings.Contains(got, ";") {
			t.Errorf("%s %q shows raw detail: %q", tt.kind, tt.detail, got)
		}
	}
}
