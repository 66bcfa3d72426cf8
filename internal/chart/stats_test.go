package chart

import (
	"strconv"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
)

func TestComputeAndChartsHideSmallCounts(t *testing.T) {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	a := &hotline.School{ID: 1, Code: "a"}
	b := &hotline.School{ID: 2, Code: "b"}
	var tips []*hotline.Tip
	for i := 0; i < 7; i++ {
		tips = append(tips, &hotline.Tip{ID: int64(i + 1), SchoolID: 1, Status: hotline.StatusResolved, Category: hotline.CategoryVerbal, Channel: hotline.ChannelWebchat,
			Severity: hotline.SeverityMinor, CreatedAt: now.Add(-time.Duration(i) * time.Hour), AcknowledgedAt: now.Add(-time.Duration(i)*time.Hour + time.Duration(i+1)*time.Hour/2),
			ResolvedAt: now})
	}
	tips = append(tips, &hotline.Tip{ID: 99, SchoolID: 2, Status: hotline.StatusNew, Category: hotline.CategorySexual, Severity: hotline.SeveritySevere,
		Channel: hotline.ChannelMailbox, CreatedAt: now.Add(-48 * time.Hour), AckDue: now.Add(-24 * time.Hour)})
	per, total := district.Compute([]*hotline.School{a, b}, tips, map[int64]bool{99: true}, now)
	if per[0].Received != 7 || per[1].Received != 1 || total.Received != 8 {
		t.Fatalf("received %d %d %d", per[0].Received, per[1].Received, total.Received)
	}
	if per[1].Overdue != 1 || per[1].Missed != 1 || per[1].NeedsEscalation != 1 || per[0].Open != 0 {
		t.Errorf("b: %+v", per[1])
	}
	// Acknowledged after 0.5, 1, …, 3.5 h: the median is 2 h.
	if m := per[0].MedianAck; m.N != 7 || m.D != 2*time.Hour {
		t.Errorf("median ack = %v over %d", m.D, m.N)
	}
	c := Categories(per[1], hotline.LangZH)
	for i, bar := range c.Bars {
		if hotline.Categories[i] == hotline.CategorySexual {
			if bar.Value != "<5" || !bar.Small || bar.H != suppressedHeight {
				t.Errorf("small bar %+v: want \"<5\" as a low box of the suppressed height", bar)
			}
		} else if bar.Value != "0" || bar.H != 0 {
			t.Errorf("empty bar %+v", bar)
		}
	}
	if w := per[0].ByWeek; len(w) != district.Weeks || w[district.Weeks-1].N != 7 {
		t.Errorf("weeks %+v", w)
	}
}

// A "<5" bar is one low dashed box whatever its count (1–4), and never
// the height of the chart's largest bar: not on a chart of small counts
// only, nor beside a large count.
func TestSuppressedBarsAreNotTall(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []int
	}{
		{"only small counts", []int{1, 0, 4, 0}},
		{"small beside large", []int{3, 50, 2, 0}},
		{"small beside the threshold", []int{1, 5, 4, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := barChart("t", []string{"a", "b", "c", "d"}, tc.values)
			tallest := 0.0
			for _, b := range c.Bars {
				tallest = max64(tallest, b.H)
			}
			for i, b := range c.Bars {
				v := tc.values[i]
				switch {
				case v > 0 && v < 5:
					if b.Value != "<5" || !b.Small || b.H != suppressedHeight || b.H >= chartHeight/4 {
						t.Errorf("bar %d (%d) = %+v, want \"<5\", small, %v high", i, v, b, suppressedHeight)
					}
				case v == 0:
					if b.H != 0 {
						t.Errorf("bar %d (0) is %v high", i, b.H)
					}
				default:
					if b.Small || b.Value != strconv.Itoa(v) || b.H < suppressedHeight {
						t.Errorf("bar %d (%d) = %+v", i, v, b)
					}
				}
			}
		})
	}
}
