package scheduler

import (
	"fmt"
	"strings"

	"hotline/internal/hotline"
)

// Audiences of an alert.
const (
	AudienceOnCall   = "oncall"   // alerts queued before the ladder (issue 22): every counselor of the school
	AudienceSchool   = "school"   // every counselor of the school
	AudienceDistrict = "district" // the officers of the school's district
)

// Reasons of an alert.
const (
	ReasonUrgent         = "urgent"         // a new urgent tip: the ladder's first rung
	ReasonUrgentUnacked  = "urgent_unacked" // nobody acknowledged it: the ladder's next rungs
	ReasonUrgentOverdue  = "urgent_overdue" // nobody acknowledged it within its deadline (the hour)
	ReasonDeadlinePrefix = "deadline="      // followed by the deadline kind
	ReasonTest           = "test"           // a test alert over one target
)

// AlertText composes an alert from metadata only: the alias, the school,
// why, and where to look. It is the only text an alert ever carries.
func AlertText(alias hotline.Alias, school *hotline.School, reason, link string) string {
	zhName, enName := school.Name, school.DisplayName(hotline.LangEN)
	var zh, en string
	switch {
	case reason == ReasonUrgent:
		zh = fmt.Sprintf("紧急报告「%s」— %s — 请打开收件箱", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s — open the inbox", alias.EN, enName)
	case reason == ReasonUrgentUnacked:
		zh = fmt.Sprintf("紧急报告「%s」仍无人受理 — %s — 请立即打开收件箱", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s is still not acknowledged — open the inbox now", alias.EN, enName)
	case reason == ReasonUrgentOverdue:
		zh = fmt.Sprintf("紧急报告「%s」超过 1 小时无人受理 — %s — 请跟进", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s was not acknowledged in time — please follow up", alias.EN, enName)
	case strings.HasPrefix(reason, ReasonDeadlinePrefix):
		kind := hotline.DeadlineKind(strings.TrimPrefix(reason, ReasonDeadlinePrefix))
		l := kind.Label()
		zh = fmt.Sprintf("报告「%s」超过处理时限（%s）— %s — 请跟进", alias.ZH, l.ZH, zhName)
		en = fmt.Sprintf("Report %s at %s missed its deadline (%s) — please follow up", alias.EN, enName, l.EN)
	default:
		zh = fmt.Sprintf("报告「%s」需要处理 — %s", alias.ZH, zhName)
		en = fmt.Sprintf("Report %s at %s needs attention", alias.EN, enName)
	}
	text := zh + "\n" + en
	if link != "" {
		text += "\n" + link
	}
	return text
}
