package survey

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Measure is a rectification measure (整改措施) tied to a finding of a
// survey: what is done, by whom, by when, and when it was done.
type Measure struct {
	UID      string
	SurveyID int64
	Finding  string // an indicator key, e.g. "place:toilet" or "bullied"
	What     string
	Who      string
	Due      time.Time
	Done     time.Time
}

// Overdue reports whether the measure is open past its deadline.
func (m *Measure) Overdue(now time.Time) bool { return m.Done.IsZero() && now.After(m.Due) }

// NewMeasure is what staff fill in.
type NewMeasure struct {
	Finding string
	What    string
	Who     string
	Due     time.Time
}

// AddMeasure records a measure for a survey of the caller's school and a
// content-free ledger event (the finding's key and the deadline).
func (s *Service) AddMeasure(ctx context.Context, by Caller, uid string, in NewMeasure) (*Measure, error) {
	sv, err := s.Get(ctx, by, uid)
	if err != nil {
		return nil, err
	}
	if by.Role == hotline.RoleDistrict {
		return nil, hotline.ErrForbidden
	}
	in.What, in.Who = strings.TrimSpace(in.What), strings.TrimSpace(in.Who)
	if in.What == "" || in.Who == "" || in.Due.IsZero() {
		return nil, hotline.Errorf(hotline.EINVALID, "请写明措施、负责人和完成期限。", "Please give the measure, who is responsible and the deadline.")
	}
	if utf8.RuneCountInString(in.What) > 500 || utf8.RuneCountInString(in.Who) > 100 || !utf8.ValidString(in.What+in.Who) {
		return nil, hotline.Errorf(hotline.EINVALID, "内容太长了。", "The text is too long.")
	}
	known := in.Finding == ""
	for _, ind := range Indicators(sv) {
		if ind.Key == in.Finding {
			known = true
		}
	}
	if !known || strings.ContainsAny(in.Finding, " |=") {
		return nil, hotline.Errorf(hotline.EINVALID, "请选择对应的发现。", "Please choose the finding.")
	}
	m := &Measure{UID: vault.NewID(), SurveyID: sv.ID, Finding: in.Finding, What: in.What, Who: in.Who, Due: in.Due}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		row := &store.MeasureRow{UID: m.UID, SchoolID: sv.SchoolID, SurveyID: sv.ID, Finding: m.Finding, What: m.What, Who: m.Who, DueAt: store.Micros(m.Due), CreatedBy: by.ID}
		if err := tx.InsertMeasure(row); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: sv.SchoolID, Kind: hotline.EventMeasureRecorded, ActorID: by.ID,
			Detail: "survey=" + sv.UID[:8] + " finding=" + findingOrNone(m.Finding) + " deadline=" + m.Due.In(Zone).Format("2006-01-02")})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func findingOrNone(f string) string {
	if f == "" {
		return "general"
	}
	return f
}

// DoneMeasure marks a measure of the caller's school done.
func (s *Service) DoneMeasure(ctx context.Context, by Caller, measureUID string) error {
	if by.Role == hotline.RoleDistrict {
		return hotline.ErrForbidden
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		m, err := tx.MeasureForUpdate(measureUID)
		if err != nil {
			return err
		}
		if m.SchoolID != by.SchoolID {
			return hotline.ErrNotFound
		}
		if m.DoneAt != 0 {
			return nil
		}
		if err := tx.SetMeasureDone(m.ID); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: m.SchoolID, Kind: hotline.EventMeasureDone, ActorID: by.ID,
			Detail: "finding=" + findingOrNone(m.Finding)})
	})
}

// Measures lists the measures of a school for one survey (all when
// surveyID is 0).
func (s *Service) Measures(ctx context.Context, schoolID, surveyID int64) ([]*Measure, error) {
	rows, err := s.DB.MeasuresOfSchool(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	var out []*Measure
	for _, r := range rows {
		if surveyID != 0 && r.SurveyID != surveyID {
			continue
		}
		m := &Measure{UID: r.UID, SurveyID: r.SurveyID, Finding: r.Finding, What: r.What, Who: r.Who, Due: time.UnixMicro(r.DueAt).UTC()}
		if r.DoneAt != 0 {
			m.Done = time.UnixMicro(r.DoneAt).UTC()
		}
		out = append(out, m)
	}
	return out, nil
}

// SchoolMeasures is a school's measure counts, for the district.
type SchoolMeasures struct {
	School               *hotline.School
	Total, Open, Overdue int
}

// DistrictMeasures counts the measures of every school of the officer's
// district: which have open or overdue ones.
func (s *Service) DistrictMeasures(ctx context.Context, by Caller) ([]*SchoolMeasures, error) {
	if by.Role != hotline.RoleDistrict {
		return nil, hotline.ErrForbidden
	}
	schools, err := s.DB.Schools(ctx, by.District)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(schools))
	for i, sc := range schools {
		ids[i] = sc.ID
	}
	counts, err := s.DB.MeasureCounts(ctx, ids, s.Now())
	if err != nil {
		return nil, err
	}
	byID := map[int64]*store.MeasureCount{}
	for _, c := range counts {
		byID[c.SchoolID] = c
	}
	out := make([]*SchoolMeasures, 0, len(schools))
	for _, sc := range schools {
		m := &SchoolMeasures{School: sc}
		if c := byID[sc.ID]; c != nil {
			m.Total, m.Open, m.Overdue = c.Total, c.Open, c.Overdue
		}
		out = append(out, m)
	}
	return out, nil
}
