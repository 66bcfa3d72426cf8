package urgency

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// toyCorpus is a small corpus of the test's own sentences in four batches.
func toyCorpus() []Example {
	var ex []Example
	danger := []string{"我现在就在天台边上", "i am standing on the roof edge now", "wo xianzai zai tiantai bianshang", "他手里有刀在追我"}
	ordinary := []string{"我们今天在天台上晒被子", "we played on the roof in minecraft", "wo men zai tiantai wan", "他手里有一本书"}
	for b := 0; b < 4; b++ {
		for i := 0; i < 6; i++ {
			ex = append(ex,
				Example{Danger: true, Category: "plan_means", Lang: "zh", Text: fmt.Sprintf("%s %d", danger[(b+i)%4], i), Batch: fmt.Sprintf("b%d", b)},
				Example{Danger: false, Category: "game", Lang: "zh", Text: fmt.Sprintf("%s %d", ordinary[(b+i)%4], i), Batch: fmt.Sprintf("b%d", b)})
		}
	}
	return ex
}

var toyOptions = TrainOptions{Method: "logistic", Bits: 12, L2: 1e-3, Iterations: 60, Alpha: 0.5, Window: 40, DangerWeight: 1, Features: DefaultFeatures}

func TestTrainIsDeterministic(t *testing.T) {
	for _, method := range []string{"logistic", "nblr", "ensemble", "bayes"} {
		t.Run(method, func(t *testing.T) {
			opt := toyOptions
			opt.Method = method
			a, err := Train(toyCorpus(), opt).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := Train(toyCorpus(), opt).MarshalBinary()
			if !bytes.Equal(a, b) {
				t.Fatalf("two trainings on the same lines wrote different files (%d and %d bytes)", len(a), len(b))
			}
		})
	}
}

func TestModelFileRoundTrip(t *testing.T) {
	m := Train(toyCorpus(), toyOptions)
	m.Unsure, m.Urgent = -0.5, float32(math.Inf(1))
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := back.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(data, again) {
		t.Errorf("a model read back writes %d bytes, want the %d it was read from", len(again), len(data))
	}
	if back.Unsure != -0.5 || !math.IsInf(float64(back.Urgent), 1) || back.Window != 40 || back.Info.Method != "logistic" || back.Info.Examples != 48 || back.Info.Digest != Digest(toyCorpus()) {
		t.Errorf("read back %+v, want the thresholds, window and description written", back.Info)
	}
	for _, e := range toyCorpus()[:8] {
		if got, want := back.Score(e.Text), m.Score(e.Text); math.Abs(got-want) > 0.01*math.Max(1, math.Abs(want)) {
			t.Errorf("score %q: read back %.4f, trained %.4f", e.Text, got, want)
		}
	}
	// A damaged file is refused, never half read.
	for name, bad := range map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), data[4:]...),
		"version":   append(append([]byte{}, data[:4]...), append([]byte{9}, data[5:]...)...),
		"truncated": data[:len(data)-3],
		"trailing":  append(append([]byte{}, data...), 1, 2),
	} {
		if err := new(Model).UnmarshalBinary(bad); err == nil {
			t.Errorf("%s file: read without error", name)
		}
	}
}

func TestModelLearnsToy(t *testing.T) {
	m := Train(toyCorpus(), toyOptions)
	if d, o := m.Score("我现在就在天台边上"), m.Score("我们今天在天台上晒被子"); d <= o {
		t.Errorf("danger scored %.3f, ordinary %.3f: want danger higher", d, o)
	}
}

// A long message is read window by window: one clause of danger among
// many lines of ordinary bullying scores as the clause does, not diluted.
func TestScoreWindows(t *testing.T) {
	m := Train(toyCorpus(), toyOptions)
	clause := "他手里有刀在追我"
	filler := strings.Repeat("他们每天都在背后说我坏话。", 30)
	short, long, none := m.Score(clause), m.Score(filler+clause+filler), m.Score(filler+filler)
	if long < short-4 || long < none+5 {
		t.Errorf("the clause alone scores %.3f, inside a long message %.3f, the message without it %.3f: diluted", short, long, none)
	}
	if got := windowMax([]float32{1, 1, 1, 1}, 0); got != 4 {
		t.Errorf("windowMax without windows = %v, want the sum 4", got)
	}
	add := make([]float32, 100)
	add[99] = 5 // only the last window holds it
	if got := windowMax(add, 10); got != 5 {
		t.Errorf("windowMax with the peak at the very end = %v, want 5", got)
	}
}

func TestFoldsKeepBatchesApart(t *testing.T) {
	ex := toyCorpus()
	ex = append(ex, Example{Batch: "b9", Text: "x"})
	folds := Folds(ex, 3)
	seen := map[string]int{}
	for i, e := range ex {
		if f, ok := seen[e.Batch]; ok && f != folds[i] {
			t.Fatalf("batch %s in folds %d and %d", e.Batch, f, folds[i])
		}
		seen[e.Batch] = folds[i]
	}
	used := map[int]bool{}
	for _, f := range seen {
		used[f] = true
	}
	if len(used) != 3 {
		t.Errorf("%d of 3 folds used for 5 batches", len(used))
	}
}

func TestChooseThresholdsKeepsBudget(t *testing.T) {
	var sc []Scored
	for i := 0; i < 100; i++ {
		sc = append(sc, Scored{Example: Example{Danger: false}, Logit: float64(i) / 10, Rules: i%50 == 0})
		sc = append(sc, Scored{Example: Example{Danger: true}, Logit: 5 + float64(i)/10})
	}
	for _, b := range []Budget{{0.07, 0.11}, {0, 0.05}, {0.02, 0}, {1, 1}} {
		t.Run(fmt.Sprint(b), func(t *testing.T) {
			th := ChooseThresholds(sc, b)
			for i := range sc {
				sc[i].T = th
			}
			f := Measure(sc, LayerCombined)
			if f.FalseAlarmRate() > max(b.FalseAlarms, 0.02) || f.UnsureRate() > b.UnsureOrdinary+1e-9 {
				t.Errorf("thresholds %+v: false alarms %.3f, unsure %.3f, want within %+v (the rules alone cost 0.02)", th, f.FalseAlarmRate(), f.UnsureRate(), b)
			}
			if th.Unsure > th.Urgent {
				t.Errorf("unsure threshold %.3f above the urgent one %.3f", th.Unsure, th.Urgent)
			}
		})
	}
}

func TestReadCorpusFile(t *testing.T) {
	good := "label\tcategory\tlang\tvoice\ttext\ndanger\tsuicidal\tzh\tp14-17\t我不想活了\n\nordinary\tgame\ten\tp11-13\tgg\n"
	ex, err := ReadCorpusFile("train/t01-x.tsv", strings.NewReader(good))
	if err != nil || len(ex) != 2 || ex[0].Batch != "t01-x" || !ex[0].Danger || ex[1].Danger || ex[1].Category != "game" {
		t.Fatalf("got %+v, %v, want two lines of batch t01-x", ex, err)
	}
	legacy, err := ReadCorpusFile("legacy.tsv", strings.NewReader("# comment\nurgent\t我想死\nordinary\t笑死了\n"))
	if err != nil || len(legacy) != 2 || legacy[0].Batch != LegacyBatch || !legacy[0].Danger {
		t.Fatalf("legacy: got %+v, %v", legacy, err)
	}
	for name, bad := range map[string]string{
		"no header":   "danger\tsuicidal\tzh\tp8-10\tx\n",
		"bad label":   "label\tcategory\tlang\tvoice\ttext\nmaybe\tx\tzh\tp8-10\tx\n",
		"empty text":  "label\tcategory\tlang\tvoice\ttext\ndanger\tx\tzh\tp8-10\t \n",
		"columns":     "label\tcategory\tlang\tvoice\ttext\ndanger\tx\tzh\n",
		"invalid utf": "label\tcategory\tlang\tvoice\ttext\ndanger\tx\tzh\tp8-10\t\xff\n",
	} {
		if _, err := ReadCorpusFile("x.tsv", strings.NewReader(bad)); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
}

// The answers are pure functions of the text and exclusive: an urgent text
// is never unsure.
func TestAnswersExclusive(t *testing.T) {
	for _, text := range []string{"我想死", "今天天气很好", "I want to kill myself", "", "😀", strings.Repeat("啊", 5000)} {
		v := Assess(text)
		if Urgent(text) != (v.Answer == AnswerUrgent) || Unsure(text) != (v.Answer == AnswerUnsure) {
			t.Errorf("%.20q: Urgent %v, Unsure %v, Assess %v", text, Urgent(text), Unsure(text), v.Answer)
		}
		if Urgent(text) && Unsure(text) {
			t.Errorf("%.20q is both urgent and unsure", text)
		}
		if v != Assess(text) {
			t.Errorf("%.20q: two assessments differ", text)
		}
		if v.Answer == AnswerUrgent && v.Reason == "" {
			t.Errorf("%.20q: urgent without a reason", text)
		}
	}
}

func FuzzAssess(f *testing.F) {
	for _, s := range []string{"我想死", "i want to die", "wo xiang si", "想 死", "\xff\xfe", "🔪", "ＫＮＩＦＥ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v := Assess(text)
		switch v.Answer {
		case AnswerUrgent, AnswerUnsure, AnswerNotUrgent:
		default:
			t.Fatalf("answer %q", v.Answer)
		}
		if math.IsNaN(v.ModelScore) || v.ModelScore < 0 || v.ModelScore > 1 {
			t.Fatalf("model score %v", v.ModelScore)
		}
		if utf8.ValidString(text) && v.Reason != "" && len(v.Reason) > 20 {
			t.Fatalf("reason %q looks like text", v.Reason)
		}
	})
}
