package districtweb

import (
	"net/http"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// detectorPage shows counselors' feedback on the urgency detector: per
// reason of a flag, how many tips it flagged, how many flags counselors
// cleared as wrong, and how many tips they marked urgent that nobody
// flagged. Labels and counts only, never text.
type detectorPage struct {
	*page
	Detector *district.Detector
}

// detectorLabels are the detector page's texts, zh-CN first; page.T
// reads them after labels.
var detectorLabels = map[string]hotline.Label{
	"detector":               {ZH: "紧急识别的准确性", EN: "Urgency detector feedback"},
	"detector_intro":         {ZH: "系统在报告里识别出「现在有危险」时，会把报告标为紧急，立即提醒学校值班老师。老师取消了紧急标记，记为「误报」；老师把系统没有标出的报告标为紧急，记为「漏报」。这里只统计类别和数量，不包含任何报告内容，也不分学校，所以数字如实显示。", EN: "When the system reads \"danger now\" in a report, it flags the report urgent and pages the school's on-call staff at once. A flag a counselor clears counts as a false alarm; a report the system did not flag that a counselor marks urgent counts as a miss. Only categories and counts are kept — no content, no school — so the numbers are shown exactly."},
	"reason":                 {ZH: "识别类别", EN: "Reason"},
	"flagged":                {ZH: "标为紧急", EN: "Flagged"},
	"wrong":                  {ZH: "老师判为误报", EN: "Cleared as wrong"},
	"wrong_share":            {ZH: "误报比例", EN: "Share wrong"},
	"missed_flags":           {ZH: "漏报（老师补标）", EN: "Missed (marked by a counselor)"},
	"by_month":               {ZH: "按月", EN: "By month"},
	"month":                  {ZH: "月份", EN: "Month"},
	"no_feedback":            {ZH: "还没有紧急标记。", EN: "No urgency flags yet."},
	"all_time":               {ZH: "开始统计以来", EN: "Since counting began"},
	"reason_self-harm":       {ZH: "自伤、轻生", EN: "Self-harm"},
	"reason_weapon":          {ZH: "凶器", EN: "Weapon"},
	"reason_sexual":          {ZH: "性侵害、胁迫", EN: "Sexual coercion"},
	"reason_violence-now":    {ZH: "正在发生的暴力", EN: "Violence now"},
	"reason_threat":          {ZH: "威胁", EN: "Threat"},
	"reason_reporter":        {ZH: "报告人自己说有危险（系统未识别）", EN: "The reporter said so (the detector did not)"},
	"reason_":                {ZH: "系统未标出", EN: "Not flagged"},
	"reason_model":           {ZH: "统计模型识别（未归类）", EN: "The statistical model (no category)"},
	"reason_asked":           {ZH: "系统不确定时追问，报告人回答有危险", EN: "Asked when the detector was unsure; the reporter said yes"},
	"safety":                 {ZH: "系统不确定时的安全提问", EN: "The safety question, asked when the detector is unsure"},
	"safety_intro":           {ZH: "系统不确定报告里是否有「现在有危险」时，会马上直接问报告人：现在有危险吗，有没有在想伤害自己？回答「是」的报告按紧急处理；5 分钟内没有回答的，在学校收件箱里标为「可能紧急」，已选学校的草稿会自动发给学校。每次提问只有一个结果：有危险、没有、没有回答，或回答前报告已转为紧急。这里只统计次数。", EN: "When the detector is unsure whether a report means danger now, it asks the reporter at once: are you in danger, or thinking of hurting yourself? Reports answered \"yes\" take the urgent path; those not answered within 5 minutes are marked \"possibly urgent\" in the school's inbox, and a draft whose school is known is sent to the school by itself. Each question has one outcome: yes, no, no answer, or urgent before an answer. Counts only."},
	"asked":                  {ZH: "提问次数", EN: "Asked"},
	"answered_yes":           {ZH: "回答有危险", EN: "Answered yes"},
	"answered_no":            {ZH: "回答没有", EN: "Answered no"},
	"no_answer":              {ZH: "没有回答", EN: "No answer"},
	"overtaken":              {ZH: "回答前已转为紧急", EN: "Urgent before an answer"},
	"safety_no_school":       {ZH: "还没选学校就删掉的草稿（全热线，不分区）", EN: "Drafts deleted before a school was chosen (whole hotline, no district)"},
	"safety_no_school_intro": {ZH: "报告人还没选学校时就被提问、随后草稿被取消或过期删除的，无法归到任何区，在这里合计。", EN: "Questions asked on drafts that were cancelled or expired before a school was chosen belong to no district; they are totalled here."},
}

// Reason names a reason of a flag in the page's language.
func (p *detectorPage) Reason(reason string) string {
	if l, ok := detectorLabels["reason_"+reason]; ok {
		return l.In(p.Lang)
	}
	return reason
}

func (h *Handler) handleDetector(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	p := &detectorPage{page: h.newPage(r, sess, "detector")}
	d, err := h.cfg.District.Detector(r.Context(), sess.Counselor.District)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.Detector = d
	h.pages.Render(w, http.StatusOK, "detector", p)
}
