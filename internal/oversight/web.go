package oversight

import (
	"bytes"
	"context"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/triage"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Auth is the shared staff log-in (the inbox's): district officers log in
// at /inbox/login and are sent to /district/.
type Auth interface {
	RequireSession(http.Handler) http.Handler
	RequireCSRF(http.Handler) http.Handler
	SessionFromRequest(*http.Request) (*staff.Session, bool)
	CSRFToken(*http.Request) string
}

// Config is what the district pages need.
type Config struct {
	DB     *store.DB
	Triage *triage.Service
	Auth   Auth
	Logger *slog.Logger
}

// Handler serves the district officers' pages under /district/.
type Handler struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template

	verifyMu sync.Mutex
	verified *verifyCache
}

// verifyCache keeps a ledger verification while the ledger has not grown:
// walking the chain on every page load would not scale.
type verifyCache struct {
	lastSeq int64
	at      time.Time
	res     *ledger.Result
}

// csp forbids inline scripts and styles, as in the inbox.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// New parses the embedded templates (a broken template fails the start)
// and registers the routes.
func New(cfg Config) (*Handler, error) {
	if cfg.DB == nil || cfg.Triage == nil || cfg.Auth == nil {
		return nil, fmt.Errorf("oversight: DB, Triage and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{}}
	for _, name := range []string{"overview", "school", "tip", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/charts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("oversight: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET /district/static/", http.StripPrefix("/district/static/", http.FileServerFS(static)))
	guard := func(fn func(http.ResponseWriter, *http.Request, *staff.Session)) http.Handler {
		return cfg.Auth.RequireSession(cfg.Auth.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sess, ok := cfg.Auth.SessionFromRequest(r)
			if !ok {
				http.Redirect(w, r, "/inbox/login", http.StatusSeeOther)
				return
			}
			if sess.Counselor.Role != hotline.RoleDistrict {
				// School staff have their inbox; the district pages are not theirs.
				h.fail(w, r, hotline.ErrForbidden, http.StatusForbidden)
				return
			}
			fn(w, r, sess)
		})))
	}
	h.mux.Handle("GET /district/{$}", guard(h.handleOverview))
	h.mux.Handle("GET /district/schools/{code}", guard(h.handleSchool))
	h.mux.Handle("GET /district/tips/{uid}", guard(h.handleTip))
	h.mux.Handle("GET /district/report.csv", guard(h.handleReport))
	h.mux.Handle("/district/", guard(func(w http.ResponseWriter, r *http.Request, _ *staff.Session) {
		h.fail(w, r, hotline.ErrNotFound, http.StatusNotFound)
	}))
	return h, nil
}

// ServeHTTP serves /district/ with the security headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

var funcs = template.FuncMap{
	"n":       Suppress,
	"hexhead": func(b []byte) string { return hex.EncodeToString(b) },
	"short": func(s string) string {
		if len(s) > 16 {
			return s[:16] + "…"
		}
		return s
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(Zone).Format("2006-01-02 15:04")
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
		return key
	}
	return l.In(p.Lang)
}

// L returns a domain label in the page's language.
func (p *page) L(l hotline.Label) string { return l.In(p.Lang) }

func (h *Handler) newPage(r *http.Request, sess *staff.Session, title string) *page {
	lang := hotline.LangZH
	if l := r.URL.Query().Get("lang"); l != "" {
		lang = hotline.ParseLang(l)
	} else if c, err := r.Cookie("lang"); err == nil {
		lang = hotline.ParseLang(c.Value)
	}
	q := r.URL.Query()
	if lang == hotline.LangEN {
		q.Set("lang", "zh")
	} else {
		q.Set("lang", "en")
	}
	p := &page{Lang: lang, CSRF: h.cfg.Auth.CSRFToken(r), LangURL: r.URL.Path + "?" + q.Encode(), Now: h.cfg.DB.Clock.Now()}
	if sess != nil {
		p.Officer, p.District = sess.Counselor, sess.Counselor.District
	}
	p.Title = p.T(title)
	return p
}

func (h *Handler) render(w http.ResponseWriter, name string, data any, status int) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		h.cfg.Logger.Error("district page failed", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		h.cfg.Logger.Error("district request failed", "path", r.URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	p := h.newPage(r, nil, "error")
	p.Error = hotline.ErrorMessage(err, p.Lang)
	h.render(w, "error", p, status)
}

// CaseRow is an overdue or escalated case in a list: metadata only.
type CaseRow struct {
	Tip     *hotline.Tip
	School  *hotline.School
	Missed  []string // deadline kinds missed
	Link    bool     // the officer may open it (escalated)
	Needs   bool     // severe or criminal, not escalated
	Overdue bool
}

type overviewPage struct {
	*page
	Schools  []*Stats
	Total    *Stats
	Trend    *BarChart
	Category *BarChart
	Severity *BarChart
	Cases    []*CaseRow
	Ledger   *LedgerState
	From, To string
}

// LedgerState is the ledger's verification and recorded heads, for the page.
type LedgerState struct {
	Result *ledger.Result
	Heads  []*store.LedgerHead // newest first, at most 7
	Total  int
}

func (h *Handler) ledgerState(ctx context.Context) (*LedgerState, error) {
	last, err := h.cfg.DB.LastEventSeq(ctx)
	if err != nil {
		return nil, err
	}
	h.verifyMu.Lock()
	defer h.verifyMu.Unlock()
	now := h.cfg.DB.Clock.Now()
	// The heads can be rewritten without the chain growing: re-verify at
	// least every minute.
	if c := h.verified; c == nil || c.lastSeq != last || now.Sub(c.at) > time.Minute || now.Before(c.at) {
		res, err := h.cfg.DB.VerifyLedger(ctx)
		if err != nil {
			return nil, err
		}
		h.verified = &verifyCache{lastSeq: last, at: now, res: res}
	}
	heads, err := h.cfg.DB.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	st := &LedgerState{Result: h.verified.res, Total: len(heads)}
	for i := len(heads) - 1; i >= 0 && len(st.Heads) < 7; i-- {
		st.Heads = append(st.Heads, heads[i])
	}
	return st, nil
}

// districtData loads the officer's district: schools, tips, misses.
func (h *Handler) districtData(ctx context.Context, district string) ([]*hotline.School, []*hotline.Tip, map[int64][]string, error) {
	schools, err := h.cfg.DB.Schools(ctx, district)
	if err != nil {
		return nil, nil, nil, err
	}
	ids := make([]int64, len(schools))
	for i, s := range schools {
		ids[i] = s.ID
	}
	tips, err := h.cfg.DB.TipsOfSchools(ctx, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	misses, err := h.cfg.DB.DeadlineMisses(ctx, ids)
	if err != nil {
		return nil, nil, nil, err
	}
	missed := map[int64][]string{}
	for _, m := range misses {
		missed[m.TipID] = append(missed[m.TipID], m.Kind)
	}
	return schools, tips, missed, nil
}

func (h *Handler) handleOverview(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	ctx := r.Context()
	p := &overviewPage{page: h.newPage(r, sess, "overview")}
	schools, tips, missed, err := h.districtData(ctx, sess.Counselor.District)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	ever := map[int64]bool{}
	for id := range missed {
		ever[id] = true
	}
	p.Schools, p.Total = Compute(schools, tips, ever, p.Now)
	p.Trend = WeekChart(p.Total.ByWeek, p.Lang)
	p.Category = CategoryChart(p.Total, p.Lang)
	p.Severity = SeverityChart(p.Total, p.Lang)
	p.Cases = caseRows(schools, tips, missed, p.Now)
	if p.Ledger, err = h.ledgerState(ctx); err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p.From = p.Now.In(Zone).AddDate(0, -1, 0).Format("2006-01-02")
	p.To = p.Now.In(Zone).Format("2006-01-02")
	h.render(w, "overview", p, http.StatusOK)
}

// caseRows lists the cases the district must look at: overdue now, ever
// missed a deadline, escalated, or severe and not escalated.
func caseRows(schools []*hotline.School, tips []*hotline.Tip, missed map[int64][]string, now time.Time) []*CaseRow {
	byID := map[int64]*hotline.School{}
	for _, s := range schools {
		byID[s.ID] = s
	}
	var rows []*CaseRow
	for _, t := range tips {
		row := &CaseRow{Tip: t, School: byID[t.SchoolID], Missed: missed[t.ID], Link: t.Escalated, Needs: triage.NeedsEscalation(t), Overdue: t.Overdue(now)}
		if row.Overdue || len(row.Missed) > 0 || t.Escalated || row.Needs {
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Overdue != b.Overdue {
			return a.Overdue
		}
		return a.Tip.CreatedAt.After(b.Tip.CreatedAt)
	})
	return rows
}

type schoolPage struct {
	*page
	Stats    *Stats
	Trend    *BarChart
	Category *BarChart
	Severity *BarChart
	Channel  *BarChart
	Cases    []*CaseRow
}

func (h *Handler) handleSchool(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	ctx := r.Context()
	school, err := h.cfg.DB.SchoolByCode(ctx, r.PathValue("code"))
	if err != nil || school.District != sess.Counselor.District {
		h.fail(w, r, hotline.ErrSchoolNotFound, http.StatusNotFound)
		return
	}
	tips, err := h.cfg.DB.TipsOfSchools(ctx, []int64{school.ID})
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	misses, err := h.cfg.DB.DeadlineMisses(ctx, []int64{school.ID})
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	missed, ever := map[int64][]string{}, map[int64]bool{}
	for _, m := range misses {
		missed[m.TipID] = append(missed[m.TipID], m.Kind)
		ever[m.TipID] = true
	}
	p := &schoolPage{page: h.newPage(r, sess, "school")}
	p.Title = school.DisplayName(p.Lang)
	stats, _ := Compute([]*hotline.School{school}, tips, ever, p.Now)
	p.Stats = stats[0]
	p.Trend = WeekChart(p.Stats.ByWeek, p.Lang)
	p.Category = CategoryChart(p.Stats, p.Lang)
	p.Severity = SeverityChart(p.Stats, p.Lang)
	p.Channel = ChannelChart(p.Stats, p.Lang)
	p.Cases = caseRows([]*hotline.School{school}, tips, missed, p.Now)
	h.render(w, "school", p, http.StatusOK)
}

type tipPage struct {
	*page
	Tip      *hotline.Tip
	School   *hotline.School
	Messages []*hotline.Message
	Events   []*hotline.Event
}

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
	school, err := h.cfg.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	p := &tipPage{page: h.newPage(r, sess, "case"), Tip: tip, School: school, Messages: msgs, Events: evs}
	p.Title = tip.Alias.In(p.Lang) + " · " + school.DisplayName(p.Lang)
	h.render(w, "tip", p, http.StatusOK)
}

// handleReport serves the summary report of the officer's district.
func (h *Handler) handleReport(w http.ResponseWriter, r *http.Request, sess *staff.Session) {
	f := ReportFilter{District: sess.Counselor.District, SchoolCode: r.URL.Query().Get("school")}
	var err error
	if v := r.URL.Query().Get("from"); v != "" {
		if f.From, err = ParseDate(v); err != nil {
			h.fail(w, r, err, http.StatusBadRequest)
			return
		}
	}
	if v := r.URL.Query().Get("to"); v != "" {
		if f.To, err = ParseDate(v); err != nil {
			h.fail(w, r, err, http.StatusBadRequest)
			return
		}
	}
	rep, err := BuildReport(r.Context(), h.cfg.DB, f)
	if err != nil {
		h.fail(w, r, err, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename="+url.PathEscape(f.Filename(h.cfg.DB.Clock.Now())))
	if err := rep.WriteCSV(w); err != nil {
		h.cfg.Logger.Error("summary report failed", "err", err)
	}
}

// labels are the pages' texts, zh-CN first.
var labels = map[string]hotline.Label{
	"app":              {ZH: "校园欺凌举报热线 · 区教育局", EN: "Bullying hotline · District bureau"},
	"overview":         {ZH: "全区概览", EN: "District overview"},
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
	"median_ack":       {ZH: "受理用时中位数", EN: "Median time to acknowledge"},
	"median_reply":     {ZH: "首次回复用时中位数", EN: "Median time to first reply"},
	"median_resolve":   {ZH: "办结用时中位数", EN: "Median time to resolve"},
	"total":            {ZH: "全区合计", EN: "District total"},
	"trend":            {ZH: "每周收到的报告", EN: "Reports received per week"},
	"by_category":      {ZH: "按类别", EN: "By category"},
	"by_severity":      {ZH: "按情节", EN: "By severity"},
	"by_channel":       {ZH: "按渠道", EN: "By channel"},
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
	"daily_heads":      {ZH: "每日记录的校验值", EN: "Daily recorded heads"},
	"day":              {ZH: "日期", EN: "Day"},
	"report":           {ZH: "工作总结（CSV）", EN: "Summary report (CSV)"},
	"from":             {ZH: "从", EN: "From"},
	"to":               {ZH: "到", EN: "To"},
	"download":         {ZH: "下载", EN: "Download"},
	"small_note":       {ZH: "小于 5 的数字显示为「<5」，以免识别出个别学生。", EN: "Counts below 5 are shown as \"<5\" so that no student can be singled out."},
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

// Author names a message's author kind in the page's language.
func (p *page) Author(a hotline.AuthorKind) string { return p.T("author_" + string(a)) }

// Deadline names a deadline kind in the page's language.
func (p *page) Deadline(kind string) string { return scheduler.DeadlineKind(kind).Label().In(p.Lang) }

// Joined joins strings for a cell.
func (p *page) Joined(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p.Deadline(s)
	}
	return strings.Join(out, "、")
}
