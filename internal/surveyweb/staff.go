package surveyweb

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/survey"
	"hotline/internal/web"
)

// Staff serves the survey pages of a school (under /inbox/surveys/) and of
// the district (under /district/surveys/).
type Staff struct {
	svc       *survey.Service
	auth      web.Auth
	log       *slog.Logger
	publicURL string
	mux       *http.ServeMux
	pages     *web.Pages
}

// staffCSP allows our own styles and data: images (QR codes) only.
const staffCSP = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// NewStaff parses the staff templates and registers the routes, behind
// auth, the inbox's log-in.
func NewStaff(svc *survey.Service, auth web.Auth, log *slog.Logger, publicURL string) (*Staff, error) {
	if log == nil {
		log = slog.Default()
	}
	h := &Staff{svc: svc, auth: auth, log: log, publicURL: strings.TrimRight(publicURL, "/"), mux: http.NewServeMux()}
	var err error
	h.pages, err = web.PageSet{Name: "surveyweb", FS: assets, Funcs: funcs, Logger: log,
		Common: []string{"templates/slayout.html", "templates/main.html"}, Pages: []string{"list", "survey", "sheet", "results", "serror"}}.Parse()
	if err != nil {
		return nil, err
	}
	for _, base := range []string{"/inbox/surveys", "/district/surveys"} {
		h.mux.Handle("GET "+base+"/{$}", h.guard(h.handleList))
		h.mux.Handle("POST "+base+"/{$}", h.guard(h.handleCreate))
		h.mux.Handle("GET "+base+"/{uid}", h.guard(h.handleSurvey))
		h.mux.Handle("POST "+base+"/{uid}/edit", h.guard(h.handleEdit))
		h.mux.Handle("POST "+base+"/{uid}/codes", h.guard(h.handleCodes))
		h.mux.Handle("GET "+base+"/{uid}/results", h.guard(h.handleResults))
		h.mux.Handle("GET "+base+"/{uid}/results.csv", h.guard(h.handleCSV))
		h.mux.Handle("POST "+base+"/{uid}/measures", h.guard(h.handleMeasure))
		h.mux.Handle("POST "+base+"/{uid}/measures/{m}/done", h.guard(h.handleMeasureDone))
		h.mux.Handle(base+"/", h.guard(func(w http.ResponseWriter, r *http.Request, sp *staffPage) {
			h.fail(w, r, sp, hotline.ErrNotFound)
		}))
	}
	return h, nil
}

// ServeHTTP serves the staff survey pages with the security headers.
func (h *Staff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.SetHeaders(w.Header(), staffCSP)
	h.mux.ServeHTTP(w, r)
}

type staffPage struct {
	Lang     hotline.Lang
	LangURL  string
	Title    string
	CSRF     string
	Me       *hotline.Counselor
	sess     *staff.Session
	Base     string // /inbox/surveys or /district/surveys
	Home     string // /inbox/ or /district/
	District bool
	Error    string
	Notice   string
	Now      time.Time
	Data     any
}

func (sp *staffPage) T(key string) string      { return staffTexts[key].In(sp.Lang) }
func (sp *staffPage) L(l hotline.Label) string { return l.In(sp.Lang) }
func (sp *staffPage) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(survey.Zone).Format("2006-01-02 15:04")
}
func (sp *staffPage) Day(t time.Time) string { return t.In(survey.Zone).Format("2006-01-02") }
func (sp *staffPage) Input(t time.Time) string {
	return t.In(survey.Zone).Format("2006-01-02T15:04")
}

// MayEdit reports whether the page's user may change sv: a school admin
// their school's own surveys, the district its own (survey.Service.Apply
// enforces the same).
func (sp *staffPage) MayEdit(sv *survey.Survey) bool {
	if sv.ByDistrict {
		return sp.District
	}
	return sp.Me.Role == hotline.RoleAdmin
}

func (sp *staffPage) IsAdmin() bool {
	return sp.Me.Role == hotline.RoleAdmin || sp.Me.Role == hotline.RoleDistrict
}

func (h *Staff) guard(fn func(http.ResponseWriter, *http.Request, *staffPage)) http.Handler {
	return web.Guard(h.auth, func(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
		sp := &staffPage{Me: sess.Counselor, sess: sess, CSRF: h.auth.CSRFToken(r), Now: h.svc.Now(), Lang: web.Lang(r)}
		sp.District = sess.Counselor.Role == hotline.RoleDistrict
		onDistrict := strings.HasPrefix(r.URL.Path, "/district/")
		if sp.District != onDistrict {
			// Each side has its own pages: send staff to theirs.
			if sp.District {
				http.Redirect(w, r, "/district/surveys/", http.StatusSeeOther)
			} else {
				http.Redirect(w, r, "/inbox/surveys/", http.StatusSeeOther)
			}
			return
		}
		sp.Base, sp.Home = "/inbox/surveys", "/inbox/"
		if sp.District {
			sp.Base, sp.Home = "/district/surveys", "/district/"
		}
		sp.LangURL = web.SwitchURL(r, sp.Lang, sp.Base+"/")
		fn(w, r, sp)
	})
}

func (h *Staff) fail(w http.ResponseWriter, r *http.Request, sp *staffPage, err error) {
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		h.log.Error("survey staff page", "route", r.Pattern, "err", err)
	}
	sp.Error = hotline.ErrorMessage(err, sp.Lang)
	sp.Title = sp.T("surveys")
	h.pages.Render(w, hotline.HTTPStatus(err), "serror", sp)
}

type listData struct {
	Surveys  []*survey.Survey
	Measures []*survey.SchoolMeasures
	Default  survey.NewSurvey
}

func (h *Staff) handleList(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	list, err := h.svc.List(r.Context(), sp.Me)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	d := &listData{Surveys: list, Default: defaultWindows(sp.Now)}
	if sp.District {
		// The district's copies are one per school: list each series once.
		seen := map[string]bool{}
		var one []*survey.Survey
		for _, s := range list {
			if !seen[s.Series] {
				seen[s.Series] = true
				one = append(one, s)
			}
		}
		d.Surveys = one
		if d.Measures, err = h.svc.DistrictMeasures(r.Context(), sp.Me); err != nil {
			h.fail(w, r, sp, err)
			return
		}
	}
	sp.Title, sp.Data = sp.T("surveys"), d
	h.pages.Render(w, http.StatusOK, "list", sp)
}

// defaultWindows proposes a baseline from tomorrow 08:00 for two weeks and
// a follow-up three months after it, for two weeks: a survey made today
// runs soon (the policy's March screening and June follow-up are three
// months apart too), rather than next March. Both can be changed.
func defaultWindows(now time.Time) survey.NewSurvey {
	d := now.In(survey.Zone)
	opens := time.Date(d.Year(), d.Month(), d.Day()+1, 8, 0, 0, 0, survey.Zone)
	closes := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day()+13, 18, 0, 0, 0, survey.Zone)
	}
	follow := opens.AddDate(0, 3, 0)
	return survey.NewSurvey{BaselineOpens: opens, BaselineCloses: closes(opens), FollowUpOpens: follow, FollowUpCloses: closes(follow)}
}

func parseLocal(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(s), survey.Zone)
	if err != nil {
		t, err = time.ParseInLocation("2006-01-02", strings.TrimSpace(s), survey.Zone)
	}
	if err != nil {
		return time.Time{}, hotline.Errorf(hotline.EINVALID, "日期时间格式不对（如 2026-03-01T08:00）。", "Bad date or time (e.g. 2026-03-01T08:00).")
	}
	return t.UTC(), nil
}

func (h *Staff) handleCreate(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	var in survey.NewSurvey
	in.Title = hotline.Label{ZH: strings.TrimSpace(r.FormValue("title_zh")), EN: strings.TrimSpace(r.FormValue("title_en"))}
	var err error
	for _, f := range []struct {
		name string
		t    *time.Time
	}{{"b_opens", &in.BaselineOpens}, {"b_closes", &in.BaselineCloses}, {"f_opens", &in.FollowUpOpens}, {"f_closes", &in.FollowUpCloses}} {
		if *f.t, err = parseLocal(r.FormValue(f.name)); err != nil {
			h.fail(w, r, sp, err)
			return
		}
	}
	made, err := h.svc.Create(r.Context(), sp.Me, in)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	http.Redirect(w, r, sp.Base+"/"+made[0].UID, http.StatusSeeOther)
}

func (h *Staff) handleSurvey(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	sv, err := h.svc.Get(r.Context(), sp.Me, r.PathValue("uid"))
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	sp.Title, sp.Data = sv.Title.In(sp.Lang), sv
	h.pages.Render(w, http.StatusOK, "survey", sp)
}

func (h *Staff) handleEdit(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	r.Body = http.MaxBytesReader(w, r.Body, 32<<10)
	uid := r.PathValue("uid")
	e := survey.Edit{Op: r.FormValue("op"), QuestionID: r.FormValue("q"), Kind: survey.Kind(r.FormValue("kind")),
		Text:      hotline.Label{ZH: r.FormValue("text_zh"), EN: r.FormValue("text_en")},
		Title:     hotline.Label{ZH: strings.TrimSpace(r.FormValue("title_zh")), EN: strings.TrimSpace(r.FormValue("title_en"))},
		OptionsZH: strings.Split(r.FormValue("options_zh"), "\n"), OptionsEN: strings.Split(r.FormValue("options_en"), "\n")}
	if e.Op == "wave" {
		e.Wave, _ = strconv.Atoi(r.FormValue("wave"))
		var err error
		if e.Opens, err = parseLocal(r.FormValue("opens")); err == nil {
			e.Closes, err = parseLocal(r.FormValue("closes"))
		}
		if err != nil {
			h.fail(w, r, sp, err)
			return
		}
	}
	if err := h.svc.Apply(r.Context(), sp.Me, uid, e); err != nil {
		h.fail(w, r, sp, err)
		return
	}
	http.Redirect(w, r, sp.Base+"/"+uid, http.StatusSeeOther)
}

// Slip is one cut-out of the code sheet.
type Slip struct {
	Code string
	URL  string
	QR   template.URL // a data: URL of the PNG
}

type sheetData struct {
	Survey *survey.Survey
	Wave   *survey.Wave
	Class  survey.Class
	School string
	Slips  []Slip
	Enter  string
}

// handleCodes makes a class's codes and shows them once, as a sheet to
// print and cut (HTML), or as a PNG or PDF file.
func (h *Staff) handleCodes(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	uid := r.PathValue("uid")
	c, err := survey.ParseClass(r.FormValue("grade"), r.FormValue("class"))
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	n, _ := strconv.Atoi(r.FormValue("n"))
	wave, _ := strconv.Atoi(r.FormValue("wave"))
	sv, err := h.svc.Get(r.Context(), sp.Me, uid)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	codes, err := h.svc.PrintCodes(r.Context(), sp.Me, uid, wave, c, n)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	d := &sheetData{Survey: sv, Wave: sv.Wave(wave), Class: c, Enter: h.publicURL + "/q/"}
	if sc, err := h.svc.DB.SchoolByID(r.Context(), sv.SchoolID); err == nil {
		d.School = sc.Name
	}
	for _, code := range codes {
		u := h.publicURL + "/q/" + code
		png, err := qrcode.Encode(u, qrcode.Medium, 256)
		if err != nil {
			h.fail(w, r, sp, err)
			return
		}
		d.Slips = append(d.Slips, Slip{Code: code, URL: u, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
	}
	switch r.FormValue("format") {
	case "png", "pdf":
		out, ctype, err := Sheet(d, r.FormValue("format"))
		if err != nil {
			h.fail(w, r, sp, err)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"survey-codes-%d.%s\"", wave, r.FormValue("format")))
		w.Write(out)
		return
	}
	sp.Title, sp.Data = sp.T("sheet"), d
	h.pages.Render(w, http.StatusOK, "sheet", sp)
}

func (h *Staff) handleMeasure(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	uid := r.PathValue("uid")
	due, err := parseLocal(r.FormValue("due"))
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	if _, err := h.svc.AddMeasure(r.Context(), sp.Me, uid, survey.NewMeasure{Finding: r.FormValue("finding"), What: r.FormValue("what"), Who: r.FormValue("who"), Due: due}); err != nil {
		h.fail(w, r, sp, err)
		return
	}
	http.Redirect(w, r, sp.Base+"/"+uid+"/results#measures", http.StatusSeeOther)
}

func (h *Staff) handleMeasureDone(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	if err := h.svc.DoneMeasure(r.Context(), sp.Me, r.PathValue("m")); err != nil {
		h.fail(w, r, sp, err)
		return
	}
	http.Redirect(w, r, sp.Base+"/"+r.PathValue("uid")+"/results#measures", http.StatusSeeOther)
}

func (h *Staff) results(r *http.Request, sp *staffPage) (*survey.Results, error) {
	return h.svc.Results(r.Context(), sp.Me, r.PathValue("uid"), sp.sess.Key)
}

// handleCSV exports the published waves' figures, as the pages show them;
// a wave still open (or not yet published) has one line saying when it
// will be.
func (h *Staff) handleCSV(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	res, err := h.results(r, sp)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // Excel opens UTF-8 with a BOM
	cw := csv.NewWriter(&buf)
	head := []string{sp.T("wave"), sp.T("level"), sp.T("unit"), sp.T("respondents")}
	for _, ind := range res.Indicators {
		head = append(head, ind.Label.In(sp.Lang))
	}
	cw.Write(head)
	for _, wr := range res.Waves {
		if !wr.Published {
			cw.Write([]string{wr.Wave.Name.In(sp.Lang), "", "", fmt.Sprintf(sp.T("not_published"), sp.Date(wr.Wave.PublishedAt()))})
			continue
		}
		wr.Root.Walk(func(u *survey.Unit, _ int) {
			row := []string{wr.Wave.Name.In(sp.Lang), sp.T(u.Level), safeCell(u.Name), countString(u.N)}
			for _, ind := range res.Indicators {
				row = append(row, u.Cells[ind.Key].String())
			}
			cw.Write(row)
		})
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename=\"survey-results.csv\"")
	w.Write(buf.Bytes())
}

// safeCell keeps a spreadsheet from reading a cell as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func countString(c *survey.Cell) string {
	if c.Hidden {
		return survey.HiddenMark
	}
	return strconv.Itoa(c.K)
}
