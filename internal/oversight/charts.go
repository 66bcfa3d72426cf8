package oversight

import (
	"strconv"

	"hotline/internal/hotline"
)

// BarChart is a bar chart laid out for a hand-written SVG template: the
// server computes every coordinate, the page needs no script.
type BarChart struct {
	Title  string
	Width  int
	Height int
	Bars   []Bar
	// Max is the value of the top of the scale.
	Max int
}

// Bar is one bar. A suppressed count (1–4) is drawn at the height of the
// threshold and labelled "<5", so that its height tells nothing either.
type Bar struct {
	X, Y, W, H float64
	LabelX     float64
	Label      string
	Value      string
	Small      bool
}

const (
	chartHeight = 160
	chartTop    = 18
	chartBottom = 40
	barWidth    = 36
	barGap      = 14
)

func barChart(title string, labels []string, values []int) *BarChart {
	max := SmallCount
	for _, v := range values {
		if v > max {
			max = v
		}
	}
	c := &BarChart{Title: title, Height: chartHeight + chartTop + chartBottom, Max: max}
	c.Width = barGap + len(values)*(barWidth+barGap)
	for i, v := range values {
		shown := v
		if v > 0 && v < SmallCount {
			shown = SmallCount
		}
		h := float64(shown) / float64(max) * chartHeight
		x := float64(barGap + i*(barWidth+barGap))
		c.Bars = append(c.Bars, Bar{X: x, Y: chartTop + chartHeight - h, W: barWidth, H: h, LabelX: x + barWidth/2,
			Label: labels[i], Value: Suppress(v), Small: v > 0 && v < SmallCount})
	}
	return c
}

// WeekChart charts tips per week.
func WeekChart(weeks []WeekCount, lang hotline.Lang) *BarChart {
	labels := make([]string, len(weeks))
	values := make([]int, len(weeks))
	for i, w := range weeks {
		labels[i] = w.Start.Format("01/02")
		values[i] = w.N
	}
	return barChart(labelIn(lang, "trend"), labels, values)
}

// CategoryChart charts tips by category.
func CategoryChart(s *Stats, lang hotline.Lang) *BarChart {
	var labels []string
	var values []int
	for i, c := range hotline.Categories {
		labels = append(labels, strconv.Itoa(i+1)+" "+short(c.Label().In(lang)))
		values = append(values, s.ByCategory[c])
	}
	return barChart(labelIn(lang, "by_category"), labels, values)
}

// SeverityChart charts tips by severity.
func SeverityChart(s *Stats, lang hotline.Lang) *BarChart {
	var labels []string
	var values []int
	for _, v := range hotline.Severities {
		labels = append(labels, short(v.Label().In(lang)))
		values = append(values, s.BySeverity[v])
	}
	return barChart(labelIn(lang, "by_severity"), labels, values)
}

// ChannelChart charts tips by channel.
func ChannelChart(s *Stats, lang hotline.Lang) *BarChart {
	var labels []string
	var values []int
	for _, v := range hotline.Channels {
		labels = append(labels, short(v.Label().In(lang)))
		values = append(values, s.ByChannel[v])
	}
	return barChart(labelIn(lang, "by_channel"), labels, values)
}

func labelIn(lang hotline.Lang, key string) string { return labels[key].In(lang) }

// short cuts a label to fit under a bar (the full name is in the title).
func short(s string) string {
	r := []rune(s)
	for i, c := range r {
		if c == '（' || c == '(' {
			r = r[:i]
			break
		}
	}
	if len(r) > 6 {
		r = append(r[:6], '…')
	}
	return string(r)
}
