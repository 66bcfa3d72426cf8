package inboxweb

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"hotline/internal/chart"
	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/staff"
)

type statsData struct {
	Stats    *district.Stats
	Charts   []template.HTML
	Cases    []*district.CaseRow
	From, To string
}

// handleStats shows the school its own figures — reports per week, by
// category, severity and channel, time to acknowledge, to first reply and
// to resolve, overdue and missed deadlines — computed and drawn by the same
// code as the district's page of this school (district.Service.School,
// internal/chart), so the two never disagree.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.cfg.District == nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	now := s.clock.Now()
	v, err := s.cfg.District.School(r.Context(), rc.School.District, rc.School.Code, now)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	d := &statsData{Stats: v.Stats, Cases: v.Cases,
		From: now.In(district.Zone).AddDate(0, -1, 0).Format("2006-01-02"), To: now.In(district.Zone).Format("2006-01-02")}
	for _, c := range chart.School(v.Stats, rc.Lang) {
		svg, err := chart.SVG(c)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		d.Charts = append(d.Charts, svg)
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("stats"), "stats", d
	s.pages.Render(w, http.StatusOK, "stats", p)
}

// handleStatsCSV serves the school's summary report (工作总结) as CSV: the
// district's report, filtered to this school. The download is audited.
func (s *Server) handleStatsCSV(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if s.cfg.District == nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	f := district.ReportFilter{District: rc.School.District, SchoolCode: rc.School.Code}
	var err error
	for _, p := range []struct {
		field string
		to    *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := r.URL.Query().Get(p.field); v != "" {
			if *p.to, err = district.ParseDate(v); err != nil {
				s.fail(w, r, rc, err)
				return
			}
		}
	}
	rep, err := s.cfg.District.Report(r.Context(), f)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if err := s.cfg.District.RecordExport(r.Context(), rc.Me, rc.School.District, rc.School.ID, staff.ClientOf(r.Context()), f.Describe("summary.csv")); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(f.Filename(s.clock.Now())))
	if err := rep.WriteCSV(w); err != nil {
		s.logErr(r, err)
	}
}
