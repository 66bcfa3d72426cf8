// Package districtweb is the district education bureau's (区教育局) web UI
// under /district/: the overview (statistics, cases to watch, charts, the
// ledger's state), a school's page, an escalated case, the deadlines and
// alert settings, the detector's feedback, the audit trail, and the
// summary report as CSV. It is a UI over internal/district, the bureau's
// service, and never the service itself: it asks the district service for
// what it shows and triage for escalated threads, and never queries the
// store. It imports no other UI package: the log-in, the headers and the
// templates' scaffolding are internal/web's, the charts internal/chart's.
//
// It shows metadata only, with counts of 1 to 4 that could single out a
// reporter as "<5" and a school's overdue, missed, unassessed and
// escalated counts exactly.
package districtweb

import (
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"hotline/internal/chart"
	"hotline/internal/district"
	"hotline/internal/evidence"
	"hotline/internal/history"
	"hotline/internal/hotline"
	"hotline/internal/platform"
	"hotline/internal/staff"
	"hotline/internal/triage"
	"hotline/internal/web"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Config is what the district pages need.
type Config struct {
	// District answers every question of the pages but the escalated
	// threads, which Triage opens with the officer's key.
	District *district.Service
	Triage   *triage.Service
	// Auth is the staff log-in (the inbox's): district officers log in at
	// /inbox/login and are sent to /district/.
	Auth   web.Auth
	Logger *slog.Logger
	// Staff reports whether each school's urgent alerts reach someone,
	// and keeps the district's duty officers and group robots (nil: the
	// pages leave alerts out); Alerts sends their test alerts (nil: none).
	Staff  *staff.Service
	Alerts web.AlertTester
	// Evidence exports an escalated case's evidence bundle (nil: no
	// export).
	Evidence *evidence.Service
	// Platform is the district's own platform: webhooks and statistics
	// tokens (nil: the settings leave it out).
	Platform *platform.Service
	// PublicURL is the server's address, for the hand-over links an
	// officer gives a school's admin (empty: links relative to the page).
	PublicURL string
}

// Handler serves the district officers' pages under /district/.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages *web.Pages
}

// New parses the embedded templates (a broken template fails the start)
// and registers the routes.
func New(cfg Config) (*Handler, error) {
	if cfg.District == nil || cfg.Triage == nil || cfg.Auth == nil {
		return nil, fmt.Errorf("districtweb: District, Triage and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	var err error
	h.pages, err = web.PageSet{Name: "districtweb", FS: assets, Funcs: funcs, Logger: cfg.Logger,
		Common: []string{"templates/layout.html", "templates/cases.html"},
		Pages:  []string{"overview", "school", "tip", "settings", "error", "detector", "audit", "evidence", "heads", "headprint", "rollout", "rolloutschool"}}.Parse()
	if err != nil {
		return nil, err
	}
	static, err := web.Static("/district/static/", assets, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /district/static/", static)
	guard := func(fn func(http.ResponseWriter, *http.Request, *staff.Session)) http.Handler {
		return web.Guard(cfg.Auth, func(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
			if sess.Counselor.Role != hotline.RoleDistrict {
				// School staff have their inbox; the district pages are not theirs.
				h.fail(w, r, hotline.ErrForbidden, http.StatusForbidden)
				return
			}
			fn(w, r, sess)
		})
	}
	h.mux.Handle("GET /district/{$}", guard(h.handleOverview))
	h.mux.Handle("GET /district/schools/{code}", guard(h.handleSchool))
	h.mux.Handle("GET /district/tips/{uid}", guard(h.handleTip))
	h.mux.Handle("GET /district/photos/{uid}", guard(h.handlePhoto))
	h.mux.Handle("GET /district/tips/{uid}/evidence", guard(h.handleEvidenceShow))
	h.mux.Handle("POST /district/tips/{uid}/evidence", guard(h.handleEvidence))
	h.mux.Handle("GET /district/report.csv", guard(h.handleReport))
	h.mux.Handle("GET /district/settings", guard(h.handleSettings))
	h.mux.Handle("POST /district/settings", guard(h.handleSettingsSave))
	h.mux.Handle("POST /district/settings/ladder", guard(h.handleLadderMinutes))
	h.mux.Handle("POST /district/officers/{id}/duty", guard(h.handleDuty))
	h.mux.Handle("POST /district/groups", guard(h.handleGroupAdd))
	h.mux.Handle("POST /district/groups/{id}/test", guard(h.handleGroupTest))
	h.mux.Handle("POST /district/groups/{id}/delete", guard(h.handleGroupDelete))
	h.mux.Handle("POST /district/platform/endpoints", guard(h.handleEndpointAdd))
	h.mux.Handle("POST /district/platform/endpoints/{id}/test", guard(h.handleEndpointTest))
	h.mux.Handle("POST /district/platform/endpoints/{id}/delete", guard(h.handleEndpointDelete))
	h.mux.Handle("POST /district/platform/tokens", guard(h.handleTokenCreate))
	h.mux.Handle("POST /district/platform/tokens/{id}/revoke", guard(h.handleTokenRevoke))
	h.mux.Handle("GET /district/ledger/heads", guard(h.handleHeads))
	h.mux.Handle("GET /district/ledger/heads/{day}", guard(h.handleHeadPrint))
	h.mux.Handle("GET /district/detector", guard(h.handleDetector))
	h.mux.Handle("GET /district/audit", guard(h.handleAudit))
	h.mux.Handle("GET /district/rollout", guard(h.handleRollout))
	h.mux.Handle("GET /district/rollout.csv", guard(h.handleRolloutCSV))
	h.mux.Handle("POST /district/rollout/schools", guard(h.handleSchoolAdd))
	h.mux.Handle("GET /district/rollout/{code}", guard(h.handleRolloutSchool))
	h.mux.Handle("POST /district/rollout/{code}/handover", guard(h.handleHandoverNew))
	h.mux.Handle("POST /district/rollout/{code}/withdraw", guard(h.handleWithdraw))
	h.mux.Handle("POST /district/rollout/{code}/admins/{id}/deactivate", guard(h.handleAdminDeactivate))
	h.mux.Handle("/district/", guard(func(w http.ResponseWriter, r *http.Request, _ *staff.Session) {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
	}))
	return h, nil
}

// ServeHTTP serves /district/ with the security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.SetHeaders(w.Header(), web.CSP)
	r = r.WithContext(staff.WithClient(r.Context(), staff.CoarseClient(r.UserAgent())))
	h.mux.ServeHTTP(w, r)
}

var funcs = template.FuncMap{
	"svg":     chart.SVG,
	"n":       district.Suppress,
	"exact":   district.Exact,
	"hexhead": func(b []byte) string { return hex.EncodeToString(b) },
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(district.Zone).Format("2006-01-02 15:04")
	},
}

// page is what every template gets.
type page struct {
	Lang     hotline.Lang
	Title    string
	Officer  *hotline.Counselor
	District string
	CSRF     string
	LangURL  string
	Error    string
	Now      time.Time
}

// T returns a label in the page's language.
func (p *page) T(key string) string {
	l, ok := labels[key]
	if !ok {
		l, ok = detectorLabels[key]
	}
	if !ok {
		l, ok = rolloutLabels[key]
	}
	if !ok {
		return key
	}
	return l.In(p.Lang)
}

// L returns a domain label in the page's language.
func (p *page) L(l hotline.Label) string { return l.In(p.Lang) }

func (h *Handler) newPage(r *http.Request, sess *staff.Session, title string) *page {
	lang := web.Lang(r)
	p := &page{Lang: lang, CSRF: h.cfg.Auth.CSRFToken(r), LangURL: web.SwitchURL(r, lang, "/district/"), Now: h.cfg.District.Now()}
	if sess != nil {
		p.Officer, p.District = sess.Counselor, sess.Counselor.District
	}
	p.Title = p.T(title)
	return p
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		h.cfg.Logger.Error("district request failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	p := h.newPage(r, nil, "error")
	p.Error = hotline.ErrorMessage(err, p.Lang)
	h.pages.Render(w, status, "error", p)
}

type overviewPage struct {
	*page
	Schools  []*district.Stats
	Total    *district.Stats
	Trend    *chart.BarChart
	Category *chart.BarChart
	Severity *chart.BarChart
	Cases    []*district.CaseRow
	Ledger   *district.LedgerState
	From, To string
	// Reach says, per school, whether urgent alerts reach someone now,
	// the rota's holes and the alerts that failed.
	Reach []*staff.Readiness
}

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	p := &overviewPage{page: h.newPage(r, sess, "overview")}
	o, err := h.cfg.District.Overview(r.Context(), sess.Counselor.District, p.Now)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.Schools, p.Total, p.Cases, p.Ledger = o.Schools, o.Total, o.Cases, o.Ledger
	if h.cfg.Staff != nil {
		if p.Reach, err = h.cfg.Staff.DistrictReadiness(r.Context(), sess.Counselor.District, p.Now); err != nil {
			h.fail(w, r, err, 0)
			return
		}
	}
	p.Trend = chart.Weeks(p.Total.ByWeek, p.Lang)
	p.Category = chart.Categories(p.Total, p.Lang)
	p.Severity = chart.Severities(p.Total, p.Lang)
	p.From = p.Now.In(district.Zone).AddDate(0, -1, 0).Format("2006-01-02")
	p.To = p.Now.In(district.Zone).Format("2006-01-02")
	h.pages.Render(w, http.StatusOK, "overview", p)
}

type schoolPage struct {
	*page
	Stats    *district.Stats
	Trend    *chart.BarChart
	Category *chart.BarChart
	Severity *chart.BarChart
	Channel  *chart.BarChart
	Cases    []*district.CaseRow
}

func (h *Handler) handleSchool(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	p := &schoolPage{page: h.newPage(r, sess, "school")}
	v, err := h.cfg.District.School(r.Context(), sess.Counselor.District, r.PathValue("code"), p.Now)
	if hotline.ErrorCode(err) == hotline.ENOTFOUND {
		h.fail(w, r, hotline.ErrSchoolNotFound, http.StatusNotFound)
		return
	} else if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.Title = v.School.DisplayName(p.Lang)
	p.Stats, p.Cases = v.Stats, v.Cases
	charts := chart.School(p.Stats, p.Lang)
	p.Trend, p.Category, p.Severity, p.Channel = charts[0], charts[1], charts[2], charts[3]
	h.pages.Render(w, http.StatusOK, "school", p)
}

type tipPage struct {
	*page
	Tip      *hotline.Tip
	School   *hotline.School
	Messages []*hotline.Message
	Events   []*hotline.Event
}

// Event says a ledger event of the case in words. The district sees no
// school's staff list, so an assignee reads as "another staff member".
func (p *tipPage) Event(e *hotline.Event) string { return history.Describe(e, nil, p.Lang) }

// handleTip shows an escalated case: the district's copy of the thread,
// opened with the officer's district key, and its ledger timeline. Any
// other case is "not found", exactly as for a guess.
func (h *Handler) handleTip(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	ctx := r.Context()
	tip, msgs, err := h.cfg.Triage.Thread(ctx, sess, r.PathValue("uid"))
	if err != nil {
		status := http.StatusNotFound
		if hotline.ErrorCode(err) != hotline.ENOTFOUND {
			status = 0
		}
		h.fail(w, r, err, status)
		return
	}
	evs, err := h.cfg.Triage.Timeline(ctx, sess.Actor(), tip.UID)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	if err := h.cfg.Triage.RecordOpened(ctx, sess, tip); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	school, err := h.cfg.District.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p := &tipPage{page: h.newPage(r, sess, "case"), Tip: tip, School: school, Messages: msgs, Events: evs}
	p.Title = tip.Alias.In(p.Lang) + " · " + school.DisplayName(p.Lang)
	h.pages.Render(w, http.StatusOK, "tip", p)
}

// handlePhoto serves one photo of an escalated case, opened from the
// district's sealed copy with the officer's district key. Triage checks
// that the case is escalated and belongs to the officer's district;
// anything else is "not found", as for a guess.
func (h *Handler) handlePhoto(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	photo, err := h.cfg.Triage.Photo(r.Context(), sess, r.PathValue("uid"))
	if err == nil {
		err = web.WritePhoto(w, photo)
	}
	if err != nil {
		status := http.StatusNotFound
		if hotline.ErrorCode(err) != hotline.ENOTFOUND {
			status = 0
		}
		h.fail(w, r, err, status)
	}
}

// handleReport serves the summary report of the officer's district.
func (h *Handler) handleReport(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	f := district.ReportFilter{District: sess.Counselor.District, SchoolCode: r.URL.Query().Get("school")}
	var err error
	if v := r.URL.Query().Get("from"); v != "" {
		if f.From, err = district.ParseDate(v); err != nil {
			h.fail(w, r, err, http.StatusBadRequest)
			return
		}
	}
	if v := r.URL.Query().Get("to"); v != "" {
		if f.To, err = district.ParseDate(v); err != nil {
			h.fail(w, r, err, http.StatusBadRequest)
			return
		}
	}
	rep, err := h.cfg.District.Report(r.Context(), f)
	if err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	var schoolID int64
	if f.SchoolCode != "" && len(rep.Rows) > 0 {
		schoolID = rep.Rows[0].School.ID
	}
	if err := h.cfg.District.RecordExport(r.Context(), sess.Counselor, sess.Counselor.District, schoolID, staff.ClientOf(r.Context()), f.Describe("summary.csv")); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(f.Filename(h.cfg.District.Now())))
	if err := rep.WriteCSV(w); err != nil {
		h.cfg.Logger.Error("summary report failed", "err", err)
	}
}

// labels are the pages' texts, zh-CN first.
var labels = map[string]hotline.Label{
	"app":              {ZH: "校园欺凌举报热线 · 区教育局", EN: "Bullying hotline · District bureau"},
	"overview":         {ZH: "全区概览", EN: "District overview"},
	"surveys":          {ZH: "调查问卷", EN: "Surveys"},
	"school":           {ZH: "学校", EN: "School"},
	"case":             {ZH: "案件", EN: "Case"},
	"error":            {ZH: "出错了", EN: "Error"},
	"lang_switch":      {ZH: "English", EN: "中文"},
	"logout":           {ZH: "退出", EN: "Log out"},
	"received":         {ZH: "收到", EN: "Received"},
	"open":             {ZH: "未办结", EN: "Open"},
	"overdue":          {ZH: "超时", EN: "Overdue"},
	"missed":           {ZH: "曾超时", EN: "Missed a deadline"},
	"escalated":        {ZH: "已上报", EN: "Escalated"},
	"needs":            {ZH: "应上报未上报", EN: "Must be escalated"},
	"unassessed":       {ZH: "未评估", EN: "Unassessed"},
	"settings":         {ZH: "案件处理时限", EN: "Case deadlines"},
	"settings_hint":    {ZH: "每个未办结的案件都有下一个时限：先评估情节，然后按情节在时限内跟进或办结；老师每次回复或处置后重新计时。超过时限的案件计入「超时」并提醒本区。", EN: "Every open case has a next deadline: first its assessment, then — by severity — its next follow-up or closure, restarted by each reply or action. A missed deadline counts as overdue and alerts the district."},
	"settings_note":    {ZH: "留空即用默认值。新时限从每个案件的下一次处理起生效。", EN: "Leave a field empty for the default. New times apply from each case's next action."},
	"hours":            {ZH: "小时", EN: "Hours"},
	"default":          {ZH: "默认（小时）", EN: "Default (hours)"},
	"save":             {ZH: "保存", EN: "Save"},
	"saved":            {ZH: "已保存。", EN: "Saved."},
	"dl_assess":        {ZH: "收到后评估情节", EN: "Assess the severity after receipt"},
	"dl_minor":         {ZH: "情节轻微：跟进或办结", EN: "Minor: follow up or close"},
	"dl_serious":       {ZH: "情节较重：跟进或办结", EN: "Serious: follow up or close"},
	"dl_severe":        {ZH: "情节严重：跟进或办结", EN: "Severe: follow up or close"},
	"dl_criminal":      {ZH: "涉嫌违法犯罪：跟进或办结", EN: "Suspected crime: follow up or close"},
	"median_ack":       {ZH: "受理用时中位数", EN: "Median time to acknowledge"},
	"median_reply":     {ZH: "首次回复用时中位数", EN: "Median time to first reply"},
	"median_resolve":   {ZH: "办结用时中位数", EN: "Median time to resolve"},
	"total":            {ZH: "全区合计", EN: "District total"},
	"cases":            {ZH: "需要关注的案件", EN: "Cases to watch"},
	"no_cases":         {ZH: "没有超时或上报的案件。", EN: "No overdue or escalated cases."},
	"alias":            {ZH: "化名", EN: "Alias"},
	"status":           {ZH: "状态", EN: "Status"},
	"severity":         {ZH: "情节", EN: "Severity"},
	"received_at":      {ZH: "收到时间", EN: "Received at"},
	"deadlines":        {ZH: "超过的时限", EN: "Deadlines missed"},
	"ledger":           {ZH: "台账", EN: "Ledger"},
	"ledger_ok":        {ZH: "台账完整", EN: "Ledger intact"},
	"ledger_broken":    {ZH: "台账校验失败", EN: "Ledger BROKEN"},
	"events":           {ZH: "条记录", EN: "events"},
	"head":             {ZH: "当前校验值", EN: "Head hash"},
	"pending":          {ZH: "条新记录待校验", EN: "new events not yet checked"},
	"full_check":       {ZH: "上次全面校验", EN: "Last full check"},
	"daily_heads":      {ZH: "每日记录的校验值", EN: "Daily recorded heads"},
	"day":              {ZH: "日期", EN: "Day"},
	"report":           {ZH: "工作总结（CSV）", EN: "Summary report (CSV)"},
	"from":             {ZH: "从", EN: "From"},
	"to":               {ZH: "到", EN: "To"},
	"download":         {ZH: "下载", EN: "Download"},
	"small_note":       {ZH: "按类别、情节、渠道等统计时，小于 5 的数字显示为「<5」，图中画成同样高度的虚线小框（不代表大小），以免识别出个别学生；超时、曾超时、未评估、已上报和应上报未上报的案件数是学校的履职记录，如实显示。", EN: "Counts by category, severity, channel and the like below 5 are shown as \"<5\" and drawn as the same small dashed box whatever they are (its height means nothing), so that no student can be singled out; overdue, missed, unassessed, escalated and must-be-escalated counts are the school's own record and are shown exactly."},
	"open_case":        {ZH: "查看", EN: "Open"},
	"thread":           {ZH: "案件记录（区教育局副本）", EN: "Thread (district copy)"},
	"timeline":         {ZH: "台账时间线", EN: "Ledger timeline"},
	"back":             {ZH: "返回全区概览", EN: "Back to the overview"},
	"purged":           {ZH: "内容已按保存期限清除。", EN: "Content purged by the retention policy."},
	"author_reporter":  {ZH: "报告人", EN: "Reporter"},
	"author_counselor": {ZH: "老师", EN: "Counselor"},
	"author_note":      {ZH: "内部备注", EN: "Internal note"},
	"author_system":    {ZH: "系统", EN: "System"},
	"schools":          {ZH: "各校情况", EN: "Schools"},
	"photo":            {ZH: "（图片）", EN: "(photo)"},
}

type settingsRow struct {
	Key            string
	Label          hotline.Label
	Value, Default string // hours; Value "" when the default applies
}

type settingsPage struct {
	*page
	Rows     []settingsRow
	Saved    bool
	Alerts   *alertsView
	Platform *platformView
}

// deadlineFields are the settings form's fields, in order, with where each
// lives in hotline.CaseDeadlines.
var deadlineFields = []struct {
	key string
	get func(*hotline.CaseDeadlines) *hotline.Duration
}{
	{"assess", func(d *hotline.CaseDeadlines) *hotline.Duration { return &d.Assess }},
	{"minor", func(d *hotline.CaseDeadlines) *hotline.Duration { return &d.Minor }},
	{"serious", func(d *hotline.CaseDeadlines) *hotline.Duration { return &d.Serious }},
	{"severe", func(d *hotline.CaseDeadlines) *hotline.Duration { return &d.Severe }},
	{"criminal", func(d *hotline.CaseDeadlines) *hotline.Duration { return &d.Criminal }},
}

func hours(d hotline.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatInt(int64(d.D()/time.Hour), 10)
}

func (h *Handler) settingsPage(r *http.Request, sess *staff.Session, d hotline.CaseDeadlines) *settingsPage {
	p := &settingsPage{page: h.newPage(r, sess, "settings"), Saved: r.URL.Query().Get("saved") == "1"}
	def := hotline.DefaultCaseDeadlines
	for _, f := range deadlineFields {
		p.Rows = append(p.Rows, settingsRow{Key: f.key, Label: labels["dl_"+f.key], Value: hours(*f.get(&d)), Default: hours(*f.get(&def))})
	}
	return p
}

// handleSettings shows the district's case deadlines.
func (h *Handler) handleSettings(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	d, err := h.cfg.District.Deadlines(r.Context(), sess.Counselor.District)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p := h.settingsPage(r, sess, d)
	if p.Alerts, err = h.alertsView(r.Context(), sess); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	if p.Alerts != nil {
		p.Alerts.Done = r.URL.Query().Get("done")
	}
	if err := h.fillPlatform(r, sess, p); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	h.pages.Render(w, http.StatusOK, "settings", p)
}

// handleSettingsSave saves the district's case deadlines, given in whole
// hours (empty: the default); a mistake re-renders the form with it.
func (h *Handler) handleSettingsSave(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	var d hotline.CaseDeadlines
	var err error
	for _, f := range deadlineFields {
		v := strings.TrimSpace(r.FormValue(f.key))
		if v == "" {
			continue
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n <= 0 || n > int64(district.MaxCaseDeadline/time.Hour) {
			err = hotline.Errorf(hotline.EINVALID, "每个时限应为 1 到 2160 之间的整数小时（留空即用默认值）。", "Each deadline is a whole number of hours from 1 to 2160 (leave it empty for the default).")
			continue
		}
		*f.get(&d) = hotline.Duration(time.Duration(n) * time.Hour)
	}
	if err == nil {
		err = h.cfg.District.SetDeadlines(r.Context(), sess.Counselor.District, d)
	}
	switch hotline.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/district/settings?saved=1", http.StatusSeeOther)
	case hotline.EINVALID:
		p := h.settingsPage(r, sess, d)
		var aerr error
		if p.Alerts, aerr = h.alertsView(r.Context(), sess); aerr != nil {
			h.fail(w, r, aerr, 0)
			return
		}
		if aerr = h.fillPlatform(r, sess, p); aerr != nil {
			h.fail(w, r, aerr, 0)
			return
		}
		p.Error = hotline.ErrorMessage(err, p.Lang)
		h.pages.Render(w, http.StatusBadRequest, "settings", p)
	default:
		h.fail(w, r, err, 0)
	}
}

// Author names a message's author kind in the page's language.
func (p *page) Author(a hotline.AuthorKind) string { return p.T("author_" + string(a)) }

// Deadline names a deadline kind in the page's language.
func (p *page) Deadline(kind string) string { return hotline.DeadlineKind(kind).Label().In(p.Lang) }

// Joined joins strings for a cell.
func (p *page) Joined(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p.Deadline(s)
	}
	return strings.Join(out, "、")
}
