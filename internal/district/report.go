package district

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// ReportFilter selects what the summary report covers. Zero fields match
// everything: the whole deployment.
type ReportFilter struct {
	District   string
	SchoolCode string
	From       time.Time // first day included (Zone), zero: from the start
	To         time.Time // last day included (Zone), zero: to now
}

// ParseDate reads a report date, "2006-01-02", in Zone.
func ParseDate(s string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Zone)
	if err != nil {
		return time.Time{}, hotline.Errorf(hotline.EINVALID, "日期格式应为 2006-01-02。", "A date is written 2006-01-02.")
	}
	return t, nil
}

// ReportRow is one school in one month.
type ReportRow struct {
	School *hotline.School
	Month  string // "2026-03" in Zone
	Tips   []*hotline.Tip
}

// Report is the summary report (工作总结): per school and month, counts by
// category, severity, channel, status and handling step, escalations and
// median times — no content, no aliases.
type Report struct {
	Rows []*ReportRow
}

// Report reads the schools and tips the filter selects and groups them by
// school and month of receipt. Closed cases (spam, duplicates) count.
func (s *Service) Report(ctx context.Context, f ReportFilter) (*Report, error) {
	db := s.DB
	schools, err := db.Schools(ctx, f.District)
	if err != nil {
		return nil, err
	}
	if f.SchoolCode != "" {
		code := store.NormalizeCode(f.SchoolCode)
		schools = filter(schools, func(s *hotline.School) bool { return s.Code == code })
		if len(schools) == 0 {
			return nil, hotline.ErrSchoolNotFound
		}
	}
	ids := make([]int64, len(schools))
	byID := map[int64]*hotline.School{}
	for i, s := range schools {
		ids[i] = s.ID
		byID[s.ID] = s
	}
	tips, err := db.TipsOfSchools(ctx, ids)
	if err != nil {
		return nil, err
	}
	rows := map[string]*ReportRow{}
	for _, t := range tips {
		if !f.From.IsZero() && t.CreatedAt.Before(f.From) {
			continue
		}
		if !f.To.IsZero() && !t.CreatedAt.Before(f.To.AddDate(0, 0, 1)) {
			continue
		}
		month := t.CreatedAt.In(Zone).Format("2006-01")
		key := fmt.Sprintf("%s|%s", byID[t.SchoolID].Code, month)
		r := rows[key]
		if r == nil {
			r = &ReportRow{School: byID[t.SchoolID], Month: month}
			rows[key] = r
		}
		r.Tips = append(r.Tips, t)
	}
	rep := &Report{}
	for _, r := range rows {
		rep.Rows = append(rep.Rows, r)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.School.District != b.School.District {
			return a.School.District < b.School.District
		}
		if a.School.Code != b.School.Code {
			return a.School.Code < b.School.Code
		}
		return a.Month < b.Month
	})
	return rep, nil
}

func filter[T any](xs []T, keep func(T) bool) []T {
	var out []T
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// Column is one column of the summary report.
type Column struct {
	Key   string        // machine name, e.g. "category_physical"
	Label hotline.Label // what the header says
	Cell  func(r *ReportRow) string
}

func countCol(key string, l hotline.Label, match func(*hotline.Tip) bool) Column {
	return countColAs(key, l, match, Suppress)
}

// exactCol counts what a school did or failed to do (escalated, left
// unassessed): the district sees it exactly.
func exactCol(key string, l hotline.Label, match func(*hotline.Tip) bool) Column {
	return countColAs(key, l, match, Exact)
}

func countColAs(key string, l hotline.Label, match func(*hotline.Tip) bool, format func(int) string) Column {
	return Column{Key: key, Label: l, Cell: func(r *ReportRow) string {
		n := 0
		for _, t := range r.Tips {
			if match(t) {
				n++
			}
		}
		return format(n)
	}}
}

func medianCol(key string, l hotline.Label, d func(*hotline.Tip) (time.Duration, bool)) Column {
	return Column{Key: key, Label: l, Cell: func(r *ReportRow) string {
		var ds []time.Duration
		for _, t := range r.Tips {
			if v, ok := d(t); ok {
				ds = append(ds, v)
			}
		}
		return median(ds).Hours()
	}}
}

// Columns lists the report's columns in order.
func Columns() []Column {
	cols := []Column{
		{"district", hotline.Label{ZH: "区", EN: "district"}, func(r *ReportRow) string { return r.School.District }},
		{"school_code", hotline.Label{ZH: "学校代码", EN: "school code"}, func(r *ReportRow) string { return r.School.Code }},
		{"school", hotline.Label{ZH: "学校", EN: "school"}, func(r *ReportRow) string { return r.School.Name }},
		{"month", hotline.Label{ZH: "月份", EN: "month"}, func(r *ReportRow) string { return r.Month }},
		countCol("received", hotline.Label{ZH: "收到报告", EN: "received"}, func(*hotline.Tip) bool { return true }),
		countCol("urgent", hotline.Label{ZH: "紧急", EN: "urgent"}, func(t *hotline.Tip) bool { return t.Urgent }),
	}
	for _, c := range append(cloneOf(hotline.Categories), hotline.CategoryUnassigned) {
		l := c.Label()
		if c == hotline.CategoryUnassigned {
			l = hotline.Label{ZH: "未分类", EN: "Unassigned"}
		}
		cols = append(cols, countCol("category_"+nonEmpty(string(c), "unassigned"), l, func(t *hotline.Tip) bool { return t.Category == c }))
	}
	for _, s := range hotline.Severities {
		col := countCol
		if s == hotline.SeverityUnassessed {
			col = exactCol // a case nobody assessed is the school's failure
		}
		cols = append(cols, col("severity_"+string(s), s.Label(), func(t *hotline.Tip) bool { return t.Severity == s }))
	}
	for _, c := range hotline.Channels {
		cols = append(cols, countCol("channel_"+string(c), c.Label(), func(t *hotline.Tip) bool { return t.Channel == c }))
	}
	for _, s := range hotline.Statuses {
		cols = append(cols, countCol("status_"+string(s), s.Label(), func(t *hotline.Tip) bool { return t.Status == s }))
	}
	for _, s := range hotline.Steps {
		cols = append(cols, countCol("step_"+string(s), s.Label(), func(t *hotline.Tip) bool { return t.Steps[s] }))
	}
	cols = append(cols,
		exactCol("escalated", hotline.Label{ZH: "已上报区教育局", EN: "escalated"}, func(t *hotline.Tip) bool { return t.Escalated }),
		medianCol("median_ack_hours", hotline.Label{ZH: "受理用时中位数（小时）", EN: "median hours to acknowledge"}, func(t *hotline.Tip) (time.Duration, bool) {
			return t.AcknowledgedAt.Sub(t.CreatedAt), !t.AcknowledgedAt.IsZero()
		}),
		medianCol("median_reply_hours", hotline.Label{ZH: "首次回复用时中位数（小时）", EN: "median hours to first reply"}, func(t *hotline.Tip) (time.Duration, bool) {
			return t.FirstReplyAt.Sub(t.CreatedAt), !t.FirstReplyAt.IsZero()
		}),
		medianCol("median_resolve_hours", hotline.Label{ZH: "办结用时中位数（小时）", EN: "median hours to resolve"}, func(t *hotline.Tip) (time.Duration, bool) {
			return t.ResolvedAt.Sub(t.CreatedAt), !t.ResolvedAt.IsZero() && !t.Status.Open()
		}),
	)
	return cols
}

func cloneOf[T any](xs []T) []T { return append([]T(nil), xs...) }

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteCSV writes the report: a UTF-8 byte-order mark (so that Excel reads
// the Chinese), a header row "中文 / key", then one row per school and month.
func (r *Report) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cols := Columns()
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = SafeCell(c.Label.ZH + " / " + c.Key)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := make([]string, len(cols))
		for i, c := range cols {
			rec[i] = SafeCell(c.Cell(row))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCell neutralises a CSV cell that a spreadsheet would run as a
// formula (CSV injection): one starting with '=', '+', '-' or '@', or with
// a tab or carriage return, which some spreadsheets skip before looking
// for one, gets a leading single quote, as OWASP recommends. School and
// district names are typed by staff and read by the district in Excel.
// The report's own cells are counts, "<5" and hours, none negative, so
// only text changes.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Filename returns a file name for the report.
func (f ReportFilter) Filename(now time.Time) string {
	name := "hotline-summary"
	if f.SchoolCode != "" {
		name += "-" + f.SchoolCode
	}
	return name + "-" + now.In(Zone).Format("20060102") + ".csv"
}
