package district

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"hotline/internal/hotline"
)

// SmallCount is the threshold below which a non-zero count is suppressed.
const SmallCount = 5

// Suppress formats a count that could help single out a reporter (tips by
// category, channel, severity, status or step, received in a small
// school): "<5" for 1–4, the number otherwise.
func Suppress(n int) string {
	if n > 0 && n < SmallCount {
		return "<5"
	}
	return strconv.Itoa(n)
}

// Exact formats a count of a school's own failures and duties — overdue,
// missed deadlines, unassessed, escalated, not escalated when it must be —
// as it is: suppressing them would hide a school's failures from the
// district, and they say nothing about who reported.
func Exact(n int) string { return strconv.Itoa(n) }

// Zone is the time zone of months and weeks in statistics and reports.
var Zone = hotline.ChinaTime

// Stats are the statistics of one school, or of a whole district.
type Stats struct {
	School *hotline.School // nil for a total

	Received int
	Open     int
	// The school's own failures and duties, shown exactly (Exact); every
	// other count is suppressed below SmallCount.
	Overdue         int // open duties past due now
	Missed          int // cases that ever missed a deadline
	Unassessed      int // open cases nobody has assessed yet
	Escalated       int
	NeedsEscalation int // severe or criminal, not escalated

	MedianAck     Median
	MedianReply   Median
	MedianResolve Median

	ByCategory map[hotline.Category]int
	BySeverity map[hotline.Severity]int
	ByChannel  map[hotline.Channel]int
	ByStatus   map[hotline.Status]int
	BySteps    map[hotline.Step]int
	ByWeek     []WeekCount
}

// Median is a median duration over N cases.
type Median struct {
	D time.Duration
	N int
}

// Hours formats the median in hours with one decimal, "" without cases.
func (m Median) Hours() string {
	if m.N == 0 {
		return ""
	}
	return strconv.FormatFloat(m.D.Hours(), 'f', 1, 64)
}

// String formats the median for a page: "3.5 h", or "—".
func (m Median) String() string {
	if m.N == 0 {
		return "—"
	}
	if m.D < time.Hour {
		return strconv.Itoa(int(m.D.Minutes())) + " min"
	}
	return m.Hours() + " h"
}

// WeekCount is how many tips a week received.
type WeekCount struct {
	Start time.Time // Monday 00:00 in Zone
	N     int
}

// Weeks is how many weeks of trend the statistics keep.
const Weeks = 12

func newStats(s *hotline.School) *Stats {
	return &Stats{School: s, ByCategory: map[hotline.Category]int{}, BySeverity: map[hotline.Severity]int{}, ByChannel: map[hotline.Channel]int{},
		ByStatus: map[hotline.Status]int{}, BySteps: map[hotline.Step]int{}}
}

// WeekStart returns the Monday 00:00 (Zone) of t's week.
func WeekStart(t time.Time) time.Time {
	t = t.In(Zone)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, Zone)
	off := (int(day.Weekday()) + 6) % 7
	return day.AddDate(0, 0, -off)
}

// Compute returns the statistics of each school (in the order given) and
// their total, at now. missed holds the IDs of tips that ever missed a
// deadline.
func Compute(schools []*hotline.School, tips []*hotline.Tip, missed map[int64]bool, now time.Time) ([]*Stats, *Stats) {
	per := make(map[int64]*Stats, len(schools))
	out := make([]*Stats, len(schools))
	for i, s := range schools {
		out[i] = newStats(s)
		per[s.ID] = out[i]
	}
	total := newStats(nil)
	acks := map[*Stats][]time.Duration{}
	replies := map[*Stats][]time.Duration{}
	resolves := map[*Stats][]time.Duration{}
	firstWeek := WeekStart(now).AddDate(0, 0, -7*(Weeks-1))
	weeks := map[*Stats]map[time.Time]int{}
	for _, t := range tips {
		st := per[t.SchoolID]
		if st == nil {
			continue
		}
		for _, s := range []*Stats{st, total} {
			s.Received++
			if t.Status.Open() {
				s.Open++
			}
			if t.Overdue(now) {
				s.Overdue++
			}
			if missed[t.ID] {
				s.Missed++
			}
			if t.Status.Open() && t.Severity == hotline.SeverityUnassessed {
				s.Unassessed++
			}
			if t.Escalated {
				s.Escalated++
			}
			if t.Severity.MustReportToDistrict() && !t.Escalated {
				s.NeedsEscalation++
			}
			s.ByCategory[t.Category]++
			s.BySeverity[t.Severity]++
			s.ByChannel[t.Channel]++
			s.ByStatus[t.Status]++
			for step, done := range t.Steps {
				if done {
					s.BySteps[step]++
				}
			}
			if !t.AcknowledgedAt.IsZero() {
				acks[s] = append(acks[s], t.AcknowledgedAt.Sub(t.CreatedAt))
			}
			if !t.FirstReplyAt.IsZero() {
				replies[s] = append(replies[s], t.FirstReplyAt.Sub(t.CreatedAt))
			}
			if !t.ResolvedAt.IsZero() && !t.Status.Open() {
				resolves[s] = append(resolves[s], t.ResolvedAt.Sub(t.CreatedAt))
			}
			if w := WeekStart(t.CreatedAt); !w.Before(firstWeek) {
				if weeks[s] == nil {
					weeks[s] = map[time.Time]int{}
				}
				weeks[s][w]++
			}
		}
	}
	for _, s := range append(slices.Clone(out), total) {
		s.MedianAck = median(acks[s])
		s.MedianReply = median(replies[s])
		s.MedianResolve = median(resolves[s])
		for i := 0; i < Weeks; i++ {
			w := firstWeek.AddDate(0, 0, 7*i)
			s.ByWeek = append(s.ByWeek, WeekCount{Start: w, N: weeks[s][w]})
		}
	}
	return out, total
}

// median returns the median of ds (the mean of the middle two for an even
// count).
func median(ds []time.Duration) Median {
	if len(ds) == 0 {
		return Median{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	n := len(ds)
	if n%2 == 1 {
		return Median{D: ds[n/2], N: n}
	}
	return Median{D: (ds[n/2-1] + ds[n/2]) / 2, N: n}
}
