package urgency

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// logFigures logs a layer's figures: counts and rates, per category and
// language, never a message.
func logFigures(t *testing.T, title string, figs []Figures) {
	t.Helper()
	var b strings.Builder
	WriteTable(&b, title, figs)
	WriteGroups(&b, "per category", figs, false)
	WriteGroups(&b, "per language", figs, true)
	t.Log("\n" + b.String())
}

func layers(sc []Scored) []Figures {
	var figs []Figures
	for _, l := range Layers {
		figs = append(figs, Measure(sc, l))
	}
	return figs
}

// frozenFigures scores the frozen split — written before any tuning,
// never trained or tuned on — with the built-in model, logs the three
// layers' figures (never a line) and returns rules and model together.
// Every scoring while the detector was built is logged in
// docs/detector.md.
func frozenFigures(t *testing.T) Figures {
	t.Helper()
	ex, err := ReadCorpusDir(os.DirFS("corpus"), "frozen")
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatal("corpus/frozen is missing: the frozen split is part of the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) < 900 {
		t.Fatalf("the frozen split has %d lines, want at least 900", len(ex))
	}
	figs := layers(ScoreAll(ex, DefaultModel()))
	logFigures(t, "frozen split", figs)
	c := figs[2]
	if c.Layer != LayerCombined {
		t.Fatalf("layer %s, want combined", c.Layer)
	}
	return c
}

// checkFrozen fails the test where rules and model together catch fewer
// than minCaught danger lines, raise urgent-path false alarms on more than
// maxAlarms of ordinary lines, or answer unsure on more than the goal.
func checkFrozen(t *testing.T, c Figures, minCaught int, maxAlarms float64) {
	t.Helper()
	if got := c.Urgent + c.Unsure; got < minCaught {
		t.Errorf("recall on danger now %.3f (%d of %d), want at least %.3f (%d)", c.Recall(), got, c.Danger, ratio(minCaught, c.Danger), minCaught)
	}
	if f := c.FalseAlarmRate(); f > maxAlarms+1e-9 {
		t.Errorf("urgent-path false alarms %.3f (%d of %d), want at most %.3f", f, c.FalseAlarms, c.Ordinary, maxAlarms)
	}
	if u := c.UnsureRate(); u > GoalUnsureOrdinary {
		t.Errorf("unsure on ordinary messages %.3f (%d of %d), want at most %.2f", u, c.UnsureOrd, c.Ordinary, GoalUnsureOrdinary)
	}
}

// The combined figures of the frozen split's scoring #6 (docs/detector.md,
// "Log of frozen-split scorings"): the built-in model of 6,812 lines,
// nblr, budget 0.06/0.15, with the rules' frames for a past that is over
// and a story told. Every goal met.
const (
	loggedCaught      = 577 // of 592 danger lines: recall 0.975
	loggedFalseAlarms = 39  // of 437 ordinary lines: 0.089
)

// TestFrozenSplitGoals fails below the goals for rules and model
// together on the frozen split: recall on danger now at least GoalRecall
// (unsure counted as caught: every channel asks), urgent-path false
// alarms at most GoalFalseAlarms, unsure answers on ordinary messages at
// most GoalUnsureOrdinary.
func TestFrozenSplitGoals(t *testing.T) {
	c := frozenFigures(t)
	checkFrozen(t, c, int(math.Ceil(GoalRecall*float64(c.Danger)-1e-9)), GoalFalseAlarms)
}

// TestFrozenSplitNoRegression always runs: the built-in model may not do
// worse on the frozen split than its logged scoring — fewer danger lines
// caught, more false alarms than logged (or than the goal, when the log
// met it), unsure answers beyond the goal. A model trained again must be
// scored and logged again, and its figures written here.
func TestFrozenSplitNoRegression(t *testing.T) {
	c := frozenFigures(t)
	maxAlarms := max(ratio(loggedFalseAlarms, c.Ordinary), GoalFalseAlarms)
	checkFrozen(t, c, loggedCaught, maxAlarms)
}

// TestModelMatchesCorpus: the built-in model was trained on the training
// lines in the repository as they are (its digest), so a change to the
// corpus cannot ship without `hotline detector train`.
func TestModelMatchesCorpus(t *testing.T) {
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	m := DefaultModel()
	if got, want := m.Info.Digest, Digest(ex); got != want {
		t.Fatalf("the model was trained on lines with digest %.16s, the corpus has %.16s: run `go run ./cmd/hotline detector train`", got, want)
	}
	if m.Info.Examples != len(ex) || m.Info.Batches != Batches(ex) {
		t.Errorf("model trained on %d lines in %d batches, the corpus has %d in %d", m.Info.Examples, m.Info.Batches, len(ex), Batches(ex))
	}
	if st, err := os.Stat(filepath.Join("model.bin")); err != nil || st.Size() > 4<<20 {
		t.Errorf("model file: %v, %d bytes; want at most 4 MiB", err, st.Size())
	}
}

// batchCorpus is a corpus in which every batch is its own vocabulary:
// two characters no other batch uses, one label for all its lines. A
// model that saw a line's batch knows its label well; a model that did
// not has nothing to go by.
func batchCorpus() []Example {
	words := []string{"鲸鱼", "钢琴", "菠萝", "雪橇", "灯塔", "蜂蜜", "铅笔", "骆驼"}
	var ex []Example
	for b, w := range words {
		for i := 0; i < 6+b; i++ { // batches of different sizes, like the corpus's
			ex = append(ex, Example{Danger: b%2 == 0, Category: "x", Lang: "zh", Batch: fmt.Sprintf("b%d", b), Text: strings.Repeat(w, 1+i%3)})
		}
	}
	return ex
}

// Cross-validation is grouped by batch: no line is scored by a model
// that trained on its batch — a line of an unseen vocabulary scores near
// nothing, a line of a vocabulary trained on scores far from it — and no
// threshold was chosen on it. Folds of lines rather than batches fail.
func TestCrossValidationGrouped(t *testing.T) {
	ex := batchCorpus()
	opt := toyOptions
	for _, method := range []string{"logistic", "nblr"} {
		t.Run(method, func(t *testing.T) {
			opt.Method = method
			seen := Train(ex, opt)
			for name, sc := range map[string][]Scored{
				"cross-validation":        CrossValidate(ex, opt, 4),
				"nested cross-validation": NestedCrossValidate(ex, opt, Budget{0.1, 0.1}, 4),
			} {
				for i, s := range sc {
					in := seen.Score(s.Text)
					if (in > 0) != s.Danger || math.Abs(in) < 2 {
						t.Fatalf("%s: a model trained on %q scores it %.3f: want far on the side of its label", name, s.Text, in)
					}
					if math.Abs(s.Logit) > math.Abs(in)/4 {
						t.Errorf("%s: line %d of batch %s (%q) scored %.3f, trained on %.3f: its batch was trained on", name, i, s.Batch, s.Text, s.Logit, in)
					}
				}
			}
		})
	}
}

// Cross-validation is deterministic: the same lines give the same scores
// and thresholds, whatever order the folds' goroutines run in. A small
// cut of the real corpus with few iterations: the figures themselves are
// `hotline detector eval`'s.
func TestCrossValidationDeterministic(t *testing.T) {
	all, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	// The first 5 lines of every batch.
	var ex []Example
	per := map[string]int{}
	for _, e := range all {
		if per[e.Batch] < 5 {
			per[e.Batch]++
			ex = append(ex, e)
		}
	}
	opt := DefaultTrainOptions
	opt.Bits, opt.Iterations = 14, 10
	a := NestedCrossValidate(ex, opt, DefaultBudget, 3)
	b := NestedCrossValidate(ex, opt, DefaultBudget, 3)
	for i := range a {
		if a[i].Logit != b[i].Logit || a[i].T != b[i].T {
			t.Fatalf("line %d: scored %v under %+v, then %v under %+v", i, a[i].Logit, a[i].T, b[i].Logit, b[i].T)
		}
	}
	if Measure(a, LayerModel).Recall() == 0 {
		t.Error("the model caught no danger at all on cross-validation: it learnt nothing")
	}
}
