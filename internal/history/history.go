// Package history says a case's ledger events in words, for every page
// that shows a case history (the school's inbox and the district's copy):
// the ledger's detail is a short machine value ("from=new;to=acknowledged",
// "deadline=ack") that staff should never have to decode.
package history

import (
	"fmt"
	"strconv"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// detailFields parses a ledger detail into its keys and values, in order; a
// bare word ("urgent", "detected") is a key with an empty value.
func detailFields(detail string) (keys []string, vals map[string]string) {
	vals = map[string]string{}
	for _, part := range strings.Split(detail, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	return keys, vals
}

// Words of the history that no enum labels.
var (
	hStatus      = hotline.Label{ZH: "状态", EN: "Status"}
	hSeverity    = hotline.Label{ZH: "情节等级", EN: "Severity"}
	hUncat       = hotline.Label{ZH: "未分类", EN: "Uncategorized"}
	hUrgent      = hotline.Label{ZH: "标记为紧急", EN: "Marked urgent"}
	hNotUrgent   = hotline.Label{ZH: "取消紧急标记", EN: "Urgent mark removed"}
	hDetected    = hotline.Label{ZH: "系统识别到危险词语", EN: "flagged by the system's danger words"}
	hAsked       = hotline.Label{ZH: "系统追问时，报告人回答现在有危险", EN: "the reporter said yes when asked whether they are in danger"}
	hPossibly    = hotline.Label{ZH: "标记为可能紧急：报告人没有回答安全提问", EN: "Marked possibly urgent: the reporter did not answer the safety question"}
	hUnassigned  = hotline.Label{ZH: "取消指派负责人", EN: "Unassigned"}
	hSomeone     = hotline.Label{ZH: "其他工作人员", EN: "another staff member"}
	hDone        = hotline.Label{ZH: "已完成", EN: "done"}
	hUndone      = hotline.Label{ZH: "取消完成", EN: "marked not done"}
	hFollowupDue = hotline.Label{ZH: "案件有变化，需要向区教育局续报", EN: "the case changed: a follow-up report to the district is owed"}
	hFollowup    = hotline.Label{ZH: "续报", EN: "follow-up"}
	hChannel     = hotline.Label{ZH: "渠道", EN: "Channel"}
	hUrgentShort = hotline.Label{ZH: "紧急", EN: "urgent"}
	hRetention   = hotline.Label{ZH: "保存期限", EN: "Retention"}
	hDays        = hotline.Label{ZH: " 天", EN: " days"}
	hDay         = hotline.Label{ZH: "日期", EN: "Day"}
	hAfter       = hotline.Label{ZH: "台账序号", EN: "after entry"}
	hColon       = hotline.Label{ZH: "：", EN: ": "}
	hSep         = hotline.Label{ZH: "，", EN: ", "}
	hViaLink     = hotline.Label{ZH: "从紧急提醒里的“我来处理”链接", EN: "from an urgent alert's “I'm on it” link"}
	hRung        = hotline.Label{ZH: "第 %d 级", EN: "rung %d"}
	hReason      = hotline.Label{ZH: "原因", EN: "reason"}
	hWithNotes   = hotline.Label{ZH: "含内部备注", EN: "internal notes included"}
)

// rungWord names a ladder rung: its number and who it pages.
func rungWord(n int, lang hotline.Lang) string {
	w := fmt.Sprintf(hRung.In(lang), n)
	if lb := staff.RungLabel(n); lb.ZH != "" {
		w += paren(lb.In(lang), lang)
	}
	return w
}

// Describe says a ledger event in words in lang: the kind and, from its
// detail, what changed (statuses, severities, categories, deadline kinds,
// steps by their labels; staff by names, counselor id to display name, and
// as "another staff member" when not in names). It never returns raw
// "k=v;k=v": keys it does not know are shown as "key: value".
func Describe(e *hotline.Event, names map[int64]string, lang hotline.Lang) string {
	keys, v := detailFields(e.Detail)
	l := func(x hotline.Label) string { return x.In(lang) }
	colon := l(hColon)
	used := map[string]bool{}
	use := func(ks ...string) {
		for _, k := range ks {
			used[k] = true
		}
	}
	has := func(k string) bool { _, ok := v[k]; return ok }
	var head string // the event in words, before any leftover fields
	switch e.Kind {
	case hotline.EventStatusChanged, hotline.EventAcknowledged, hotline.EventResolved, hotline.EventClosed, hotline.EventReopened:
		if v["via"] == "alert_link" {
			use("via")
			head = l(e.Kind.Label()) + paren(l(hViaLink), lang)
		}
		if has("from") && has("to") {
			use("from", "to")
			label := hStatus
			if e.Kind == hotline.EventReopened {
				label = e.Kind.Label()
			}
			head = l(label) + colon + statusWord(v["from"], lang) + " → " + statusWord(v["to"], lang)
		}
	case hotline.EventSeverityChanged:
		if has("from") && has("to") {
			use("from", "to")
			head = l(e.Kind.Label()) + colon + severityWord(v["from"], lang) + " → " + severityWord(v["to"], lang)
		}
	case hotline.EventCategoryChanged:
		if has("from") && has("to") {
			use("from", "to")
			head = l(e.Kind.Label()) + colon + categoryWord(v["from"], lang) + " → " + categoryWord(v["to"], lang)
		}
	case hotline.EventUrgencyChanged:
		switch {
		case has("urgent"):
			use("urgent", "detected", "asked")
			head = l(hNotUrgent)
			if v["urgent"] == "true" {
				head = l(hUrgent)
			}
			if has("detected") {
				head += paren(l(hDetected), lang)
			}
			if has("asked") {
				head += paren(l(hAsked), lang)
			}
		case v["possibly_urgent"] == "true":
			use("possibly_urgent", "no_answer")
			head = l(hPossibly)
		}
	case hotline.EventAssigned:
		if has("counselor") {
			use("counselor")
			id, _ := strconv.ParseInt(v["counselor"], 10, 64)
			switch name := names[id]; {
			case id == 0:
				head = l(hUnassigned)
			case name != "":
				head = l(e.Kind.Label()) + colon + name
			default:
				head = l(e.Kind.Label()) + colon + l(hSomeone)
			}
		}
	case hotline.EventStepRecorded, hotline.EventDistrictReport, hotline.EventReferredPolice:
		if has("step") {
			use("step", "done", "followup", "followup_after")
			head = e.Kind.Label().In(lang) + colon + stepWord(v["step"], lang)
			switch {
			case has("followup_after"):
				head = l(hFollowupDue)
			case has("followup"):
				head += paren(l(hFollowup), lang)
			case v["done"] == "true":
				head += " · " + l(hDone)
			case v["done"] == "false":
				head += " · " + l(hUndone)
			}
		}
	case hotline.EventEscalated:
		if has("severity") {
			use("severity")
			head = l(e.Kind.Label()) + " · " + l(hSeverity) + colon + severityWord(v["severity"], lang)
		}
	case hotline.EventDeadlineMissed:
		if has("deadline") {
			use("deadline")
			head = l(e.Kind.Label()) + colon + deadlineWord(v["deadline"], lang)
		}
	case hotline.EventReceived:
		if has("channel") {
			use("channel", "urgent")
			head = l(e.Kind.Label()) + " · " + l(hChannel) + colon + channelWord(v["channel"], lang)
			if has("urgent") {
				head += " · " + l(hUrgentShort)
			}
		}
	case hotline.EventPurged:
		if has("retention_days") {
			use("retention_days")
			head = l(e.Kind.Label()) + " · " + l(hRetention) + colon + v["retention_days"] + l(hDays)
		}
	case hotline.EventPaged:
		if n, err := strconv.Atoi(v["rung"]); err == nil {
			use("rung")
			head = l(e.Kind.Label()) + colon + rungWord(n, lang)
		}
	case hotline.EventAlertAcknowledged:
		use("via")
	case hotline.EventEvidenceExported:
		use("bundle", "reason", "content", "notes")
		head = l(e.Kind.Label())
		if has("bundle") {
			head += " " + v["bundle"]
		}
		if r := hotline.ExportReason(v["reason"]); r.Valid() {
			head += paren(l(hReason)+colon+l(r.Label()), lang)
		}
		if v["notes"] == "true" {
			head += " · " + l(hWithNotes)
		}
	case hotline.EventHeadRecorded:
		use("day", "after")
		head = l(e.Kind.Label())
		if has("day") {
			head += " · " + l(hDay) + colon + v["day"]
		}
		if has("after") {
			head += " · " + l(hAfter) + " #" + v["after"]
		}
	}
	if head == "" {
		head = kindWord(e.Kind, lang)
	}
	var rest []string
	for _, k := range keys {
		if used[k] {
			continue
		}
		word := strings.ReplaceAll(k, "_", " ")
		if v[k] != "" {
			word += colon + v[k]
		}
		rest = append(rest, word)
	}
	if len(rest) > 0 {
		head += l(hSep) + strings.Join(rest, l(hSep))
	}
	return head
}

// paren adds an aside in the brackets of lang.
func paren(s string, lang hotline.Lang) string {
	if lang == hotline.LangEN {
		return " (" + s + ")"
	}
	return "（" + s + "）"
}

func kindWord(k hotline.EventKind, lang hotline.Lang) string {
	if lb := k.Label(); lb.ZH != "" {
		return lb.In(lang)
	}
	return strings.ReplaceAll(string(k), "_", " ")
}

func statusWord(s string, lang hotline.Lang) string {
	if st := hotline.Status(s); st.Valid() {
		return st.Label().In(lang)
	}
	return s
}

func severityWord(s string, lang hotline.Lang) string {
	if s == "" {
		s = string(hotline.SeverityUnassessed)
	}
	if sv := hotline.Severity(s); sv.Valid() {
		return sv.Label().In(lang)
	}
	return s
}

func categoryWord(s string, lang hotline.Lang) string {
	if c := hotline.Category(s); c.Valid() {
		return c.Label().In(lang)
	} else if s == "" {
		return hUncat.In(lang)
	}
	return s
}

func stepWord(s string, lang hotline.Lang) string {
	if st := hotline.Step(s); st.Valid() {
		return st.Label().In(lang)
	}
	return strings.ReplaceAll(s, "_", " ")
}

func channelWord(s string, lang hotline.Lang) string {
	if c := hotline.Channel(s); c.Valid() {
		return c.Label().In(lang)
	}
	return s
}

func deadlineWord(s string, lang hotline.Lang) string {
	if k := hotline.DeadlineKind(s); k.Valid() {
		return k.Label().In(lang)
	}
	return s
}
