package district

import (
	"context"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Bounds of a district's case deadlines: shorter would page staff at
// night for nothing, longer would leave a case outside the net.
const (
	MinCaseDeadline = time.Hour
	MaxCaseDeadline = 90 * 24 * time.Hour
)

// Deadlines returns the case deadlines a district set (zero fields: the
// default, hotline.DefaultCaseDeadlines, applies).
func (s *Service) Deadlines(ctx context.Context, district string) (hotline.CaseDeadlines, error) {
	return s.DB.DistrictDeadlines(ctx, district)
}

// errDeadlineRange and errDeadlineOrder are the mistakes SetDeadlines
// refuses, with messages for the page.
var (
	errDeadlineRange = hotline.Errorf(hotline.EINVALID, "每个时限应在 1 小时到 90 天之间（留空即用默认值）。", "Each deadline must be between 1 hour and 90 days (leave it empty for the default).")
	errDeadlineOrder = hotline.Errorf(hotline.EINVALID, "情节越重，时限应越短：涉嫌违法犯罪 ≤ 严重 ≤ 较重 ≤ 轻微。", "The graver the case, the shorter its deadline: criminal ≤ severe ≤ serious ≤ minor.")
)

// SetDeadlines saves a district's case deadlines: each 0 (the default) or
// between MinCaseDeadline and MaxCaseDeadline, graver severities no
// longer than lighter ones. They apply from each case's next action.
func (s *Service) SetDeadlines(ctx context.Context, district string, d hotline.CaseDeadlines) error {
	for _, v := range []hotline.Duration{d.Assess, d.Minor, d.Serious, d.Severe, d.Criminal} {
		if v != 0 && (v.D() < MinCaseDeadline || v.D() > MaxCaseDeadline) {
			return errDeadlineRange
		}
	}
	if f := d.WithDefaults(); f.Criminal > f.Severe || f.Severe > f.Serious || f.Serious > f.Minor {
		return errDeadlineOrder
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetDistrictDeadlines(district, d) })
}
