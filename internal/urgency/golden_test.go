package urgency

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// updateGolden rewrites testdata/answers.golden from the detector as it is:
// go test ./internal/urgency -run TestAnswersGolden -update-golden.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/answers.golden")

// goldenTexts are the texts whose answers the golden file holds: every
// training line, runs of eight lines, runs of lines cut at the longest
// message intake takes, the rules' worst cases and the benchmark's
// run-on messages.
func goldenTexts(t *testing.T) []string {
	t.Helper()
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range ex {
		texts = append(texts, e.Text)
	}
	for i := 0; i+8 <= len(ex); i += 8 {
		var b strings.Builder
		for _, e := range ex[i : i+8] {
			b.WriteString(e.Text)
			b.WriteString(" ")
		}
		texts = append(texts, b.String())
	}
	var b strings.Builder
	for _, e := range ex {
		b.WriteString(e.Text)
		b.WriteString("，")
		if utf8.RuneCountInString(b.String()) >= maxMessageRunes {
			texts = append(texts, string([]rune(b.String())[:maxMessageRunes]))
			b.Reset()
		}
	}
	for _, w := range worstCases {
		texts = append(texts, longest(w))
	}
	return append(texts, benchTexts()...)
}

// goldenLine is what the golden file keeps of one text: the rules' answer
// (the reason, or "-") and the detector's (answer and reason).
func goldenLine(text string) string {
	ok, reason := rulesReason(text)
	if !ok {
		reason = "-"
	}
	v := Assess(text)
	return fmt.Sprintf("%s %s %s", reason, v.Answer, v.Reason)
}

// TestAnswersGolden holds the detector to the answers in
// testdata/answers.golden, text by text: a change made for speed must not
// change one. A change meant to change answers rewrites the file
// (-update-golden), and its diff shows which texts it changed.
func TestAnswersGolden(t *testing.T) {
	texts := goldenTexts(t)
	path := filepath.Join("testdata", "answers.golden")
	if *updateGolden {
		var b strings.Builder
		for _, text := range texts {
			b.WriteString(goldenLine(text))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	i, bad := 0, 0
	for ; sc.Scan(); i++ {
		if i >= len(texts) {
			t.Fatalf("the golden file has more lines than the %d texts: the corpus changed? rewrite it with -update-golden", len(texts))
		}
		if got, want := goldenLine(texts[i]), sc.Text(); got != want {
			bad++
			if bad <= 20 {
				t.Errorf("text %d (%.40q): got %q, want %q", i, texts[i], got, want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(texts) {
		t.Fatalf("the golden file has %d lines for %d texts: the corpus changed? rewrite it with -update-golden", i, len(texts))
	}
	if bad > 0 {
		t.Fatalf("%d of %d texts answered differently", bad, len(texts))
	}
}

// TestQuantisedScoreExact: the built-in model scores every golden text
// from its int16 weights exactly as from the float32 weights they decode
// to, to the last bit.
func TestQuantisedScoreExact(t *testing.T) {
	m := DefaultModel()
	if m.quant == nil {
		t.Fatal("the built-in model has no quantised weights")
	}
	plain := *m
	plain.quant = nil
	for i, text := range goldenTexts(t) {
		if got, want := m.Score(text), plain.Score(text); got != want {
			t.Fatalf("text %d (%.40q): %v from int16 weights, %v from float32 ones", i, text, got, want)
		}
	}
}
