package district

import (
	"context"
	"sort"

	"hotline/internal/store"
)

// DetectorRow is the counselors' feedback on the urgency detector for one
// reason of a flag: how many tips it flagged, how many of those flags
// counselors cleared as wrong, and how many tips nobody flagged counselors
// marked urgent (Missed, on the row with the empty reason).
//
// These counts are shown exactly: they are per district and month, with
// no school and no tip, so they cannot single out a reporter.
type DetectorRow struct {
	Reason  string // a detector category, "reporter", or "" (not flagged)
	Flagged int
	Wrong   int
	Missed  int
}

// WrongShare is the share of the flags cleared as wrong, in percent
// (-1 when nothing was flagged).
func (r *DetectorRow) WrongShare() int {
	if r.Flagged == 0 {
		return -1
	}
	return (r.Wrong*100 + r.Flagged/2) / r.Flagged
}

// SafetyCounts are the safety question's counts: how often reporters
// were asked whether they are safe (the detector was unsure of their
// words), and each question's outcome: answered yes, answered no, no
// answer (in time, or the draft was deleted first), or overtaken (the
// report turned urgent first). Asked is their sum, but for questions
// still waiting, and for counts from before overtaken ones were counted.
type SafetyCounts struct {
	Asked, Yes, No, NoAnswer, Overtaken int
}

func (c *SafetyCounts) add(kind string, n int) bool {
	switch kind {
	case store.UrgencyAsked:
		c.Asked += n
	case store.UrgencyAnsweredYes:
		c.Yes += n
	case store.UrgencyAnsweredNo:
		c.No += n
	case store.UrgencyNoAnswer:
		c.NoAnswer += n
	case store.UrgencyOvertaken:
		c.Overtaken += n
	default:
		return false
	}
	return true
}

// DetectorMonth is the feedback of one month (YYYY-MM, China time).
type DetectorMonth struct {
	Month  string
	Rows   []*DetectorRow
	Total  *DetectorRow
	Safety SafetyCounts
}

// Detector is the feedback on the urgency detector, for tuning it.
type Detector struct {
	Rows   []*DetectorRow // since counting began, by reason
	Total  *DetectorRow
	Safety SafetyCounts     // since counting began
	Months []*DetectorMonth // newest first
	// NoSchool are the safety question's counts on drafts dropped before
	// a school was chosen, which no district can claim: the whole
	// hotline's, since counting began (in a district's view only; the
	// view of every district counts them in Safety).
	NoSchool SafetyCounts
}

// Detector returns the counselors' feedback on the urgency detector in a
// district ("" for every district).
func (s *Service) Detector(ctx context.Context, district string) (*Detector, error) {
	counts, err := s.DB.UrgencyCounts(ctx, district)
	if err != nil {
		return nil, err
	}
	all := map[string]*DetectorRow{}
	d := &Detector{Total: &DetectorRow{}}
	var month *DetectorMonth
	var rows map[string]*DetectorRow
	for _, c := range counts {
		if month == nil || month.Month != c.Month {
			if month != nil {
				month.Rows = sortRows(rows)
			}
			month = &DetectorMonth{Month: c.Month, Total: &DetectorRow{}}
			rows = map[string]*DetectorRow{}
			d.Months = append(d.Months, month)
		}
		if month.Safety.add(c.Kind, c.N) {
			d.Safety.add(c.Kind, c.N)
			continue
		}
		for _, r := range []*DetectorRow{row(rows, c.Reason), month.Total, row(all, c.Reason), d.Total} {
			r.add(c)
		}
	}
	if month != nil {
		month.Rows = sortRows(rows)
	}
	d.Rows = sortRows(all)
	if district != "" {
		none, err := s.DB.UrgencyCounts(ctx, store.DistrictNoSchool)
		if err != nil {
			return nil, err
		}
		for _, c := range none {
			d.NoSchool.add(c.Kind, c.N)
		}
	}
	return d, nil
}

func row(m map[string]*DetectorRow, reason string) *DetectorRow {
	r := m[reason]
	if r == nil {
		r = &DetectorRow{Reason: reason}
		m[reason] = r
	}
	return r
}

func (r *DetectorRow) add(c store.UrgencyCount) {
	switch c.Kind {
	case store.UrgencyFlagged:
		r.Flagged += c.N
	case store.UrgencyWrong:
		r.Wrong += c.N
	case store.UrgencyMissed:
		r.Missed += c.N
	}
}

// sortRows orders the detector's own categories by name, then the flags
// the reporter raised, then the misses.
func sortRows(m map[string]*DetectorRow) []*DetectorRow {
	out := make([]*DetectorRow, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	rank := func(reason string) int {
		switch reason {
		case "":
			return 2
		case "reporter":
			return 1
		}
		return 0
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := rank(out[i].Reason), rank(out[j].Reason); a != b {
			return a < b
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
