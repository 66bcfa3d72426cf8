package urgency

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// The goals of issue 23 on the frozen split: recall on danger now
// (unsure counted as caught: the conversation asks), urgent-path false
// alarms and the unsure rate on ordinary messages.
const (
	GoalRecall         = 0.97
	GoalFalseAlarms    = 0.10
	GoalUnsureOrdinary = 0.15
)

// Scored is an example with what each layer said of it.
type Scored struct {
	Example
	Rules  bool    // the rules flagged it
	Reason string  // the rules' reason
	Logit  float64 // the model's score
	// T are the thresholds that apply to this message: the model's, or
	// in nested cross-validation those chosen without its fold.
	T Thresholds
}

// Thresholds turn a model score into an answer (see Model.Unsure, Urgent,
// Veto).
type Thresholds struct {
	Unsure, Urgent, Veto float64
}

// Layer is one way of answering: the rules alone, the model alone, or both.
type Layer string

// Layers, in the order the figures show them.
const (
	LayerRules    Layer = "rules"
	LayerModel    Layer = "model"
	LayerCombined Layer = "combined"
)

// Layers lists the layers.
var Layers = []Layer{LayerRules, LayerModel, LayerCombined}

// Answer is what layer l answers for s under its thresholds.
func (s Scored) Answer(l Layer) Answer { return s.T.Answer(l, s) }

// Answer is what a layer answers for one scored message.
func (t Thresholds) Answer(l Layer, s Scored) Answer {
	switch l {
	case LayerRules:
		if s.Rules {
			return AnswerUrgent
		}
		return AnswerNotUrgent
	case LayerModel:
		return t.model(s.Logit)
	}
	if s.Rules {
		if s.Logit < t.Veto {
			return AnswerUnsure
		}
		return AnswerUrgent
	}
	return t.model(s.Logit)
}

func (t Thresholds) model(logit float64) Answer {
	switch {
	case logit >= t.Urgent:
		return AnswerUrgent
	case logit >= t.Unsure:
		return AnswerUnsure
	}
	return AnswerNotUrgent
}

// ScoreAll scores examples with the rules and a model.
func ScoreAll(ex []Example, m *Model) []Scored {
	out := make([]Scored, len(ex))
	for i, e := range ex {
		ok, reason := rulesReason(e.Text)
		out[i] = Scored{Example: e, Rules: ok, Reason: reason, Logit: m.Score(e.Text), T: m.Thresholds()}
	}
	return out
}

// Thresholds returns the model's thresholds.
func (m *Model) Thresholds() Thresholds {
	return Thresholds{Unsure: float64(m.Unsure), Urgent: float64(m.Urgent), Veto: float64(m.Veto)}
}

// Folds assigns every example to one of k folds by its batch, so that no
// batch is on both sides of a fold: the largest batches first, each to the
// fold with the fewest lines so far (ties to the lowest fold). Batch names
// break ties in size, so the folds do not depend on the examples' order.
func Folds(ex []Example, k int) []int {
	size := map[string]int{}
	for _, e := range ex {
		size[e.Batch]++
	}
	names := make([]string, 0, len(size))
	for b := range size {
		names = append(names, b)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(size[b], size[a]), strings.Compare(a, b))
	})
	lines := make([]int, k)
	fold := map[string]int{}
	for _, b := range names {
		f := 0
		for i := range lines {
			if lines[i] < lines[f] {
				f = i
			}
		}
		fold[b] = f
		lines[f] += size[b]
	}
	out := make([]int, len(ex))
	for i, e := range ex {
		out[i] = fold[e.Batch]
	}
	return out
}

// Batches counts the batches of examples.
func Batches(ex []Example) int {
	seen := map[string]bool{}
	for _, e := range ex {
		seen[e.Batch] = true
	}
	return len(seen)
}

// CrossValidate trains k models, each without one fold of batches, and
// scores every example with the model that did not see its batch. The
// scores carry no thresholds (+Inf): ChooseThresholds picks them.
func CrossValidate(ex []Example, opt TrainOptions, k int) []Scored {
	p := prepare(ex, opt)
	all := make([]int, len(ex))
	for i := range all {
		all[i] = i
	}
	return p.crossValidate(all, opt, k)
}

// crossValidate is CrossValidate on the prepared examples idx: it returns
// their scores in the order of idx.
func (p *prepared) crossValidate(idx []int, opt TrainOptions, k int) []Scored {
	sub := make([]Example, len(idx))
	for j, i := range idx {
		sub[j] = p.ex[i]
	}
	folds := Folds(sub, k)
	out := make([]Scored, len(idx))
	parallel(k, func(f int) {
		var train []int
		for j, i := range idx {
			if folds[j] != f {
				train = append(train, i)
			}
		}
		m := p.train(train, opt)
		for j, e := range sub {
			if folds[j] == f {
				ok, reason := rulesReason(e.Text)
				out[j] = Scored{Example: e, Rules: ok, Reason: reason, Logit: m.Score(e.Text), T: never}
			}
		}
	})
	return out
}

var never = Thresholds{Unsure: math.Inf(1), Urgent: math.Inf(1), Veto: math.Inf(-1)}

// NestedCrossValidate is CrossValidate with the thresholds chosen inside
// each fold: for the lines of one fold, by a cross-validation of the other
// folds only, as training chooses them on the whole corpus. Neither a
// model nor a threshold has seen the batch it answers for.
func NestedCrossValidate(ex []Example, opt TrainOptions, b Budget, k int) []Scored {
	p := prepare(ex, opt)
	folds := Folds(ex, k)
	out := make([]Scored, len(ex))
	for f := 0; f < k; f++ {
		var train []int
		for i := range ex {
			if folds[i] != f {
				train = append(train, i)
			}
		}
		t := ChooseThresholds(p.crossValidate(train, opt, k-1), b)
		m := p.train(train, opt)
		for i, e := range ex {
			if folds[i] == f {
				ok, reason := rulesReason(e.Text)
				out[i] = Scored{Example: e, Rules: ok, Reason: reason, Logit: m.Score(e.Text), T: t}
			}
		}
	}
	return out
}

// Budget is what thresholds may cost on ordinary messages, below the goals
// so that unseen messages have room.
type Budget struct {
	FalseAlarms    float64 // urgent-path false alarms of rules and model together
	UnsureOrdinary float64 // unsure answers on ordinary messages
}

// DefaultBudget is the budget `hotline detector train` chooses thresholds
// within; docs/detector.md gives the figures behind it.
var DefaultBudget = Budget{FalseAlarms: 0.06, UnsureOrdinary: 0.15}

// ChooseThresholds picks thresholds on scores no model saw in training
// (cross-validation's), within the budget on ordinary messages:
//
//  1. the veto: when the rules alone raise more false alarms than the
//     budget allows, the rules' matches the model scores lowest are asked
//     about instead (unsure) — a lesson, a wish that is over, a joke —
//     just enough of them, never more;
//  2. the model's own urgent threshold, the lowest that keeps false alarms
//     of rules and model together within the budget (none when the rules
//     use it all);
//  3. the unsure threshold, the lowest that keeps unsure answers on
//     ordinary messages (vetoed matches included) within the budget.
//
// Lowest, because a missed child costs more than a question.
func ChooseThresholds(sc []Scored, b Budget) Thresholds {
	var ordinary []Scored
	for _, s := range sc {
		if !s.Danger {
			ordinary = append(ordinary, s)
		}
	}
	t := never
	if len(ordinary) == 0 {
		return t
	}
	n := float64(len(ordinary))
	budget := func(rate float64) int { return int(math.Floor(rate*n + 1e-9)) }
	// Ordinary messages the rules leave alone, by score, highest first;
	// those the rules flag, lowest first.
	var free, flagged []float64
	for _, s := range ordinary {
		if s.Rules {
			flagged = append(flagged, s.Logit)
		} else {
			free = append(free, s.Logit)
		}
	}
	slices.Sort(free)
	slices.Reverse(free)
	slices.Sort(flagged)
	vetoed := 0
	if k := len(flagged) - budget(b.FalseAlarms); k > 0 {
		// Just above the k-th lowest: exactly those below it are asked
		// (ties stay urgent).
		t.Veto = flagged[k-1]
		t.Veto = math.Nextafter(t.Veto, math.Inf(1))
		for _, v := range flagged {
			if v < t.Veto {
				vetoed++
			}
		}
	}
	// allow returns the lowest threshold that at most k free ordinary
	// messages reach (ties with the (k+1)-th highest stay below it).
	allow := func(k int) float64 {
		if k <= 0 {
			if len(free) == 0 {
				return math.Inf(1)
			}
			return math.Nextafter(free[0], math.Inf(1))
		}
		if k >= len(free) {
			return math.Inf(-1)
		}
		return math.Nextafter(free[k], math.Inf(1))
	}
	if k := budget(b.FalseAlarms) - (len(flagged) - vetoed); k > 0 && vetoed == 0 {
		t.Urgent = allow(k)
	}
	urgentFree := 0
	for _, v := range free {
		if v >= t.Urgent {
			urgentFree++
		}
	}
	t.Unsure = min(t.Urgent, allow(urgentFree+budget(b.UnsureOrdinary)-vetoed))
	return t
}

// Figures are one layer's results on a set of messages.
type Figures struct {
	Layer                  Layer
	Danger, Ordinary       int
	Urgent, Unsure         int // danger answered urgent, unsure
	FalseAlarms, UnsureOrd int // ordinary answered urgent, unsure
	Categories             []Group
	Langs                  []Group
}

// Group are the results on the messages of one category or language with
// one label.
type Group struct {
	Name           string
	Danger         bool
	N              int
	Urgent, Unsure int
}

// Caught is the share answered urgent or unsure.
func (c Group) Caught() float64 { return ratio(c.Urgent+c.Unsure, c.N) }

// Recall is the share of danger caught: urgent, or unsure (the question
// is asked of every unsure message, in every channel).
func (f Figures) Recall() float64 { return ratio(f.Urgent+f.Unsure, f.Danger) }

// UrgentRecall is the share of danger answered urgent.
func (f Figures) UrgentRecall() float64 { return ratio(f.Urgent, f.Danger) }

// FalseAlarmRate is the share of ordinary messages answered urgent.
func (f Figures) FalseAlarmRate() float64 { return ratio(f.FalseAlarms, f.Ordinary) }

// UnsureRate is the share of ordinary messages answered unsure.
func (f Figures) UnsureRate() float64 { return ratio(f.UnsureOrd, f.Ordinary) }

// MeetsGoals reports whether the figures meet the goals.
func (f Figures) MeetsGoals() bool {
	return f.Recall() >= GoalRecall && f.FalseAlarmRate() <= GoalFalseAlarms && f.UnsureRate() <= GoalUnsureOrdinary
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Measure counts a layer's answers on scored messages, each under its
// own thresholds.
func Measure(sc []Scored, l Layer) Figures {
	f := Figures{Layer: l}
	cats, langs := map[Group]*Group{}, map[Group]*Group{}
	group := func(m map[Group]*Group, name string, danger bool) *Group {
		k := Group{Name: name, Danger: danger}
		if m[k] == nil {
			m[k] = &k
		}
		return m[k]
	}
	for _, s := range sc {
		a := s.Answer(l)
		cat, lang := cmp.Or(s.Category, "(legacy)"), cmp.Or(s.Lang, "(legacy)")
		gs := []*Group{group(cats, cat, s.Danger), group(langs, lang, s.Danger)}
		if s.Danger {
			f.Danger++
		} else {
			f.Ordinary++
		}
		for _, g := range gs {
			g.N++
		}
		switch a {
		case AnswerUrgent:
			for _, g := range gs {
				g.Urgent++
			}
			if s.Danger {
				f.Urgent++
			} else {
				f.FalseAlarms++
			}
		case AnswerUnsure:
			for _, g := range gs {
				g.Unsure++
			}
			if s.Danger {
				f.Unsure++
			} else {
				f.UnsureOrd++
			}
		}
	}
	f.Categories, f.Langs = sortGroups(cats), sortGroups(langs)
	return f
}

// sortGroups lists groups danger first, then by name.
func sortGroups(m map[Group]*Group) []Group {
	out := make([]Group, 0, len(m))
	for _, g := range m {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b Group) int {
		if a.Danger != b.Danger {
			if a.Danger {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// WriteTable writes the three layers' figures on one set as a Markdown
// table: counts and rates only, never a message.
func WriteTable(w io.Writer, title string, figs []Figures) {
	fmt.Fprintf(w, "%s\n\n", title)
	fmt.Fprintf(w, "| layer | danger | recall (urgent + unsure) | urgent only | ordinary | urgent-path false alarms | unsure on ordinary | goals met |\n")
	fmt.Fprintf(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, f := range figs {
		met := "no"
		if f.MeetsGoals() {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s | %d | %.3f (%d) | %.3f | %d | %.3f (%d) | %.3f (%d) | %s |\n", f.Layer, f.Danger, f.Recall(), f.Urgent+f.Unsure,
			f.UrgentRecall(), f.Ordinary, f.FalseAlarmRate(), f.FalseAlarms, f.UnsureRate(), f.UnsureOrd, met)
	}
	fmt.Fprintln(w)
}

// WriteGroups writes per-category (or, with langs, per-language) figures
// of the layers side by side: for danger the share caught (urgent +
// unsure), for ordinary messages the numbers answered urgent and unsure.
func WriteGroups(w io.Writer, title string, figs []Figures, langs bool) {
	if len(figs) == 0 {
		return
	}
	head := "category"
	if langs {
		head = "language"
	}
	fmt.Fprintf(w, "%s\n\n| %s | label | n |", title, head)
	for _, f := range figs {
		fmt.Fprintf(w, " %s |", f.Layer)
	}
	fmt.Fprintf(w, "\n| --- | --- | ---: |%s\n", strings.Repeat(" --- |", len(figs)))
	groups := func(f Figures) []Group {
		if langs {
			return f.Langs
		}
		return f.Categories
	}
	for i, c := range groups(figs[0]) {
		label := "ordinary"
		if c.Danger {
			label = "danger"
		}
		fmt.Fprintf(w, "| %s | %s | %d |", c.Name, label, c.N)
		for _, f := range figs {
			c := groups(f)[i]
			if c.Danger {
				fmt.Fprintf(w, " caught %.2f (%d/%d) |", c.Caught(), c.Urgent+c.Unsure, c.N)
			} else {
				fmt.Fprintf(w, " urgent %d, unsure %d |", c.Urgent, c.Unsure)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
