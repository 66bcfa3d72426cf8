package surveyweb

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/survey"
)

type resultRow struct {
	Depth int
	Unit  *survey.Unit
	Cells []*survey.Cell
}

type compareRow struct {
	Label hotline.Label
	Key   string
	Cells []*survey.Cell
	// Shown are the cells as the table shows them: "—" for a wave that
	// has not opened (it has no answers yet, which is not "0").
	Shown  []string
	Change string // percentage points, when both waves show
}

type resultsData struct {
	Res      *survey.Results
	Wave     *survey.WaveResult
	Main     []survey.Indicator
	Forms    []survey.Indicator
	Places   []survey.Indicator
	Times    []survey.Indicator
	Rows     []resultRow
	FormRows []resultRow
	Hot      [][]*survey.Cell
	PlaceSum []*survey.Cell
	TimeSum  []*survey.Cell
	Compare  []compareRow
	Chart    template.HTML
	Measures []*survey.Measure
	Findings []survey.Indicator
	Texts    []string
	// TextsHeld counts free texts kept back: from a class of fewer than 5
	// respondents, or all of them when fewer than 5 could be shown.
	TextsHeld int
}

func pick(inds []survey.Indicator, group string) []survey.Indicator {
	var out []survey.Indicator
	for _, ind := range inds {
		if ind.Group == group {
			out = append(out, ind)
		}
	}
	return out
}

func rowsOf(root *survey.Unit, inds []survey.Indicator) []resultRow {
	var out []resultRow
	root.Walk(func(u *survey.Unit, d int) {
		row := resultRow{Depth: d, Unit: u}
		for _, ind := range inds {
			row.Cells = append(row.Cells, u.Cells[ind.Key])
		}
		out = append(out, row)
	})
	return out
}

func (h *Staff) handleResults(w http.ResponseWriter, r *http.Request, sp *staffPage) {
	res, err := h.results(r, sp)
	if err != nil {
		h.fail(w, r, sp, err)
		return
	}
	d := &resultsData{Res: res, Main: pick(res.Indicators, "main"), Forms: pick(res.Indicators, "form"),
		Places: pick(res.Indicators, "place"), Times: pick(res.Indicators, "time")}
	// The wave shown: ?wave=N, else the latest published wave with
	// answers, else the first.
	n, _ := strconv.Atoi(r.URL.Query().Get("wave"))
	for _, wr := range res.Waves {
		switch {
		case n != 0 && wr.Wave.N == n, n == 0 && d.Wave == nil:
			d.Wave = wr
		case n == 0 && wr.Published && wr.Root.N.K > 0:
			d.Wave = wr
		}
	}
	if d.Wave == nil {
		h.fail(w, r, sp, hotline.ErrNotFound)
		return
	}
	if root := d.Wave.Root; d.Wave.Published {
		d.Rows = rowsOf(root, d.Main)
		d.FormRows = rowsOf(root, d.Forms)
		for _, p := range d.Places {
			var row []*survey.Cell
			for _, t := range d.Times {
				row = append(row, root.Cells["hot:"+p.Key[len("place:"):]+":"+t.Key[len("time:"):]])
			}
			d.Hot = append(d.Hot, row)
			d.PlaceSum = append(d.PlaceSum, root.Cells[p.Key])
		}
		for _, t := range d.Times {
			d.TimeSum = append(d.TimeSum, root.Cells[t.Key])
		}
		d.Texts, d.TextsHeld = d.Wave.Texts, d.Wave.TextsHeld
	}
	for _, ind := range append(append([]survey.Indicator{}, d.Main...), d.Forms...) {
		cr := compareRow{Label: ind.Label, Key: ind.Key}
		for _, wr := range res.Waves {
			var c *survey.Cell // a wave not yet published shows nothing
			if wr.Published {
				c = wr.Root.Cells[ind.Key]
			}
			cr.Cells = append(cr.Cells, c)
			if wr.Wave.State(sp.Now) == survey.NotOpen {
				cr.Shown = append(cr.Shown, "—")
			} else {
				cr.Shown = append(cr.Shown, c.String())
			}
		}
		if len(cr.Cells) >= 2 {
			a, b := cr.Cells[0], cr.Cells[len(cr.Cells)-1]
			// Only from two shown cells: a change beside one shown share
			// would give the hidden one away.
			if a != nil && b != nil && !a.Hidden && !b.Hidden && a.Base > 0 && b.Base > 0 {
				cr.Change = fmt.Sprintf("%+d", b.Share()-a.Share())
			}
		}
		d.Compare = append(d.Compare, cr)
	}
	d.Chart = compareChart(d.Compare, res.Waves, sp.Lang)
	d.Findings = append(append(append([]survey.Indicator{}, d.Main...), d.Forms...), d.Places...)
	d.Findings = append(d.Findings, d.Times...)
	if !sp.District {
		if d.Measures, err = h.svc.Measures(r.Context(), res.Survey.SchoolID, res.Survey.ID); err != nil {
			h.fail(w, r, sp, err)
			return
		}
	}
	sp.Title, sp.Data = sp.T("results")+" · "+res.Survey.Title.In(sp.Lang), d
	h.pages.Render(w, http.StatusOK, "results", sp)
}

// FindingLabel names a measure's finding.
func (d *resultsData) FindingLabel(key string, lang hotline.Lang) string {
	for _, ind := range d.Res.Indicators {
		if ind.Key == key {
			return ind.Label.In(lang)
		}
	}
	if key == "" {
		return staffTexts["general"].In(lang)
	}
	return key
}

// compareChart draws the shares of every wave side by side as horizontal
// bars, as the district view draws its charts: plain SVG, no script. A
// hidden cell draws no bar and says why.
func compareChart(rows []compareRow, waves []*survey.WaveResult, lang hotline.Lang) template.HTML {
	const labelW, barW, rowH, barH = 330, 300, 14, 12
	colors := []string{"#9db4cc", "#1f4e79", "#c0504d"}
	nw := len(waves)
	height := 30 + len(rows)*(nw*rowH+10)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="100%%" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		labelW+barW+70, height, template.HTMLEscapeString(staffTexts["chart_title"].In(lang)))
	for i, wr := range waves {
		x := labelW + i*150
		fmt.Fprintf(&b, `<rect x="%d" y="4" width="12" height="12" fill="%s"/><text x="%d" y="14" font-size="12">%s</text>`,
			x, colors[i%len(colors)], x+16, template.HTMLEscapeString(wr.Wave.Name.In(lang)))
	}
	y := 30
	for _, r := range rows {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end">%s</text>`, labelW-6, y+rowH*nw/2+4, template.HTMLEscapeString(truncate(r.Label.In(lang), 30)))
		for i, c := range r.Cells {
			yy := y + i*rowH
			switch {
			case c == nil:
				// not published yet: no bar
			case c.Hidden:
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#666">%s</text>`, labelW+4, yy+barH-2, template.HTMLEscapeString(c.String()))
			case c.Base == 0:
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#666">—</text>`, labelW+4, yy+barH-2)
			default:
				wd := barW * c.Share() / 100
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s</title></rect><text x="%d" y="%d" font-size="11">%d%%</text>`,
					labelW, yy, wd, barH, colors[i%len(colors)], template.HTMLEscapeString(c.String()), labelW+wd+4, yy+barH-2, c.Share())
			}
		}
		y += nw*rowH + 10
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
