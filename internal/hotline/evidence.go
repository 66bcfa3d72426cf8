package hotline

// ExportReason is why a person exported a case's evidence bundle (证据包):
// a pupil's words leave the school only when someone decides so, and says
// why. The reason goes into the bundle, the audit trail and (as this word
// only) the ledger.
type ExportReason string

// Export reasons.
const (
	ExportPolice   ExportReason = "police"   // 报告公安机关: the case goes to the police
	ExportJustice  ExportReason = "justice"  // 法院、检察院调取: a court or procuratorate asked for it
	ExportHearing  ExportReason = "hearing"  // 听证、申诉、复核: a hearing, an appeal or a review
	ExportDistrict ExportReason = "district" // 上级调阅: the education authority asked for it
	ExportOther    ExportReason = "other"    // 其他: said in the reference
)

// ExportReasons lists the reasons in the order forms show them.
var ExportReasons = []ExportReason{ExportPolice, ExportJustice, ExportHearing, ExportDistrict, ExportOther}

var exportReasonLabels = map[ExportReason]Label{
	ExportPolice:   {"报告公安机关", "Referred to the police"},
	ExportJustice:  {"法院或检察院调取", "Requested by a court or procuratorate"},
	ExportHearing:  {"听证、申诉或复核", "A hearing, appeal or review"},
	ExportDistrict: {"教育行政部门调阅", "Requested by the education authority"},
	ExportOther:    {"其他（见说明）", "Other (see the reference)"},
}

// Valid reports whether r is one of the reasons.
func (r ExportReason) Valid() bool { _, ok := exportReasonLabels[r]; return ok }

// Label names the reason in both languages.
func (r ExportReason) Label() Label { return exportReasonLabels[r] }
