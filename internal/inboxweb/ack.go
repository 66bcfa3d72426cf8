package inboxweb

import (
	"net/http"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/triage"
)

// ackData is the page of an alert's one-time link: what the link is for
// (a case's "我来处理 / I'm on it", or a test's confirmation), and after the
// button, what happened.
type ackData struct {
	Token  string
	Info   *triage.AlertLink
	Done   *triage.LinkAck // the case was acknowledged (or the district took it)
	Tested bool            // a test was confirmed
}

// handleAckShow shows an alert link's page. It never changes anything: the
// link previewers of WeCom and DingTalk fetch every link in a message, and
// a fetch must not acknowledge a case nobody has read. The button POSTs.
func (s *Server) handleAckShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	token := r.PathValue("token")
	info, err := s.cfg.Triage.LinkInfo(r.Context(), s.cfg.Staff, token)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Data = p.T("ack_title"), &ackData{Token: token, Info: info}
	if info.Purpose == store.TokenTest {
		p.Title = p.T("ack_test_title")
	}
	w.Header().Set("X-Robots-Tag", "noindex")
	s.pages.Render(w, http.StatusOK, "ack", p)
}

// handleAck presses the link's button: it acknowledges the case (or
// confirms the test) once. A used, expired or refused link changes
// nothing and says why.
func (s *Server) handleAck(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	token := r.PathValue("token")
	tok, err := s.cfg.Staff.LookupAlertToken(r.Context(), token)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p := s.newPage(r, rc, rc.Lang)
	d := &ackData{Token: token}
	p.Title, p.Data = p.T("ack_title"), d
	if tok.Purpose == store.TokenTest {
		if _, err := s.cfg.Staff.ConfirmTest(r.Context(), token); err != nil {
			s.fail(w, r, rc, err)
			return
		}
		p.Title, d.Tested = p.T("ack_test_title"), true
		s.pages.Render(w, http.StatusOK, "ack", p)
		return
	}
	done, err := s.cfg.Triage.AcknowledgeByLink(r.Context(), s.cfg.Staff, token)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	d.Done = done
	s.pages.Render(w, http.StatusOK, "ack", p)
}

// SchoolName says a school's name in the page's language.
func (p *page) SchoolName(s *hotline.School) string {
	if s == nil {
		return ""
	}
	return s.DisplayName(p.Lang)
}
