// Package chart draws the statistics' bar charts as inline SVG, laid out
// on the server so that no page needs a script: the district's pages and a
// school's own statistics page draw the same figures with this one code,
// so the two never disagree. Counts of 1 to 4 are drawn as one low dashed
// box labelled "<5" (district.Suppress), never to scale. It renders only;
// it never computes a figure (internal/district does).
package chart

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"
	"strings"

	"hotline/internal/district"
	"hotline/internal/hotline"
)

//go:embed barchart.html
var assets embed.FS

// svg is the bar chart's SVG template, parsed at start-up: a broken one
// fails the start.
var svg = template.Must(template.New("barchart").ParseFS(assets, "barchart.html"))

// SVG renders a chart as inline SVG markup: the same drawing wherever it
// is shown, no script needed.
func SVG(c *BarChart) (template.HTML, error) {
	var buf bytes.Buffer
	if err := svg.ExecuteTemplate(&buf, "barchart", c); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil // the template escaped every label
}

// School is a school's charts as the district's school page draws them:
// reports per week, by category, by severity, by channel.
func School(s *district.Stats, lang hotline.Lang) []*BarChart {
	return []*BarChart{Weeks(s.ByWeek, lang), Categories(s, lang), Severities(s, lang), Channels(s, lang)}
}

// titles are the charts' captions, zh-CN first.
var titles = map[string]hotline.Label{
	"trend":       {ZH: "每周收到的报告", EN: "Reports received per week"},
	"by_category": {ZH: "按类别", EN: "By category"},
	"by_severity": {ZH: "按情节", EN: "By severity"},
	"by_channel":  {ZH: "按渠道", EN: "By channel"},
}

// BarChart is a bar chart laid out for a hand-written SVG template: the
// server computes every coordinate, the page needs no script.
type BarChart struct {
	Title  string
	Width  int
	Height int
	Bars   []Bar
	// Max is the value of the top of the scale.
	Max int
	// AxisY is the baseline of the bars; LabelY the line the labels hang
	// from. Rotate turns the labels 40° when they are wider than a bar's
	// slot, so that neighbours never overlap.
	AxisY, LabelY float64
	Rotate        bool
}

// Bar is one bar. A suppressed count (1–4) is drawn as a low dashed box of
// one fixed height whatever the count, labelled "<5": its height tells
// nothing, and it never looks like the largest bar (drawn at the
// threshold's height, on a chart of small counts it reached the top).
type Bar struct {
	X, Y, W, H float64
	LabelX     float64
	Label      string // shown under the bar, maybe shortened
	Full       string // the whole label, for the tooltip
	Value      string
	Small      bool
}

const (
	chartHeight = 160
	chartTop    = 18
	chartBottom = 40
	barWidth    = 36
	barGap      = 14
	labelFont   = 10.0 // px, as in district.css (.chart text)
	labelAngle  = 40.0 // degrees, when labels are rotated
	// suppressedHeight is the one height of every "<5" box: low, so that
	// it never reads as a large count.
	suppressedHeight = 14.0
)

// labelWidth estimates a label's width at labelFont: CJK and full-width
// characters are about one em, others about 0.58 em.
func labelWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += labelFont
		} else {
			w += labelFont * 0.58
		}
	}
	return w
}

// sin and cos of labelAngle, without importing math for two constants.
const (
	sinAngle = 0.6428
	cosAngle = 0.7660
)

func barChart(title string, labels []string, values []int) *BarChart {
	// The scale's top is the largest count shown as a number.
	max := district.SmallCount
	for _, v := range values {
		if v > max {
			max = v
		}
	}
	widest := 0.0
	for _, l := range labels {
		widest = max64(widest, labelWidth(short(l)))
	}
	c := &BarChart{Title: title, Max: max, AxisY: chartTop + chartHeight, LabelY: chartTop + chartHeight + 16}
	// Labels wider than a slot are rotated and hang down-left from the
	// bar's centre: the chart gets room below and, for the first bars,
	// on the left.
	pad, bottom := 0.0, float64(chartBottom)
	if widest > barWidth+barGap-4 {
		c.Rotate = true
		c.LabelY = chartTop + chartHeight + 12
		bottom = 12 + widest*sinAngle + labelFont + 4
		pad = max64(0, widest*cosAngle-(barGap+barWidth/2)+4)
	}
	c.Height = int(chartTop + chartHeight + bottom + 0.5)
	c.Width = int(pad+0.5) + barGap + len(values)*(barWidth+barGap)
	for i, v := range values {
		h := float64(v) / float64(max) * chartHeight
		if v > 0 && v < district.SmallCount {
			h = suppressedHeight
		}
		x := float64(int(pad+0.5) + barGap + i*(barWidth+barGap))
		c.Bars = append(c.Bars, Bar{X: x, Y: chartTop + chartHeight - h, W: barWidth, H: h, LabelX: x + barWidth/2,
			Label: short(labels[i]), Full: labels[i], Value: district.Suppress(v), Small: v > 0 && v < district.SmallCount})
	}
	return c
}

func max64(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

// Weeks charts tips per week.
func Weeks(weeks []district.WeekCount, lang hotline.Lang) *BarChart {
	labels := make([]string, len(weeks))
	values := make([]int, len(weeks))
	for i, w := range weeks {
		labels[i] = w.Start.Format("01/02")
		values[i] = w.N
	}
	return barChart(labelIn(lang, "trend"), labels, values)
}

// Categories charts tips by category.
func Categories(s *district.Stats, lang hotline.Lang) *BarChart {
	var labels []string
	var values []int
	for i, c := range hotline.Categories {
		labels = append(labels, strconv.Itoa(i+1)+" "+cutParen(c.Label().In(lang)))
		values = append(values, s.ByCategory[c])
	}
	return barChart(labelIn(lang, "by_category"), labels, values)
}

// Severities charts tips by severity.
func Severities(s *district.Stats, lang hotline.Lang) *BarChart {
	return byEnum(labelIn(lang, "by_severity"), hotline.Severities, s.BySeverity, lang)
}

// Channels charts tips by channel.
func Channels(s *district.Stats, lang hotline.Lang) *BarChart {
	return byEnum(labelIn(lang, "by_channel"), hotline.Channels, s.ByChannel, lang)
}

// byEnum charts counts by the values of a domain enum, in its display
// order, each named by its label without the explanation in parentheses.
func byEnum[E interface {
	comparable
	Label() hotline.Label
}](title string, order []E, counts map[E]int, lang hotline.Lang) *BarChart {
	labels := make([]string, len(order))
	values := make([]int, len(order))
	for i, v := range order {
		labels[i], values[i] = cutParen(v.Label().In(lang)), counts[v]
	}
	return barChart(title, labels, values)
}

func labelIn(lang hotline.Lang, key string) string { return titles[key].In(lang) }

// cutParen drops a label's parenthesised explanation: "身体欺凌（打、踢、
// 推搡）" is "身体欺凌" under a bar.
func cutParen(s string) string {
	r := []rune(s)
	for i, c := range r {
		if c == '（' || c == '(' {
			return strings.TrimSpace(string(r[:i]))
		}
	}
	return s
}

// maxLabelRunes bounds a label under a bar; rotated, it still fits.
const maxLabelRunes = 16

// short cuts a label to fit under a bar (the full name is in the title).
func short(s string) string {
	r := []rune(cutParen(s))
	if len(r) > maxLabelRunes {
		r = append(r[:maxLabelRunes-1], '…')
	}
	return string(r)
}
