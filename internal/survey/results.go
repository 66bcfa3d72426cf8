package survey

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"hotline/internal/hotline"
)

// SmallCount is the smallest count shown: cells of 1 to 4 pupils are "<5".
const SmallCount = 5

// Indicator is one share the results show: of the pupils counted in Base,
// how many Hit.
type Indicator struct {
	Key   string
	Group string // "main", "form", "place", "time", "hot", "custom"
	Label hotline.Label
	hit   func(Answers) bool
	base  base
}

// BaseKey names the indicator's base: indicators with the same BaseKey
// share their Base in every unit, and "all" is every respondent (Base = N).
func (ind Indicator) BaseKey() string { return ind.base.key }

// base is who an indicator counts: key names it, so that indicators with
// the same base (told and told_teacher; the options of one added question)
// are known to share their Base, which suppression must hide together.
type base struct {
	key string
	in  func(Answers) bool
}

// baseAll counts every respondent: such an indicator's Base is the unit's N.
const baseAll = "all"

func answered(id string) base {
	return base{"answered:" + id, func(a Answers) bool { return len(a[id]) > 0 }}
}

func atLeast(id, min string) func(Answers) bool {
	return func(a Answers) bool { return len(a[id]) > 0 && a[id][0] >= min }
}

func atMost(id, max string) func(Answers) bool {
	return func(a Answers) bool { return len(a[id]) > 0 && a[id][0] <= max }
}

func oneOf(id string, keys ...string) func(Answers) bool {
	return func(a Answers) bool {
		for _, k := range keys {
			if a.Has(id, k) {
				return true
			}
		}
		return false
	}
}

func answeredExcept(id, except string) base {
	return base{"answered:" + id + "-" + except, func(a Answers) bool { return len(a[id]) > 0 && a[id][0] != except }}
}

var all = base{baseAll, func(Answers) bool { return true }}

// Indicators lists what the results show for a survey: the template's
// findings whose questions it still has, then the options of added
// choice questions.
func Indicators(sv *Survey) []Indicator {
	var out []Indicator
	has := func(id string) bool { return sv.Question(id) != nil }
	add := func(ind Indicator, needs ...string) {
		for _, n := range needs {
			if !has(n) {
				return
			}
		}
		out = append(out, ind)
	}
	L := func(zh, en string) hotline.Label { return hotline.Label{ZH: zh, EN: en} }
	add(Indicator{"bullied", "main", L("被欺负（每月两三次及以上）", "Bullied (2–3 times a month or more)"), atLeast(QVictim, Cutoff), answered(QVictim)}, QVictim)
	add(Indicator{"bullying", "main", L("欺负别人（每月两三次及以上）", "Bullying others (2–3 times a month or more)"), atLeast(QBully, Cutoff), answered(QBully)}, QBully)
	add(Indicator{"unsafe", "main", L("在学校感到不安全", "Feel unsafe at school"), atMost(QSafe, "1"), answered(QSafe)}, QSafe)
	add(Indicator{"told", "main", L("被欺负后告诉了别人（被欺负的学生中）", "Told someone (of those bullied)"), oneOf(QTold, "teacher", "parent", "friend", "other"), answeredExcept(QTold, "na")}, QTold)
	add(Indicator{"told_teacher", "main", L("告诉了老师（被欺负的学生中）", "Told a teacher (of those bullied)"), oneOf(QTold, "teacher"), answeredExcept(QTold, "na")}, QTold)
	add(Indicator{"adult_stopped", "main", L("大人出面后欺负停止或变少（被欺负的学生中）", "An adult stepped in and it stopped or lessened (of those bullied)"), oneOf(QAdult, "stopped"), answeredExcept(QAdult, "na")}, QAdult)
	add(Indicator{"adult_none", "main", L("没有大人出面（被欺负的学生中）", "No adult stepped in (of those bullied)"), oneOf(QAdult, "no"), answeredExcept(QAdult, "na")}, QAdult)
	add(Indicator{"teachers_often", "main", L("认为老师经常或总是制止欺负", "Say teachers often or almost always stop bullying"), atLeast(QTeachers, "3"), answered(QTeachers)}, QTeachers)
	add(Indicator{"witness", "main", L("看到别人被欺负（每月两三次及以上）", "Saw bullying (2–3 times a month or more)"), atLeast(QWitness, Cutoff), answered(QWitness)}, QWitness)
	add(Indicator{"lonely", "main", L("常感到孤单（每月两三次及以上）", "Often lonely (2–3 times a month or more)"), atLeast(QLonely, Cutoff), answered(QLonely)}, QLonely)
	for _, f := range []struct{ id, key string }{{QPhysical, "physical"}, {QVerbal, "verbal"}, {QExclusion, "exclusion"}, {QOnline, "online"}, {QExtortion, "extortion"}} {
		if q := sv.Question(f.id); q != nil {
			add(Indicator{"form:" + f.key, "form", formLabels[f.key], atLeast(f.id, Cutoff), answered(f.id)})
		}
	}
	if q := sv.Question(QWhere); q != nil {
		for _, o := range q.Options {
			add(Indicator{"place:" + o.Key, "place", o.Label, oneOf(QWhere, o.Key), all})
		}
	}
	if q := sv.Question(QWhen); q != nil {
		for _, o := range q.Options {
			add(Indicator{"time:" + o.Key, "time", o.Label, oneOf(QWhen, o.Key), all})
		}
	}
	if pq, tq := sv.Question(QWhere), sv.Question(QWhen); pq != nil && tq != nil {
		for _, p := range pq.Options {
			for _, t := range tq.Options {
				pk, tk := p.Key, t.Key
				out = append(out, Indicator{"hot:" + pk + ":" + tk, "hot", hotline.Label{ZH: p.Label.ZH + " · " + t.Label.ZH, EN: p.Label.EN + " · " + t.Label.EN},
					func(a Answers) bool { return a.Has(QWhere, pk) && a.Has(QWhen, tk) }, all})
			}
		}
	}
	for _, q := range sv.Questions {
		if q.Kind == Text || !isCustom(q.ID) {
			continue
		}
		for _, o := range q.Options {
			out = append(out, Indicator{"custom:" + q.ID + ":" + o.Key, "custom", hotline.Label{ZH: q.Text.ZH + " — " + o.Label.ZH, EN: q.Text.EN + " — " + o.Label.EN},
				oneOf(q.ID, o.Key), answered(q.ID)})
		}
	}
	return out
}

func isCustom(id string) bool {
	_, err := strconv.Atoi(id[1:])
	return len(id) > 1 && id[0] == 'c' && err == nil
}

var formLabels = map[string]hotline.Label{
	"physical":  {ZH: "身体欺凌（打、踢、推）", EN: "Physical (hit, kicked, pushed)"},
	"verbal":    {ZH: "言语欺凌（骂、嘲笑、起外号）", EN: "Verbal (names, mockery)"},
	"exclusion": {ZH: "关系欺凌（孤立、排挤、谣言）", EN: "Exclusion (left out, rumours)"},
	"online":    {ZH: "网络欺凌", EN: "Online"},
	"extortion": {ZH: "索要、抢夺或损坏财物", EN: "Money or things taken or damaged"},
}

// Cell is one share of a unit.
type Cell struct {
	K, Base int
	// Hidden: not shown, because it is 1–4 pupils (or its complement is),
	// or so that such a cell cannot be worked out from the others. Every
	// hidden cell shows alike, whatever the reason: a mark that told "few"
	// from "hidden for another's sake" would tell the reader that a
	// partner is 0 or at least 5, and sums would do the rest.
	Hidden bool
}

// HiddenMark is how a hidden cell shows, in pages and CSV.
const HiddenMark = "*"

// Share is the cell's percentage, rounded.
func (c *Cell) Share() int {
	if c.Base == 0 {
		return 0
	}
	return (200*c.K + c.Base) / (2 * c.Base)
}

// String shows the cell: HiddenMark, "0" (no one to count), or
// "12 / 30 (40%)".
func (c *Cell) String() string {
	switch {
	case c == nil:
		return ""
	case c.Hidden:
		return HiddenMark
	case c.Base == 0:
		return "0"
	}
	return fmt.Sprintf("%d / %d (%d%%)", c.K, c.Base, c.Share())
}

// Unit is a class, grade, school or district, with its children.
type Unit struct {
	Level    string // "class", "grade", "school", "district"
	Name     string
	SchoolID int64
	N        *Cell // respondents: K = Base = the count
	Cells    map[string]*Cell
	Children []*Unit
}

// Walk visits the unit and its descendants, parents first.
func (u *Unit) Walk(fn func(u *Unit, depth int)) { u.walk(fn, 0) }

func (u *Unit) walk(fn func(*Unit, int), d int) {
	fn(u, d)
	for _, c := range u.Children {
		c.walk(fn, d+1)
	}
}

// Respondent is a response as results read it.
type Respondent struct {
	SchoolID     int64
	Grade, Class string
	Answers      Answers
}

// ParseAnswers reads a stored response's choice answers.
func ParseAnswers(s string) (Answers, error) {
	var a Answers
	err := json.Unmarshal([]byte(s), &a)
	return a, err
}

// Tally builds the unit tree (root → schools when the root is a district
// → grades → classes) and suppresses its small cells. schoolNames names
// the schools; classes lists every class that had codes, so that a class
// with no answers shows as 0 rather than vanishing.
func Tally(rootLevel, rootName string, inds []Indicator, rs []Respondent, schoolNames map[int64]string, classes []Respondent) *Unit {
	root := &Unit{Level: rootLevel, Name: rootName}
	schools := map[int64]*Unit{}
	grades := map[string]*Unit{}
	units := map[string]*Unit{}
	get := func(r Respondent) *Unit {
		parent := root
		if rootLevel == "district" {
			s, ok := schools[r.SchoolID]
			if !ok {
				s = &Unit{Level: "school", Name: schoolNames[r.SchoolID], SchoolID: r.SchoolID}
				schools[r.SchoolID] = s
				root.Children = append(root.Children, s)
			}
			parent = s
		}
		gk := strconv.FormatInt(r.SchoolID, 10) + "|" + r.Grade
		g, ok := grades[gk]
		if !ok {
			g = &Unit{Level: "grade", Name: r.Grade, SchoolID: r.SchoolID}
			grades[gk] = g
			parent.Children = append(parent.Children, g)
		}
		ck := gk + "|" + r.Class
		c, ok := units[ck]
		if !ok {
			c = &Unit{Level: "class", Name: ClassName(r.Grade, r.Class), SchoolID: r.SchoolID}
			units[ck] = c
			g.Children = append(g.Children, c)
		}
		return c
	}
	for _, c := range classes {
		get(c)
	}
	counts := map[*Unit][]int{} // per unit: N, then k and base per indicator
	for _, r := range rs {
		leaf := get(r)
		v := counts[leaf]
		if v == nil {
			v = make([]int, 1+2*len(inds))
			counts[leaf] = v
		}
		v[0]++
		for i, ind := range inds {
			if ind.base.in(r.Answers) {
				v[2+2*i]++
				if ind.hit(r.Answers) {
					v[1+2*i]++
				}
			}
		}
	}
	sortUnits(root)
	var fill func(u *Unit) []int
	fill = func(u *Unit) []int {
		v := make([]int, 1+2*len(inds))
		if len(u.Children) == 0 {
			copy(v, counts[u])
		}
		for _, c := range u.Children {
			for i, x := range fill(c) {
				v[i] += x
			}
		}
		u.N = &Cell{K: v[0], Base: v[0]}
		u.Cells = make(map[string]*Cell, len(inds))
		for i, ind := range inds {
			u.Cells[ind.Key] = &Cell{K: v[1+2*i], Base: v[2+2*i]}
		}
		return v
	}
	fill(root)
	Suppress(root, inds)
	return root
}

func sortUnits(u *Unit) {
	sort.SliceStable(u.Children, func(i, j int) bool {
		a, b := u.Children[i], u.Children[j]
		if ra, rb := gradeRank(a.Name), gradeRank(b.Name); ra != rb {
			return ra < rb
		}
		// 初一(3) before 初一(10): the same prefix, so the shorter first.
		if len(a.Name) != len(b.Name) {
			return len(a.Name) < len(b.Name)
		}
		return a.Name < b.Name
	})
	for _, c := range u.Children {
		sortUnits(c)
	}
}

// gradeRank orders grade names as schools count them: 小学 before 初中
// before 高中, then 一 to 九.
func gradeRank(name string) int {
	rank := 0
	for _, r := range name {
		switch r {
		case '小':
			rank = 0
		case '初':
			rank = 100
		case '高':
			rank = 200
		}
		if i := strings.IndexRune("一二三四五六七八九", r); i >= 0 {
			return rank + i/3 + 1
		}
	}
	return rank + 50
}
