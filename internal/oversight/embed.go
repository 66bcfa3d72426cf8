package oversight

import (
	"bytes"
	"html/template"

	"hotline/internal/district"
	"hotline/internal/hotline"
)

// chartTemplate is the bar chart's SVG template alone, for pages outside
// /district/ that show the same charts (a school's own statistics).
var chartTemplate = template.Must(template.New("charts").Funcs(funcs).ParseFS(assets, "templates/charts.html"))

// SchoolCharts are a school's charts as the district's school page draws
// them: reports per week, by category, by severity, by channel.
func SchoolCharts(s *district.Stats, lang hotline.Lang) []*BarChart {
	return []*BarChart{WeekChart(s.ByWeek, lang), CategoryChart(s, lang), SeverityChart(s, lang), ChannelChart(s, lang)}
}

// ChartSVG renders a chart as inline SVG markup with the district pages'
// template: the same drawing wherever it is shown, no script needed.
func ChartSVG(c *BarChart) (template.HTML, error) {
	var buf bytes.Buffer
	if err := chartTemplate.ExecuteTemplate(&buf, "barchart", c); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil // the template escaped every label
}
