package intake

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUrgent(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		// Chinese: self-harm
		{"我真的不想活了", true},
		{"每天都被骂，我想死", true},
		{"活着没意思，想结束生命", true},
		{"我昨天晚上割腕了", true},
		{"想 死", true},
		// Chinese: weapons and threats
		{"他说放学后要带刀来找我", true},
		{"他们说要弄死我", true},
		{"有人拿刀威胁我", true},
		// Chinese: ongoing violence
		{"现在被堵在厕所里，救命", true},
		{"他们正在打我同桌", true},
		// Chinese: negations and ordinary bullying must not trigger
		{"我不想死，我只想让他们停下来", false},
		{"他没有带刀，就是一直骂我", false},
		{"他们给我起外号，还把我的书扔了", false},
		{"同学们都不跟我玩，孤立我", false},
		{"他抢了我的零花钱", false},
		// English
		{"I want to kill myself", true},
		{"i dont want to live anymore", true},
		{"He said he will bring a KNIFE tomorrow", true},
		{"They are hitting me right now", true},
		{"ＫＮＩＦＥ", true},
		{"I'm suicidal", true},
		// English negations and ordinary bullying
		{"He did not have a knife, he just pushed me", false},
		{"I don't want to die, I want it to stop", false},
		{"they call me names every day", false},
		{"someone took my lunch money", false},
		{"I feel left out in class", false},
		{"knifefish are cool", false}, // word boundary
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Urgent(tt.text); got != tt.want {
				t.Errorf("Urgent(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// corpusCase is one labelled message from testdata/urgency_corpus.tsv.
type corpusCase struct {
	line   int
	urgent bool
	text   string
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "urgency_corpus.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, "\t")
		if !ok || text == "" || (label != "urgent" && label != "ordinary") {
			t.Fatalf("urgency_corpus.tsv:%d: want \"urgent|ordinary<TAB>text\", got %q", i+1, line)
		}
		cases = append(cases, corpusCase{line: i + 1, urgent: label == "urgent", text: text})
	}
	return cases
}

// TestUrgentCorpus measures the detector on the labelled corpus: recall on
// urgent messages and the false-alarm rate on ordinary ones. It logs both
// always, so `go test -v` shows them, and each miss and false alarm.
func TestUrgentCorpus(t *testing.T) {
	cases := readCorpus(t)
	var urgent, ordinary, hits, alarms int
	for _, c := range cases {
		got := Urgent(c.text)
		switch {
		case c.urgent:
			urgent++
			if got {
				hits++
			} else {
				t.Logf("miss        (line %d): %s", c.line, c.text)
			}
		default:
			ordinary++
			if got {
				alarms++
				t.Logf("false alarm (line %d): %s", c.line, c.text)
			}
		}
	}
	if urgent < 100 || ordinary < 100 {
		t.Fatalf("corpus too small: %d urgent, %d ordinary", urgent, ordinary)
	}
	recall := float64(hits) / float64(urgent)
	falseAlarm := float64(alarms) / float64(ordinary)
	t.Logf("corpus: %d urgent, %d ordinary; recall %.3f (%d/%d), false-alarm rate %.3f (%d/%d)",
		urgent, ordinary, recall, hits, urgent, falseAlarm, alarms, ordinary)
	if recall < minCorpusRecall {
		t.Errorf("recall %.3f, want at least %.2f", recall, minCorpusRecall)
	}
	if falseAlarm > maxCorpusFalseAlarm {
		t.Errorf("false-alarm rate %.3f, want at most %.2f", falseAlarm, maxCorpusFalseAlarm)
	}
}

// The corpus thresholds: recall comes first (a counselor can clear a flag,
// a missed flag cannot be taken back), but a detector that flags everything
// would teach counselors to ignore the flag.
const (
	minCorpusRecall     = 0.97
	maxCorpusFalseAlarm = 0.15
)
