package urgency

import (
	"errors"
	"io/fs"
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

// TestFrozenSplitGoals scores the frozen split — written before any
// tuning, never trained or tuned on — with the built-in model, logs the
// three layers' figures (never a line), and fails below the goals
// for rules and model together: recall on danger now at least
// GoalRecall (unsure counted as caught: every channel asks), urgent-path
// false alarms at most GoalFalseAlarms, unsure answers on ordinary
// messages at most GoalUnsureOrdinary. Every scoring while the detector
// was built is logged in docs/detector.md.
func TestFrozenSplitGoals(t *testing.T) {
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
	if r := c.Recall(); r < GoalRecall {
		t.Errorf("recall on danger now %.3f (%d of %d), want at least %.2f", r, c.Urgent+c.Unsure, c.Danger, GoalRecall)
	}
	if f := c.FalseAlarmRate(); f > GoalFalseAlarms {
		t.Errorf("urgent-path false alarms %.3f (%d of %d), want at most %.2f", f, c.FalseAlarms, c.Ordinary, GoalFalseAlarms)
	}
	if u := c.UnsureRate(); u > GoalUnsureOrdinary {
		t.Errorf("unsure on ordinary messages %.3f (%d of %d), want at most %.2f", u, c.UnsureOrd, c.Ordinary, GoalUnsureOrdinary)
	}
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

// TestCrossValidationFigures logs the figures of batch-grouped
// cross-validation of the training lines (5 folds, no batch on both
// sides; the built-in thresholds). `hotline detector eval` prints the
// nested version, thresholds chosen inside each fold, for the docs.
func TestCrossValidationFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("trains five models")
	}
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	sc := CrossValidate(ex, DefaultTrainOptions, 5)
	th := DefaultModel().Thresholds()
	for i := range sc {
		sc[i].T = th
	}
	figs := layers(sc)
	logFigures(t, "batch-grouped cross-validation (built-in thresholds)", figs)
	if r := figs[2].Recall(); r <= figs[0].Recall() {
		t.Errorf("rules and model recall %.3f, rules alone %.3f: the model adds nothing", r, figs[0].Recall())
	}
}
