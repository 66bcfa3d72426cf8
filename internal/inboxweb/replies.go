package inboxweb

import (
	"net/http"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/triage"
)

type repliesData struct {
	Saved []*store.SavedReply
	// Mine says which replies the user may change: their own, or all for
	// an admin; the others show read-only.
	Mine map[int64]bool
	Form struct{ Title, Lang, Body string }
}

func (s *Server) repliesPage(r *http.Request, rc *reqCtx) (*page, *repliesData, error) {
	saved, err := s.cfg.Triage.SavedReplies(r.Context(), rc.actor())
	if err != nil {
		return nil, nil, err
	}
	d := &repliesData{Saved: saved, Mine: map[int64]bool{}}
	for _, r := range saved {
		d.Mine[r.ID] = triage.MayChangeReply(rc.actor(), r)
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("replies"), "replies", d
	return p, d, nil
}

func (s *Server) handleReplies(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, _, err := s.repliesPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "replies", p)
}

// handleReplySave adds a saved reply (no id) or changes one (id); a mistake
// re-renders the page with what was typed.
func (s *Server) handleReplySave(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	var id int64
	if v := r.FormValue("id"); v != "" {
		var err error
		if id, err = strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
			s.fail(w, r, rc, hotline.ErrNotFound)
			return
		}
	}
	saved, err := s.cfg.Triage.SaveReply(r.Context(), rc.actor(), id, hotline.Lang(r.FormValue("lang")), r.FormValue("title"), r.FormValue("body"))
	if err == nil {
		redirect(w, r, "/inbox/replies#saved-"+strconv.FormatInt(saved.ID, 10))
		return
	}
	if code := hotline.ErrorCode(err); code != hotline.EINVALID && code != hotline.ECONFLICT && code != hotline.ETOOLARGE {
		s.fail(w, r, rc, err)
		return
	}
	p, d, perr := s.repliesPage(r, rc)
	if perr != nil {
		s.fail(w, r, rc, perr)
		return
	}
	p.Error = hotline.ErrorMessage(err, rc.Lang)
	if id == 0 {
		d.Form.Title, d.Form.Lang, d.Form.Body = r.FormValue("title"), r.FormValue("lang"), r.FormValue("body")
	}
	s.pages.Render(w, hotline.HTTPStatus(err), "replies", p)
}

func (s *Server) handleReplyDelete(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	if err := s.cfg.Triage.DeleteSavedReply(r.Context(), rc.actor(), id); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	redirect(w, r, "/inbox/replies")
}
