package inboxweb

import (
	"net/http"
	"strconv"

	"hotline/internal/hotline"
)

type auditData struct {
	Entries []*hotline.AuditEntry
	Kinds   []hotline.AuditKind
	Kind    hotline.AuditKind
	Older   string // the next page's URL, "" at the end
}

// handleAudit shows a school admin the audit trail of their school: who
// logged in (and who failed to), recovered the key, changed a password,
// opened which case (district officers included), exported what.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	q := r.URL.Query()
	d := &auditData{Kinds: hotline.AuditKinds, Kind: hotline.AuditKind(q.Get("kind"))}
	if d.Kind != "" && d.Kind.Label().ZH == string(d.Kind) {
		s.fail(w, r, rc, hotline.Errorf(hotline.EINVALID, "记录类型无效。", "Invalid entry kind."))
		return
	}
	var before int64
	if v := q.Get("before"); v != "" {
		var err error
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			s.fail(w, r, rc, hotline.Errorf(hotline.EINVALID, "分页参数无效。", "Invalid page position."))
			return
		}
	}
	entries, err := s.cfg.Staff.SchoolAudit(r.Context(), rc.sess.ts, d.Kind, before)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	d.Entries = entries
	if len(entries) == 100 {
		d.Older = "/inbox/admin/audit?kind=" + string(d.Kind) + "&before=" + strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("audit"), "audit", d
	s.pages.Render(w, http.StatusOK, "audit", p)
}
