package urgency

import (
	"os"
	"strings"
	"testing"
)

// TestNeedsNeverHideAMatch: on lines of the legacy and training corpora,
// alone and run together into long messages, and on the worst cases, the
// rules answer as they did before they were made fast (rulesOld).
//
// rulesOld is slow (seconds for the whole corpus, a minute under -race),
// so the test reads every eighth line and every eighth run of eight, a
// different sample at each offset: HOTLINE_TEST_ALL_LINES=1 reads them
// all (run it after changing the rules), as does FuzzNeeds any text.
func TestNeedsNeverHideAMatch(t *testing.T) {
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	every := 8
	if os.Getenv("HOTLINE_TEST_ALL_LINES") == "1" {
		every = 1
	}
	texts := make([]string, 0, len(ex)/every+len(ex)/8/every+len(worstCases))
	for i := 0; i < len(ex); i += every {
		texts = append(texts, ex[i].Text)
	}
	start := 0
	if every > 1 {
		start = 8 // not the lines read alone above
	}
	for i := start; i+8 <= len(ex); i += 8 * every {
		var b strings.Builder
		for _, e := range ex[i : i+8] {
			b.WriteString(e.Text)
			b.WriteString(" ")
		}
		texts = append(texts, b.String())
	}
	for _, c := range worstCases {
		texts = append(texts, longest(c))
	}
	flagged := 0
	for _, text := range texts {
		gotOK, gotReason := rulesReason(text)
		wantOK, wantReason := rulesOld(text)
		if gotOK != wantOK || gotReason != wantReason {
			t.Errorf("%.60q: fast %v %q, as before %v %q", text, gotOK, gotReason, wantOK, wantReason)
		}
		if gotOK {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatal("no line flagged: the comparison compares nothing")
	}
}

// Every needed set holds runes, and every rule has alternatives, each of
// which compiles (they are compiled on first use).
func TestNeededSets(t *testing.T) {
	for key, id := range needSets {
		if key == "" {
			t.Errorf("needed set %d is empty", id)
		}
	}
	for _, rules := range [][]rule{zhRules, enRules} {
		for _, r := range rules {
			if len(r.alts) == 0 || len(r.firsts) == 0 {
				t.Errorf("rule %s has no alternatives", r.pattern)
			}
			for _, a := range r.alts {
				a.re() // compiles, or panics
			}
		}
	}
}

// FuzzNeeds holds the rules to rulesOld on any text.
func FuzzNeeds(f *testing.F) {
	for _, s := range []string{"我想死", "他手里有刀在追我", "现在他们在厕所打我", "想 死", "wo xiang si", "把我按在地上打"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		gotOK, gotReason := rulesReason(text)
		wantOK, wantReason := rulesOld(text)
		if gotOK != wantOK || gotReason != wantReason {
			t.Fatalf("fast %v %q, as before %v %q", gotOK, gotReason, wantOK, wantReason)
		}
	})
}

// worstCases are texts that cost the rules most, repeated to the longest
// message (longest): characters most rules begin with, words they need,
// long English, pinyin.
var worstCases = []string{
	"他们每天都在背后说我坏话，还把我的书扔了。",
	"现在他们在我家门口等着我，",
	"我现在在想把他被打死了",
	"想要不想活着想死了",
	"刀刀刀刀把我",
	"they are going to kill me now but i am not going to ",
	"i am so sad and nobody talks to me at school. ",
	"my mom will kill me, the test is going to kill me ",
	"wo xian zai hen xiang si ta men zai da wo ",
	"😭😭🔪💊",
	"我我我我我我我我我我我我",
	"现在正在马上就在还在一直在此刻今天今晚晚上放学等会",
	"打他打他打他被他",
	"笑死累死气死打死我也不说想死你了",
}

// longest repeats s to the longest message intake takes.
func longest(s string) string {
	r := []rune(strings.Repeat(s, maxMessageRunes/len([]rune(s))+1))
	return string(r[:maxMessageRunes])
}
