package inboxweb

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// intakeMaxBytes bounds a form body: a photo plus text.
const intakeMaxBytes = 12 << 20

type intakeData struct {
	Roles   []hotline.ReporterRole
	Cats    []hotline.Category
	Sources []string
	Form    struct {
		Source, Role, Category, Text string
		Danger                       bool
		// Receipt: hand the reporter a receipt to come back with.
		Receipt bool
		// Submission and Page are the form's own random ids: posted again
		// (a refresh, a double click), it files no second case, and the
		// page gets the same receipt back (sealed to Page for a day).
		Submission, Page string
	}
}

// formID is a form's random id (see intakeData); anything else is none.
func formID(v string) string {
	if len(v) != 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return ""
	}
	return v
}

func newIntakeData() *intakeData {
	d := &intakeData{Roles: hotline.ReporterRoles, Cats: hotline.Categories, Sources: []string{"phone", "paper", "person"}}
	d.Form.Receipt = true // a caller should be able to come back for the answer
	d.Form.Submission, d.Form.Page = randomToken(), randomToken()
	return d
}

// receiptData is the page that shows a staff intake's receipt once: to
// read to the caller, and as a slip to print and hand over.
type receiptData struct {
	TipUID, Receipt      string
	Alias                hotline.Alias
	ChatURL, StatusURL   string
	SchoolName, SchoolEN string
}

func (s *Server) handleIntakeShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("intake"), "intake", newIntakeData()
	s.pages.Render(w, http.StatusOK, "intake", p)
}

// handleIntake records a report that came by phone, note or in person. It
// is sealed like any other; the source goes into an internal note.
func (s *Server) handleIntake(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	d := newIntakeData()
	d.Form.Source, d.Form.Role, d.Form.Category = r.FormValue("source"), r.FormValue("role"), r.FormValue("category")
	d.Form.Text, d.Form.Danger, d.Form.Receipt = r.FormValue("text"), r.FormValue("danger") == "1", r.FormValue("receipt") == "1"
	if sid, page := formID(r.FormValue("submission")), formID(r.FormValue("page")); sid != "" && page != "" {
		// Kept on a re-shown form, so that its next post is the same one.
		d.Form.Submission, d.Form.Page = sid, page
	}
	actor := rc.actor()
	sub := hotline.Submission{
		SchoolCode: rc.School.Code, Channel: hotline.ChannelStaff, Role: hotline.ReporterRole(d.Form.Role),
		Category: hotline.Category(d.Form.Category), Lang: rc.Lang, Texts: []string{d.Form.Text}, DangerNow: d.Form.Danger, Staff: &actor,
		IssueReceipt: d.Form.Receipt,
		// Per school and form: a refresh of the answer files nothing new.
		SubmissionID: "staff:" + rc.School.Code + ":" + d.Form.Submission, PageSecret: d.Form.Page,
	}
	photo, err := formPhoto(r, "photo")
	if err == nil && photo != nil {
		sub.Photos = []hotline.Photo{*photo}
	}
	var out *hotline.Submitted
	if err == nil {
		out, err = s.cfg.Intake.Submit(r.Context(), sub)
	}
	if err != nil {
		s.logErr(r, err)
		p := s.newPage(r, rc, rc.Lang)
		p.Title, p.Nav, p.Data, p.Error = p.T("intake"), "intake", d, hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "intake", p)
		return
	}
	if out.Repeated {
		// Posted before (a refresh, a double click): the case it filed,
		// and its receipt again for the page that holds its secret.
		if d.Form.Receipt {
			out.Receipt, err = s.cfg.Intake.ClaimReceipt(r.Context(), out.TipUID, d.Form.Page)
			if err != nil {
				s.logErr(r, err)
			}
		}
		if out.Receipt == "" {
			redirect(w, r, "/inbox/tips/"+out.TipUID)
			return
		}
	} else if slicesContains(d.Sources, d.Form.Source) {
		p := s.newPage(r, rc, rc.Lang)
		note := p.T("src_note") + p.T("src_"+d.Form.Source)
		if _, err := s.cfg.Triage.Note(r.Context(), actor, out.TipUID, note); err != nil {
			s.logErr(r, err)
		}
	}
	if out.Receipt == "" {
		redirect(w, r, "/inbox/tips/"+out.TipUID)
		return
	}
	// The receipt exists only in this response (the server keeps only its
	// MAC): shown now, or never.
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav = p.T("receipt_title"), "intake"
	if out.Repeated {
		p.Notice = p.T("intake_repeated")
	}
	p.Data = &receiptData{TipUID: out.TipUID, Receipt: out.Receipt, Alias: out.Alias,
		ChatURL: base + "/c/" + url.PathEscape(rc.School.Code), StatusURL: base + "/m/status",
		SchoolName: rc.School.Name, SchoolEN: rc.School.Settings.NameEN}
	s.pages.Render(w, http.StatusOK, "receipt", p)
}

func slicesContains(ss []string, v string) bool {
	for _, s := range ss {
		if s == v {
			return true
		}
	}
	return false
}

type counselorsData struct {
	Staff    []*hotline.Counselor
	Roles    []hotline.Role
	Added    *hotline.Counselor
	Password string
	Form     struct{ Username, DisplayName, Role string }
	// Rota is each staff member's duties and alert channels.
	Rota map[int64]staff.StaffAlert
}

func (s *Server) counselorsPage(r *http.Request, rc *reqCtx) (*page, *counselorsData, error) {
	counselors, err := s.cfg.Staff.Counselors(r.Context(), rc.actor())
	if err != nil {
		return nil, nil, err
	}
	p := s.newPage(r, rc, rc.Lang)
	rota, err := s.cfg.Staff.OnCallRota(r.Context(), rc.actor())
	if err != nil {
		return nil, nil, err
	}
	d := &counselorsData{Staff: counselors, Roles: []hotline.Role{hotline.RoleCounselor, hotline.RoleAdmin}, Rota: rota}
	p.Title, p.Nav, p.Data = p.T("counselors"), "counselors", d
	return p, d, nil
}

func (s *Server) handleCounselors(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, _, err := s.counselorsPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.pages.Render(w, http.StatusOK, "counselors", p)
}

// handleCounselorAdd adds a counselor and shows their one-time password
// once, in this response only.
func (s *Server) handleCounselorAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	c, pw, err := s.cfg.Staff.AddCounselor(r.Context(), rc.sess.ts, r.FormValue("username"), r.FormValue("display_name"), hotline.Role(r.FormValue("role")))
	p, d, perr := s.counselorsPage(r, rc)
	if perr != nil {
		s.fail(w, r, rc, perr)
		return
	}
	if err != nil {
		s.logErr(r, err)
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		d.Form.Username, d.Form.DisplayName, d.Form.Role = r.FormValue("username"), r.FormValue("display_name"), r.FormValue("role")
		s.pages.Render(w, hotline.HTTPStatus(err), "counselors", p)
		return
	}
	d.Added, d.Password = c, pw
	s.pages.Render(w, http.StatusOK, "counselors", p)
}

func (s *Server) handleCounselorDeactivate(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, rc, hotline.ErrNotFound)
		return
	}
	if err := s.cfg.Staff.Deactivate(r.Context(), rc.sess.ts, id); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	// Their open sessions ended with the deactivation, on every node.
	redirect(w, r, "/inbox/admin/counselors")
}

type settingsData struct {
	Code, Name, NameEN, Emergency, Origins string
	Hours                                  [4]string
	RequireTOTP                            bool
	Retention                              string
	// Groups are the school's group robots and webhook for alerts.
	Groups *targetsBlock
}

func settingsOf(school *hotline.School) settingsData {
	st := school.Settings
	d := settingsData{Code: school.Code, Name: school.Name, NameEN: st.NameEN, Emergency: st.EmergencyContact,
		Origins: strings.Join(st.AllowedOrigins, "\n"), RequireTOTP: st.RequireTOTP, Retention: strconv.Itoa(st.RetentionDays)}
	for i, v := range []hotline.Duration{st.Deadlines.AckUrgent, st.Deadlines.Ack, st.Deadlines.FirstReply, st.Deadlines.DistrictReport} {
		if v > 0 {
			d.Hours[i] = strconv.Itoa(int(v.D().Hours()))
		}
	}
	return d
}

func (s *Server) handleSettingsShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	d := settingsOf(rc.School)
	var err error
	if d.Groups, err = s.targetsBlock(r.Context(), rc, staff.ScopeSchool); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	targetNotice(p, r, d.Groups)
	p.Title, p.Nav, p.Data = p.T("settings"), "settings", d
	s.pages.Render(w, http.StatusOK, "settings", p)
}

// renderSettingsWith shows the settings page with an error about its
// group alerts (a refused robot, a failed test).
func (s *Server) renderSettingsWith(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error, form func(*targetsBlock)) {
	p := s.newPage(r, rc, rc.Lang)
	d := settingsOf(rc.School)
	var gerr error
	if d.Groups, gerr = s.targetsBlock(r.Context(), rc, staff.ScopeSchool); gerr != nil {
		s.fail(w, r, rc, gerr)
		return
	}
	if form != nil {
		form(d.Groups)
	}
	p.Title, p.Nav, p.Data, p.Error = p.T("settings"), "settings", d, hotline.ErrorMessage(err, rc.Lang)
	s.pages.Render(w, hotline.HTTPStatus(err), "settings", p)
}

func (s *Server) handleSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav = p.T("settings"), "settings"
	d := settingsData{Code: r.FormValue("code"), Name: r.FormValue("name"), NameEN: r.FormValue("name_en"), Emergency: r.FormValue("emergency"),
		Origins: r.FormValue("origins"), RequireTOTP: r.FormValue("require_totp") == "1", Retention: r.FormValue("retention")}
	u := staff.SettingsUpdate{Name: d.Name, NameEN: d.NameEN, Code: d.Code, EmergencyContact: d.Emergency,
		AllowedOrigins: strings.Split(strings.ReplaceAll(d.Origins, "\r", ""), "\n"), RequireTOTP: d.RequireTOTP}
	var bad bool
	num := func(v string) int {
		v = strings.TrimSpace(v)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			bad = true
		}
		return n
	}
	hours := []*int{&u.AckUrgentHours, &u.AckHours, &u.FirstReplyHours, &u.DistrictReportHours}
	for i, name := range []string{"hours_urgent", "hours_ack", "hours_reply", "hours_district"} {
		d.Hours[i] = r.FormValue(name)
		*hours[i] = num(d.Hours[i])
	}
	u.RetentionDays = num(d.Retention)
	var gerr error
	if d.Groups, gerr = s.targetsBlock(r.Context(), rc, staff.ScopeSchool); gerr != nil {
		s.fail(w, r, rc, gerr)
		return
	}
	p.Data = d
	if bad {
		p.Error = p.T("bad_number")
		s.pages.Render(w, http.StatusBadRequest, "settings", p)
		return
	}
	school, err := s.cfg.Staff.UpdateSettings(r.Context(), rc.sess.ts, u)
	if err != nil {
		s.logErr(r, err)
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "settings", p)
		return
	}
	saved := settingsOf(school)
	saved.Groups = d.Groups
	p.School, p.Data, p.Notice = school, saved, p.T("saved")
	s.pages.Render(w, http.StatusOK, "settings", p)
}
