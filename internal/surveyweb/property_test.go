package surveyweb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
	"hotline/internal/vault"
)

// classSizes leans towards the small classes that suppression is about.
var classSizes = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 14, 18, 25, 33, 40}

// randomAnswers answers the questionnaire as a pupil of a class whose
// bullying rate is rate (0..1) might: frequencies lean to "not at all",
// rare forms stay rare, some questions are skipped.
func randomAnswers(rng *rand.Rand, sv *survey.Survey, rate float64) survey.Answers {
	a := survey.Answers{}
	for _, q := range sv.Questions {
		if q.Kind == survey.Text || rng.Float64() < 0.04 {
			continue
		}
		switch q.Kind {
		case survey.Multiple:
			for _, o := range q.Options {
				if rng.Float64() < 0.15*rate*2 {
					a[q.ID] = append(a[q.ID], o.Key)
				}
			}
		case survey.Scale:
			x := rng.Float64()
			i := 0
			for _, w := range []float64{1 - 0.5*rate, 0.25 * rate, 0.1 * rate, 0.08 * rate} {
				if x < w {
					break
				}
				x -= w
				i++
			}
			a[q.ID] = []string{q.Options[min(i, len(q.Options)-1)].Key}
		default:
			o := q.Options[rng.IntN(len(q.Options))]
			if (q.ID == survey.QTold || q.ID == survey.QAdult) && rng.Float64() < 1-rate {
				o = q.Options[0] // "not bullied"
			}
			a[q.ID] = []string{o.Key}
		}
	}
	return a
}

// seedDistrict is one generated district: its survey's copies and the
// sessions that read them.
type seedDistrict struct {
	name    string
	officer string            // session name
	uid     string            // a copy's uid, for the district's pages
	schools map[string]string // session name → its copy's uid
	sv      *survey.Survey
	waves   []*survey.Wave
}

// makeDistrict builds a district of 2–4 schools, each of 1–3 grades of
// 1–4 classes, a district survey with an added single-choice question,
// codes for every class and random responses in both waves, all stored.
func (e *env) makeDistrict(t *testing.T, seed int) *seedDistrict {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(seed), 25))
	d := &seedDistrict{name: fmt.Sprintf("测试区%02d", seed), officer: fmt.Sprintf("o%d", seed), schools: map[string]string{}}
	cd, err := e.st.CreateDistrict(ctx, d.name, fmt.Sprintf("officer-%d", seed))
	if err != nil {
		t.Fatal(err)
	}
	officer := e.as(d.officer, cd.Officer.Username, cd.OfficerPassword)
	type school struct {
		cs   *staff.CreatedSchool
		sess string
	}
	var schools []school
	for i := range 2 + rng.IntN(3) {
		cs, err := e.st.CreateSchool(ctx, staff.NewSchool{Code: fmt.Sprintf("d%ds%d", seed, i), Name: fmt.Sprintf("第%d中学", i+1), District: d.name})
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("a%d-%d", seed, i)
		e.as(name, cs.Admin.Username, cs.AdminPassword)
		schools = append(schools, school{cs, name})
	}
	now := e.clock.Now()
	made, err := e.svc.Create(ctx, officer.Counselor, survey.NewSurvey{BaselineOpens: now.Add(time.Hour), BaselineCloses: now.Add(2 * time.Hour),
		FollowUpOpens: now.Add(3 * time.Hour), FollowUpCloses: now.Add(4 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d.uid = made[0].UID
	if err := e.svc.Apply(ctx, officer.Counselor, d.uid, survey.Edit{Op: "add", Kind: survey.Single,
		Text: hotline.Label{ZH: "你住校吗？", EN: "Do you board?"}, OptionsZH: []string{"住校", "走读", "有时"}, OptionsEN: []string{"Board", "Day", "Sometimes"}}); err != nil {
		t.Fatal(err)
	}
	grades := []string{"初一", "初二", "初三"}
	var rows []*store.SurveyResponseRow
	for i, sc := range schools {
		copies, err := e.svc.List(ctx, sc.cs.Admin)
		if err != nil || len(copies) != 1 {
			t.Fatalf("school %d copies: %v %v", i, copies, err)
		}
		sv := copies[0]
		d.schools[sc.sess], d.sv, d.waves = sv.UID, sv, sv.Waves
		for g := range 1 + rng.IntN(3) {
			for c := range 1 + rng.IntN(4) {
				class := survey.Class{Grade: grades[g], Class: fmt.Sprint(c + 1)}
				rate := rng.Float64()
				for _, w := range sv.Waves {
					size := classSizes[rng.IntN(len(classSizes))]
					if _, err := e.svc.PrintCodes(ctx, sc.cs.Admin, sv.UID, w.N, class, size+1); err != nil {
						t.Fatal(err)
					}
					for range size {
						b, _ := json.Marshal(randomAnswers(rng, sv, rate))
						rows = append(rows, &store.SurveyResponseRow{UID: vault.NewID(), WaveID: w.ID, Grade: class.Grade, Class: class.Class,
							Day: store.Micros(survey.Day(now)), Answers: string(b)})
					}
				}
			}
		}
	}
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		for _, r := range rows {
			if err := tx.InsertSurveyResponse(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPublishedResultsCannotBeDifferenced generates districts of random
// results, publishes them as the pages and the CSV do — the district's
// view and every school's — and attacks the published figures together:
// every subtraction along the tree (class, grade, school, district), chained,
// with every bound, across views and across two publications of a closed
// wave. No hidden figure may come out as 1–4 pupils. It also checks that
// a shown cell never is 1–4 pupils itself, that every view hides alike,
// that the pages show what the CSV says, and that a change between waves
// is shown only between two shown cells.
func TestPublishedResultsCannotBeDifferenced(t *testing.T) {
	e := newEnv(t)
	seeds := 10
	if n, err := strconv.Atoi(os.Getenv("HOTLINE_SURVEY_SEEDS")); err == nil && n > 0 {
		seeds = n // a longer hunt: HOTLINE_SURVEY_SEEDS=500
	}
	if testing.Short() {
		seeds = 3
	}
	totals := map[string]int{}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			d := e.makeDistrict(t, seed)
			e.clock.Set(d.waves[len(d.waves)-1].PublishedAt().Add(time.Minute))
			checkPublication(t, e, d, totals)
		})
	}
	t.Logf("over %d districts: %v", seeds, totals)
	if totals["hidden"] == 0 || totals["attacked"] == 0 {
		t.Fatal("nothing was hidden or attacked: the test shows nothing")
	}
}

func checkPublication(t *testing.T, e *env, d *seedDistrict, totals map[string]int) {
	inds := survey.Indicators(d.sv)
	first := map[string]string{} // the district's CSV at publication
	for _, w := range d.waves {
		wave := w.Name.ZH
		_, csvBody := e.get(d.officer, "/district/surveys/"+d.uid+"/results.csv")
		first[wave] = csvBody
		views := map[string]*published{"district": parseCSV(t, csvBody, wave, "", len(inds))}
		checkPage(t, e, d.officer, "/district/surveys/"+d.uid, w.N, views["district"], inds)
		for sess, uid := range d.schools {
			_, body := e.get(sess, "/inbox/surveys/"+uid+"/results.csv")
			views[sess] = parseCSV(t, body, wave, "/"+d.name, len(inds))
			checkPage(t, e, sess, "/inbox/surveys/"+uid, w.N, views[sess], inds)
		}
		attack(t, d, w, views, inds, totals)
	}
	// A second publication of the closed waves, a month on, is the same.
	e.clock.Set(e.clock.Now().Add(30 * 24 * time.Hour))
	_, again := e.get(d.officer, "/district/surveys/"+d.uid+"/results.csv")
	if again != first[d.waves[0].Name.ZH] {
		t.Fatal("the district's CSV changed between two publications of closed waves")
	}
}

// checkPage compares a results page's tables with the CSV's figures, and
// checks the wave-against-wave table.
func checkPage(t *testing.T, e *env, as, base string, wave int, p *published, inds []survey.Indicator) {
	t.Helper()
	_, page := e.get(as, fmt.Sprintf("%s/results?wave=%d", base, wave))
	for _, table := range []struct {
		id, group string
	}{{"main", "main"}, {"forms", "form"}} {
		var cols []int
		for i, ind := range inds {
			if ind.Group == table.group {
				cols = append(cols, i)
			}
		}
		rows := pageRows(page, table.id)
		if len(rows) != len(p.units) {
			t.Fatalf("%s %s: %d page rows, %d CSV rows", base, table.id, len(rows), len(p.units))
		}
		for r, row := range rows {
			u := p.units[r]
			cells := row[2:]
			if table.id == "main" {
				if got, err := parseCount(cells[0]); err != nil || got != u.n {
					t.Fatalf("%s %s: page N %q, CSV %+v", base, u.path, cells[0], u.n)
				}
				cells = cells[1:]
			}
			if row[0] != fmt.Sprint(u.depth) || !strings.HasSuffix(u.path, "/"+row[1]) || len(cells) != len(cols) {
				t.Fatalf("%s: page row %q against CSV unit %s (depth %d)", base, row, u.path, u.depth)
			}
			for j, c := range cells {
				if got, err := parseCell(c); err != nil || got != u.cells[cols[j]] {
					t.Fatalf("%s %s %s: page %q, CSV %+v", base, u.path, inds[cols[j]].Key, c, u.cells[cols[j]])
				}
			}
		}
	}
	// A change between waves only between two shown cells.
	i := strings.Index(page, `<table id="compare">`)
	body := page[i : i+strings.Index(page[i:], "</table>")]
	for _, tr := range strings.Split(body, "<tr>")[2:] {
		var tds []string
		for _, td := range strings.Split(tr, "<td>")[1:] {
			tds = append(tds, td[:strings.Index(td, "</td>")])
		}
		change := tds[len(tds)-1]
		for _, c := range tds[:len(tds)-1] {
			if change != "" && (c == survey.HiddenMark || c == "") {
				t.Fatalf("%s: a change %q beside a hidden or unpublished cell: %q", base, change, tds)
			}
		}
	}
}

// attack builds the reader's equations over the union of the views of one
// wave and looks for hidden figures pinned to 1–4 pupils.
func attack(t *testing.T, d *seedDistrict, w *survey.Wave, views map[string]*published, inds []survey.Indicator, totals map[string]int) {
	t.Helper()
	tree := views["district"]
	// The union of what every view shows, and the same pattern in each.
	byPath := map[string]*pubUnit{}
	for _, u := range tree.units {
		byPath[u.path] = u
	}
	for name, v := range views {
		for _, u := range v.units {
			du := byPath[u.path]
			if du == nil {
				t.Fatalf("%s shows %s, which the district's view has not", name, u.path)
			}
			if u.n != du.n {
				t.Fatalf("%s: %s respondents %+v, the district's view %+v", name, u.path, u.n, du.n)
			}
			for i := range inds {
				if u.cells[i] != du.cells[i] {
					t.Fatalf("%s: %s %s = %+v, the district's view %+v", name, u.path, inds[i].Key, u.cells[i], du.cells[i])
				}
			}
		}
	}
	// Groups of indicators that share a base; options of single-choice
	// added questions, which sum to their base.
	groups := map[string][]int{}
	for i, ind := range inds {
		if ind.BaseKey() != "all" {
			groups[ind.BaseKey()] = append(groups[ind.BaseKey()], i)
		}
	}
	partitions := map[string]bool{}
	for _, q := range d.sv.Questions {
		if strings.HasPrefix(q.ID, "c") && (q.Kind == survey.Single || q.Kind == survey.Scale) {
			partitions["answered:"+q.ID] = true
		}
	}
	a := &attacker{}
	type vars struct {
		n    int
		k, c []int
		b, e map[string]int // per base group: base and non-base (N − B)
	}
	vs := map[*pubUnit]*vars{}
	for _, u := range tree.units {
		x := &vars{n: a.variable(), k: make([]int, len(inds)), c: make([]int, len(inds)), b: map[string]int{}, e: map[string]int{}}
		vs[u] = x
		for g := range groups {
			x.b[g], x.e[g] = a.variable(), a.variable()
			a.sum(0, plus(x.b[g]), plus(x.e[g]), minus(x.n))
		}
		for i, ind := range inds {
			x.k[i], x.c[i] = a.variable(), a.variable()
			base := x.n
			if g := ind.BaseKey(); g != "all" {
				base = x.b[g]
			}
			a.sum(0, plus(x.k[i]), plus(x.c[i]), minus(base))
		}
		for g, opts := range groups {
			if partitions[g] {
				terms := []term{minus(x.b[g])}
				for _, i := range opts {
					terms = append(terms, plus(x.k[i]))
				}
				a.sum(0, terms...)
			}
		}
		// What is shown.
		if !u.n.hidden {
			a.fix(x.n, int64(u.n.k))
		}
		for i, ind := range inds {
			if c := u.cells[i]; !c.hidden {
				a.fix(x.k[i], int64(c.k))
				a.fix(x.c[i], int64(c.b-c.k))
				if g := ind.BaseKey(); g != "all" {
					a.fix(x.b[g], int64(c.b))
				}
			}
		}
	}
	// The sums along the tree.
	for _, p := range tree.units {
		if len(p.kids) == 0 {
			continue
		}
		along := func(pick func(*vars) int) {
			terms := []term{plus(pick(vs[p]))}
			for _, c := range p.kids {
				terms = append(terms, minus(pick(vs[c])))
			}
			a.sum(0, terms...)
		}
		along(func(x *vars) int { return x.n })
		for i := range inds {
			along(func(x *vars) int { return x.k[i] })
			along(func(x *vars) int { return x.c[i] })
		}
		for g := range groups {
			along(func(x *vars) int { return x.b[g] })
			along(func(x *vars) int { return x.e[g] })
		}
	}
	if !a.run() {
		t.Fatalf("wave %d: the published figures contradict each other", w.N)
	}
	totals["attacked"]++
	small := func(v int) bool { return v > 0 && v < survey.SmallCount }
	pinned := func(v int) (int64, bool) { return a.lo[v], a.lo[v] == a.hi[v] }
	var leaks []string
	for _, u := range tree.units {
		x := vs[u]
		if u.n.hidden {
			totals["hidden"]++
			if v, ok := pinned(x.n); ok && small(int(v)) {
				leaks = append(leaks, fmt.Sprintf("%s respondents = %d", u.path, v))
			}
		} else if small(u.n.k) {
			leaks = append(leaks, fmt.Sprintf("%s shows %d respondents", u.path, u.n.k))
		}
		for i, ind := range inds {
			c := u.cells[i]
			if !c.hidden {
				if small(c.k) || small(c.b) || small(c.b-c.k) {
					leaks = append(leaks, fmt.Sprintf("%s %s shown as %d / %d", u.path, ind.Key, c.k, c.b))
				}
				continue
			}
			totals["hidden"]++
			figs := map[string]int{"count": x.k[i], "complement": x.c[i]}
			if g := ind.BaseKey(); g != "all" {
				figs["base"], figs["non-base"] = x.b[g], x.e[g]
			}
			for name, v := range figs {
				if val, ok := pinned(v); ok && small(int(val)) {
					leaks = append(leaks, fmt.Sprintf("%s %s: its %s is %d", u.path, ind.Key, name, val))
				} else if ok && val > 0 {
					totals["pinned above 4"]++
				}
			}
		}
	}
	if len(leaks) > 0 {
		t.Fatalf("wave %d: %d hidden figures come out as 1–4 pupils, e.g. %s", w.N, len(leaks), strings.Join(leaks[:min(8, len(leaks))], "; "))
	}
}
