package districtweb

import (
	"net/http"

	"hotline/internal/evidence"
	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// evidencePage is the export form of an escalated case.
type evidencePage struct {
	*page
	Tip     *hotline.Tip
	Reasons []hotline.ExportReason
	Form    evidence.Request
	Max     int
}

func (h *Handler) renderEvidence(w http.ResponseWriter, r *http.Request, sess *staff.Session, form evidence.Request, status int, err error) {
	tip, terr := h.cfg.Triage.Tip(r.Context(), sess.Actor(), r.PathValue("uid"))
	if terr != nil {
		h.fail(w, r, terr, http.StatusNotFound)
		return
	}
	p := &evidencePage{page: h.newPage(r, sess, "ev_title"), Tip: tip, Reasons: hotline.ExportReasons, Form: form, Max: evidence.MaxReference}
	p.Title += " · " + tip.Alias.In(p.Lang)
	if err != nil {
		p.Error = hotline.ErrorMessage(err, p.Lang)
	}
	h.pages.Render(w, status, "evidence", p)
}

// handleEvidenceShow shows the export form of an escalated case of the
// officer's district; any other case is not found, as for a guess.
func (h *Handler) handleEvidenceShow(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Evidence == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	h.renderEvidence(w, r, sess, evidence.Request{}, http.StatusOK, nil)
}

// handleEvidence exports an escalated case's evidence bundle, opened with
// the officer's district key; recorded before the first byte is sent.
func (h *Handler) handleEvidence(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	if h.cfg.Evidence == nil {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
		return
	}
	req := evidence.Request{Reason: hotline.ExportReason(r.FormValue("reason")), Reference: r.FormValue("reference"), IncludeNotes: r.FormValue("notes") == "1"}
	if r.FormValue("confirm") != "1" {
		h.renderEvidence(w, r, sess, req, http.StatusBadRequest, errEvidenceConfirm)
		return
	}
	x, err := h.cfg.Evidence.Prepare(r.Context(), sess, r.PathValue("uid"), req)
	switch hotline.ErrorCode(err) {
	case "":
	case hotline.EINVALID:
		h.renderEvidence(w, r, sess, req, http.StatusBadRequest, err)
		return
	case hotline.ECONFLICT:
		// The case kept changing: the form again, filled in, to retry.
		h.renderEvidence(w, r, sess, req, http.StatusConflict, err)
		return
	case hotline.ENOTFOUND:
		h.fail(w, r, err, http.StatusNotFound)
		return
	default:
		h.fail(w, r, err, 0)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+x.Filename()+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := x.WriteTo(r.Context(), w); err != nil {
		h.cfg.Logger.Error("evidence bundle not written", "bundle", x.ID(), "err", err)
	}
}

var errEvidenceConfirm = hotline.Errorf(hotline.EINVALID, "请勾选确认：导出由你决定，并会记入台账和审计记录。", "Tick the confirmation: the export is your decision, and it is recorded in the ledger and the audit trail.")

// evidenceLabels are the export page's words.
var evidenceLabels = map[string]hotline.Label{
	"ev_title":     {ZH: "导出证据包", EN: "Export the evidence bundle"},
	"ev_link":      {ZH: "导出证据包（交给公安机关、法院或听证）", EN: "Export the evidence bundle (for the police, a court or a hearing)"},
	"ev_intro":     {ZH: "证据包是一个 zip 文件：案件记录的 PDF（中文在前）和同样内容的 JSON、对话中的照片、本案的台账记录及其哈希链。任何人都可以离线用 hotline ledger verify-bundle 核对它没有被改动过。", EN: "The evidence bundle is one zip file: the case as a PDF (Chinese first) and the same as JSON, the thread's photos, and the case's ledger events with their hash chain. Anyone can check offline, with hotline ledger verify-bundle, that nothing in it was changed."},
	"ev_never":     {ZH: "它不包含报告人的回执码、聊天账号或任何能识别报告人的信息：报告人只以化名出现。但对话内容就是学生自己的话：只有在确有必要时才交出。", EN: "It holds no receipt, chat id or anything that identifies the reporter, who appears only as the alias. But the thread is the pupil's own words: hand it over only when it must be."},
	"ev_recorded":  {ZH: "导出人、时间、原因和说明会记入审计记录（学校也能看到）；导出本身（不含说明）会记入本案台账。", EN: "Who exported it, when, why and the reference go into the audit trail (the school sees it too); the export itself (without the reference) goes into the case's ledger."},
	"ev_reason":    {ZH: "导出原因", EN: "Why"},
	"ev_reference": {ZH: "说明（文书编号、调取单位；不要写学生姓名或案情）", EN: "Reference (the document's number, who asked; no pupils' names, nothing of what happened)"},
	"ev_notes":     {ZH: "包括内部备注（如区教育局副本中有）", EN: "Include the internal notes (if the district's copy has them)"},
	"ev_confirm":   {ZH: "我确认：这个案件的记录因以上原因交出，由我决定。", EN: "I confirm: this case's record leaves for the reason above, by my decision."},
	"ev_button":    {ZH: "导出证据包", EN: "Export the bundle"},
	"ev_choose":    {ZH: "请选择", EN: "Choose"},
	"ev_verify":    {ZH: "核对方法：hotline ledger verify-bundle 文件名 —— 在任何电脑上，无需数据库或密钥。", EN: "To check it: hotline ledger verify-bundle FILE — on any computer, without the database or a key."},
	"ev_back":      {ZH: "返回案件", EN: "Back to the case"},
}

func init() {
	for k, v := range evidenceLabels {
		labels[k] = v
	}
}
