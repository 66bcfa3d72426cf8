package inboxweb

import (
	"net/http"

	"hotline/internal/evidence"
	"hotline/internal/hotline"
)

// evidenceData is the export form of a case.
type evidenceData struct {
	Tip     *hotline.Tip
	Reasons []hotline.ExportReason
	Form    evidence.Request
	Max     int
}

// evidencePage shows the export form; a mistake re-renders it with the
// message.
func (s *Server) evidencePage(w http.ResponseWriter, r *http.Request, rc *reqCtx, form evidence.Request, status int, err error) {
	tip, terr := s.cfg.Triage.Tip(r.Context(), rc.actor(), r.PathValue("uid"))
	if terr != nil {
		s.fail(w, r, rc, terr)
		return
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.TipUID = p.T("ev_title")+" · "+tip.Alias.In(rc.Lang), "queue", tip.UID
	p.Data = &evidenceData{Tip: tip, Reasons: hotline.ExportReasons, Form: form, Max: evidence.MaxReference}
	if err != nil {
		p.Error = hotline.ErrorMessage(err, rc.Lang)
	}
	s.pages.Render(w, status, "evidence", p)
}

func (s *Server) handleEvidenceShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.cfg.Evidence == nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	s.evidencePage(w, r, rc, evidence.Request{}, http.StatusOK, nil)
}

// handleEvidence exports the case's evidence bundle as a zip download. The
// export is recorded (ledger, audit trail) before the first byte is sent.
func (s *Server) handleEvidence(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.cfg.Evidence == nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	req := evidence.Request{Reason: hotline.ExportReason(r.FormValue("reason")), Reference: r.FormValue("reference"), IncludeNotes: r.FormValue("notes") == "1"}
	if r.FormValue("confirm") != "1" {
		s.evidencePage(w, r, rc, req, http.StatusBadRequest, errEvidenceConfirm)
		return
	}
	x, err := s.cfg.Evidence.Prepare(r.Context(), rc.sess.ts, r.PathValue("uid"), req)
	switch hotline.ErrorCode(err) {
	case hotline.EINVALID:
		s.evidencePage(w, r, rc, req, http.StatusBadRequest, err)
		return
	case hotline.ECONFLICT:
		// The case kept changing: the form again, filled in, to retry.
		s.evidencePage(w, r, rc, req, http.StatusConflict, err)
		return
	}
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+x.Filename()+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := x.WriteTo(r.Context(), w); err != nil {
		s.log.Error("evidence bundle not written", "bundle", x.ID(), "err", err)
	}
}

var errEvidenceConfirm = hotline.Errorf(hotline.EINVALID, "请勾选确认：导出由你决定，并会记入台账和审计记录。", "Tick the confirmation: the export is your decision, and it is recorded in the ledger and the audit trail.")

// evidenceTexts are the export page's words, zh-CN first.
var evidenceTexts = map[string][2]string{
	"ev_title":     {"导出证据包", "Export the evidence bundle"},
	"ev_link":      {"导出证据包（交给公安机关、法院或听证）", "Export the evidence bundle (for the police, a court or a hearing)"},
	"ev_intro":     {"证据包是一个 zip 文件：案件记录的 PDF（中文在前）和同样内容的 JSON、对话中的照片、本案的台账记录及其哈希链。任何人都可以离线用 hotline ledger verify-bundle 核对它没有被改动过。", "The evidence bundle is one zip file: the case as a PDF (Chinese first) and the same as JSON, the thread's photos, and the case's ledger events with their hash chain. Anyone can check offline, with hotline ledger verify-bundle, that nothing in it was changed."},
	"ev_never":     {"它不包含报告人的回执码、聊天账号或任何能识别报告人的信息：报告人只以化名出现。但对话内容就是学生自己的话：只有在确有必要时才交出。", "It holds no receipt, chat id or anything that identifies the reporter, who appears only as the alias. But the thread is the pupil's own words: hand it over only when it must be."},
	"ev_recorded":  {"导出人、时间、原因和说明会记入审计记录；导出本身（不含说明）会记入本案台账。", "Who exported it, when, why and the reference go into the audit trail; the export itself (without the reference) goes into the case's ledger."},
	"ev_reason":    {"导出原因", "Why"},
	"ev_reference": {"说明（文书编号、调取单位；不要写学生姓名或案情）", "Reference (the document's number, who asked; no pupils' names, nothing of what happened)"},
	"ev_notes":     {"包括内部备注（报告人看不到的老师备注）", "Include the internal notes (the staff's notes the reporter never sees)"},
	"ev_confirm":   {"我确认：这个案件的记录因以上原因交出，由我决定。", "I confirm: this case's record leaves the school for the reason above, by my decision."},
	"ev_button":    {"导出证据包", "Export the bundle"},
	"ev_choose":    {"请选择", "Choose"},
	"ev_verify":    {"核对方法：hotline ledger verify-bundle 文件名 —— 在任何电脑上，无需数据库或密钥。", "To check it: hotline ledger verify-bundle FILE — on any computer, without the database or a key."},
	"ev_back":      {"返回案件", "Back to the case"},
}

func init() {
	for k, v := range evidenceTexts {
		texts[k] = v
	}
}
