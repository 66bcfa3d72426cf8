package chart

import (
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
)

// TestChartLabelsDoNotOverlap: labels wider than a bar's slot are rotated,
// and every label (rotated or not) stays inside the chart and clear of its
// neighbours.
func TestChartLabelsDoNotOverlap(t *testing.T) {
	s := &district.Stats{ByCategory: map[hotline.Category]int{}, BySeverity: map[hotline.Severity]int{}, ByChannel: map[hotline.Channel]int{}}
	var weeks []district.WeekCount
	for i := range district.Weeks {
		weeks = append(weeks, district.WeekCount{Start: time.Date(2026, 9, 7+7*i, 0, 0, 0, 0, time.UTC), N: i})
	}
	for _, lang := range []hotline.Lang{hotline.LangZH, hotline.LangEN} {
		charts := map[string]*BarChart{
			"category": Categories(s, lang), "severity": Severities(s, lang),
			"channel": Channels(s, lang), "weeks": Weeks(weeks, lang),
		}
		for name, c := range charts {
			slot := float64(barWidth + barGap)
			for i, b := range c.Bars {
				w := labelWidth(b.Label)
				if !c.Rotate {
					if w > slot-4 {
						t.Errorf("%s/%s: label %q (%.0f px) wider than its slot, not rotated", lang, name, b.Label, w)
					}
					continue
				}
				// Rotated labels hang down-left: inside the box…
				if left := b.LabelX - w*cosAngle; left < 0 {
					t.Errorf("%s/%s: label %q starts at x=%.0f", lang, name, b.Label, left)
				}
				if bottom := c.LabelY + w*sinAngle + labelFont; bottom > float64(c.Height) {
					t.Errorf("%s/%s: label %q ends at y=%.0f below %d", lang, name, b.Label, bottom, c.Height)
				}
				// …and parallel lines one slot apart are slot·sin(angle)
				// apart, more than a line of text.
				if i > 0 && slot*sinAngle < labelFont*1.5 {
					t.Errorf("%s/%s: rotated labels too close", lang, name)
				}
				if b.Full == "" || len([]rune(b.Label)) > maxLabelRunes {
					t.Errorf("%s/%s: label %q / full %q", lang, name, b.Label, b.Full)
				}
			}
		}
		if !charts["category"].Rotate {
			t.Errorf("%s: category labels not rotated", lang)
		}
		if charts["weeks"].Rotate {
			t.Errorf("%s: week labels rotated though they fit", lang)
		}
	}
}
