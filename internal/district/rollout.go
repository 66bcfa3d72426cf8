package district

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// WidgetWindow is how recently the widget must have run on one of the
// school's own sites for the tracker to count it as on the site.
const WidgetWindow = 30 * 24 * time.Hour

// RolloutRow is one school's opening (开通情况): the steps that make its
// hotline live, and how its campaign is going. A school still waiting for
// its admin to accept the hand-over has no School, no key and no step done.
type RolloutRow struct {
	School *hotline.School // nil while Pending
	Code   string
	Name   hotline.Label
	// Pending: added by an officer, its admin has not accepted the
	// hand-over yet; HandoverExpires is when the newest link stops.
	Pending         bool
	HandoverExpires time.Time
	HandoverOpen    bool // its newest link still works

	AdminLoggedIn bool
	Counselors    int // active counselors besides the admins
	// Alerts: urgent alerts reach someone now (staff readiness); filled by
	// SetAlerts, false until then.
	Alerts       bool
	WidgetOrigin string // the school's own site the widget last ran on, "" if none in WidgetWindow
	WidgetDay    string // the last day it ran there
	Printed      bool   // a poster or survey code sheet was downloaded
	TestSent     bool   // the school has received a report
	TestAnswered bool   // and a counselor has answered one
	Survey       *RolloutSurvey
	Overdue      int // open duties past due now
}

// RolloutSurvey is a school's newest questionnaire wave that has opened.
type RolloutSurvey struct {
	Title hotline.Label
	Wave  hotline.Label
	Codes int // one-time codes printed
	Used  int // codes answered with
}

// Rate is the response rate in whole percent, -1 without codes.
func (s *RolloutSurvey) Rate() int {
	if s == nil || s.Codes == 0 {
		return -1
	}
	return s.Used * 100 / s.Codes
}

// Steps are the opening steps in the tracker's order; a school is fully
// live when every one is done. The questionnaire and overdue cases are the
// campaign's progress, shown beside them, not conditions of being live.
func (r *RolloutRow) Steps() []bool {
	return []bool{r.AdminLoggedIn, r.Counselors > 0, r.Alerts, r.WidgetOrigin != "", r.Printed, r.TestAnswered}
}

// Live reports whether every opening step is done.
func (r *RolloutRow) Live() bool {
	for _, ok := range r.Steps() {
		if !ok {
			return false
		}
	}
	return true
}

// Done counts the opening steps done.
func (r *RolloutRow) Done() int {
	n := 0
	for _, ok := range r.Steps() {
		if ok {
			n++
		}
	}
	return n
}

// Rollout is a district's tracker.
type Rollout struct {
	Rows []*RolloutRow
}

// Live counts the schools fully live.
func (r *Rollout) Live() int {
	n := 0
	for _, row := range r.Rows {
		if row.Live() {
			n++
		}
	}
	return n
}

// Summary is the one line for the bureau's report: "45 所学校中 41 所已全部开通".
func (r *Rollout) Summary(lang hotline.Lang) string {
	if lang == hotline.LangEN {
		return fmt.Sprintf("%d of %d schools fully live", r.Live(), len(r.Rows))
	}
	return fmt.Sprintf("%d 所学校中 %d 所已全部开通", len(r.Rows), r.Live())
}

// SetAlerts marks the schools whose urgent alerts reach someone now.
func (r *Rollout) SetAlerts(ready map[int64]bool) {
	for _, row := range r.Rows {
		row.Alerts = row.School != nil && ready[row.School.ID]
	}
}

// Rollout computes the tracker of a district at now: its schools, and the
// schools added whose admin has not accepted yet.
func (s *Service) Rollout(ctx context.Context, district string, now time.Time) (*Rollout, error) {
	if district == "" {
		return nil, hotline.ErrNotFound
	}
	schools, err := s.DB.Schools(ctx, district)
	if err != nil {
		return nil, err
	}
	facts, err := s.DB.RolloutFacts(ctx, district)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*store.RolloutFacts{}
	for _, f := range facts {
		byID[f.SchoolID] = f
	}
	ids := make([]int64, len(schools))
	for i, sc := range schools {
		ids[i] = sc.ID
	}
	tips, missed, err := s.tips(ctx, ids)
	if err != nil {
		return nil, err
	}
	stats, _ := Compute(schools, tips, everMissed(missed), now)
	overdue := map[int64]int{}
	for _, st := range stats {
		overdue[st.School.ID] = st.Overdue
	}
	seen, err := s.DB.WidgetSeenSince(ctx, now.Add(-WidgetWindow).In(Zone).Format("2006-01-02"))
	if err != nil {
		return nil, err
	}
	surveys, err := s.lastSurveys(ctx, district, now)
	if err != nil {
		return nil, err
	}
	out := &Rollout{}
	for _, sc := range schools {
		row := &RolloutRow{School: sc, Code: sc.Code, Name: hotline.Label{ZH: sc.Name, EN: sc.Settings.NameEN}, Overdue: overdue[sc.ID], Survey: surveys[sc.ID]}
		if f := byID[sc.ID]; f != nil {
			row.AdminLoggedIn, row.Counselors, row.Printed = f.AdminLogIns > 0, f.Counselors, f.Printed > 0
			row.TestSent, row.TestAnswered = f.Tips > 0, f.Answered > 0
		}
		// Only the school's own sites count, as they are listed now: a
		// site removed from the list no longer shows the school's widget.
		own := map[string]bool{}
		for _, o := range sc.Settings.AllowedOrigins {
			if c, err := hotline.CanonicalOrigin(o); err == nil {
				own[c] = true
			}
		}
		for _, w := range seen {
			if w.SchoolID == sc.ID && own[w.Origin] && w.LastDay > row.WidgetDay {
				row.WidgetOrigin, row.WidgetDay = w.Origin, w.LastDay
			}
		}
		out.Rows = append(out.Rows, row)
	}
	hs, err := s.DB.Handovers(ctx, district)
	if err != nil {
		return nil, err
	}
	pending := map[string]bool{}
	for _, h := range hs { // newest first
		if h.SchoolID != 0 || h.RevokedAt != 0 || pending[h.Code] {
			continue
		}
		pending[h.Code] = true
		out.Rows = append(out.Rows, &RolloutRow{Code: h.Code, Name: hotline.Label{ZH: h.Name, EN: h.NameEN}, Pending: true, HandoverExpires: h.Expires(), HandoverOpen: h.Open(now)})
	}
	out.Sort("", false)
	return out, nil
}

// lastSurveys finds each school's newest opened wave and its codes.
func (s *Service) lastSurveys(ctx context.Context, district string, now time.Time) (map[int64]*RolloutSurvey, error) {
	svs, err := s.DB.SurveysOfDistrict(ctx, district)
	if err != nil || len(svs) == 0 {
		return nil, err
	}
	ids := make([]int64, len(svs))
	byID := map[int64]*store.SurveyRow{}
	for i, sv := range svs {
		ids[i], byID[sv.ID] = sv.ID, sv
	}
	waves, err := s.DB.WavesOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	latest := map[int64]*store.WaveRow{} // school → newest opened wave
	for _, w := range waves {
		sv := byID[w.SurveyID]
		if sv == nil || sv.SchoolID == 0 || w.OpensAt > now.UnixMicro() {
			continue
		}
		if cur := latest[sv.SchoolID]; cur == nil || w.OpensAt > cur.OpensAt {
			latest[sv.SchoolID] = w
		}
	}
	var waveIDs []int64
	for _, w := range latest {
		waveIDs = append(waveIDs, w.ID)
	}
	counts, err := s.DB.ClassCounts(ctx, waveIDs)
	if err != nil {
		return nil, err
	}
	codes, used := map[int64]int{}, map[int64]int{}
	for _, c := range counts {
		codes[c.WaveID] += c.Codes
		used[c.WaveID] += c.Used
	}
	out := map[int64]*RolloutSurvey{}
	for school, w := range latest {
		sv := byID[w.SurveyID]
		out[school] = &RolloutSurvey{Title: hotline.Label{ZH: sv.TitleZH, EN: sv.TitleEN}, Wave: hotline.Label{ZH: w.NameZH, EN: w.NameEN}, Codes: codes[w.ID], Used: used[w.ID]}
	}
	return out, nil
}

// RolloutSorts are the tracker's sort keys, in column order.
var RolloutSorts = []string{"school", "live", "admin", "counselors", "alerts", "widget", "printed", "test", "survey", "overdue"}

// Sort orders the rows by a column (RolloutSorts; anything else: schools
// furthest from live first, then by code), descending if desc.
func (r *Rollout) Sort(key string, desc bool) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	val := func(row *RolloutRow) int {
		switch key {
		case "live":
			return b(row.Live())
		case "admin":
			return b(row.AdminLoggedIn)
		case "counselors":
			return row.Counselors
		case "alerts":
			return b(row.Alerts)
		case "widget":
			return b(row.WidgetOrigin != "")
		case "printed":
			return b(row.Printed)
		case "test":
			return b(row.TestSent) + b(row.TestAnswered)
		case "survey":
			return row.Survey.Rate()
		case "overdue":
			return row.Overdue
		case "school":
			return 0
		default:
			return row.Done()
		}
	}
	sort.SliceStable(r.Rows, func(i, j int) bool {
		a, c := val(r.Rows[i]), val(r.Rows[j])
		if a != c {
			return a < c != desc
		}
		if desc && key == "school" {
			return r.Rows[i].Code > r.Rows[j].Code
		}
		return r.Rows[i].Code < r.Rows[j].Code
	})
}

// RolloutColumns are the tracker's CSV columns: Chinese, then English.
var RolloutColumns = []hotline.Label{
	{ZH: "学校代码", EN: "school_code"},
	{ZH: "学校", EN: "school"},
	{ZH: "全部开通", EN: "fully_live"},
	{ZH: "等待管理员接收交接", EN: "waiting_for_admin"},
	{ZH: "管理员已登录", EN: "admin_logged_in"},
	{ZH: "管理员以外的辅导老师人数", EN: "counselors_besides_admin"},
	{ZH: "紧急提醒现在有人接收", EN: "alerts_reach_someone"},
	{ZH: "近30天学校网站上出现过小部件", EN: "widget_on_own_site_30d"},
	{ZH: "小部件最近出现日期", EN: "widget_last_seen"},
	{ZH: "已下载海报或问卷码", EN: "poster_or_codes_downloaded"},
	{ZH: "已发送测试举报", EN: "test_report_sent"},
	{ZH: "测试举报已回复", EN: "test_report_answered"},
	{ZH: "最近一次问卷", EN: "last_questionnaire"},
	{ZH: "问卷码数", EN: "questionnaire_codes"},
	{ZH: "已作答", EN: "questionnaire_answered"},
	{ZH: "作答率(%)", EN: "response_rate_pct"},
	{ZH: "超时未办结", EN: "open_overdue"},
}

// WriteCSV writes the tracker: a UTF-8 byte-order mark (Excel), a Chinese
// header row, an English header row, one row per school, and the summary
// line in both languages.
func (r *Rollout) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	zh, en := make([]string, len(RolloutColumns)), make([]string, len(RolloutColumns))
	for i, c := range RolloutColumns {
		zh[i], en[i] = c.ZH, c.EN
	}
	cw.Write(zh)
	cw.Write(en)
	yes := func(v bool) string {
		if v {
			return "是 yes"
		}
		return "否 no"
	}
	for _, row := range r.Rows {
		name := row.Name.ZH
		if row.Name.EN != "" {
			name += " / " + row.Name.EN
		}
		rec := []string{row.Code, name, yes(row.Live()), yes(row.Pending), yes(row.AdminLoggedIn), strconv.Itoa(row.Counselors), yes(row.Alerts),
			yes(row.WidgetOrigin != ""), row.WidgetDay, yes(row.Printed), yes(row.TestSent), yes(row.TestAnswered)}
		if sv := row.Survey; sv != nil {
			rate := ""
			if sv.Rate() >= 0 {
				rate = strconv.Itoa(sv.Rate())
			}
			rec = append(rec, sv.Title.ZH+" · "+sv.Wave.ZH, strconv.Itoa(sv.Codes), strconv.Itoa(sv.Used), rate)
		} else {
			rec = append(rec, "", "", "", "")
		}
		rec = append(rec, strconv.Itoa(row.Overdue))
		for i := range rec {
			rec[i] = SafeCell(rec[i])
		}
		cw.Write(rec)
	}
	cw.Write([]string{r.Summary(hotline.LangZH) + " / " + r.Summary(hotline.LangEN)})
	cw.Flush()
	return cw.Error()
}
