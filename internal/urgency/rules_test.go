package urgency

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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

// TestUrgentIssuePhrases holds the detector to the phrases named in issue 11:
// each quoted message must flag, each denial, idiom and game must not.
func TestUrgentIssuePhrases(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		// Missed by the substring list; the issue quotes them.
		{"不给钱就打死我", true}, // a condition, not a denial
		{"我想从楼上跳下去", true},
		{"想一了百了", true},
		{"美工刀划我", true},
		{"现在就在楼道里堵着我", true},
		{"他们现在就在楼道里堵着我", true},
		{"扒了衣服拍视频", true},
		{"I'm going to kill him tomorrow", true},
		{"I don't want to be alive anymore", true},
		// Categories the issue names, in shapes the corpus does not hold.
		{"我想zs", true},
		{"想紫砂", true},
		{"他说要nong死我", true},
		{"他带了甩棍", true},
		{"他说要拿开水烫我", true},
		{"他们拿砖头在门口等我", true},
		{"他们逼我脱衣服", true},
		{"他要把我的裸照发出去", true},
		{"遗书我写好了", true},
		{"我真的撑不下去了", true},
		{"活着没意思", true},
		{"我不想再活了", true},
		{"我又划自己了", true},
		{"他们正在按着我", true},
		{"放学后他们要掐我", true},
		{"有人马上要来围我", true},
		{"he said he's gonna stab me", true},
		{"they will kill me", true},
		{"i wanna end it all", true},
		{"I will cut myself tonight", true},
		{"he's forcing me to send nudes", true},
		{"ＩＭ　ＧＯＮＮＡ　ＫＩＬＬ　ＭＹＳＥＬＦ", true},
		{"🔪", true},
		// Denials: the negation governs the danger.
		{"我没有想过自杀", false},
		{"他没带刀", false},
		{"我不会自杀的", false},
		{"他说不会打我", false},
		{"I would never kill myself", false},
		{"he will not hurt me, he promised", false},
		// Idioms, games and everyday hyperbole.
		{"打死我也不说", false},
		{"我们玩杀人游戏", false},
		{"狼人杀我又被杀了", false},
		{"游戏里他一直杀我", false},
		{"笑死了", false},
		{"累死了", false},
		{"饿死了", false},
		{"气死我了", false},
		{"this homework is killing me", false},
		{"i'm dying of laughter", false},
		{"my mom is gonna kill me if i fail", false},
		{"我想跳舞", false},
		{"他接开水的时候插队", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := Urgent(tt.text); got != tt.want {
				t.Errorf("Urgent(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

// TestUrgentReason checks the coarse category given for feedback counts,
// and that a message that is not urgent has none.
func TestUrgentReason(t *testing.T) {
	tests := []struct{ text, want string }{
		{"我想自杀", ReasonSelfHarm},
		{"i want to die", ReasonSelfHarm},
		{"他书包里有把刀", ReasonWeapon},
		{"he has a gun", ReasonWeapon},
		{"他逼我拍裸照", ReasonSexual},
		{"he keeps touching me", ReasonSexual},
		{"他们正在厕所打我", ReasonViolence},
		{"they are hitting me right now", ReasonViolence},
		{"他说明天要弄死我", ReasonThreat},
		{"they're gonna beat me up", ReasonThreat},
		{"他们给我起外号", ""},
	}
	reasons := map[string]bool{ReasonSelfHarm: true, ReasonWeapon: true, ReasonSexual: true, ReasonViolence: true, ReasonThreat: true}
	for _, tt := range tests {
		ok, got := UrgentReason(tt.text)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("UrgentReason(%q) = %v, %q, want %q", tt.text, ok, got, tt.want)
		}
		if ok && !reasons[got] {
			t.Errorf("UrgentReason(%q) reason %q is not one of the Reason constants", tt.text, got)
		}
		if strings.Contains(tt.text, got) && got != "" {
			t.Errorf("UrgentReason(%q) = %q: the reason must not carry the text", tt.text, got)
		}
	}
}

// BenchmarkUrgent measures the detector (rules and model) on messages of
// the largest size intake takes, 4,096 characters: 50 run-on messages
// about bullying with one clause of danger in each, and the worst cases
// for the rules (worstCases: the characters most rules begin with, the
// words they need, long English, pinyin, every hyperbole), one in five
// calls. Besides ns/op it reports the 50th and 99th percentile of one call
// (p50-ns, p99-ns); the goal is a p99 under 1 ms.
func BenchmarkUrgent(b *testing.B) {
	texts := benchTexts()
	Urgent(texts[0])                       // the model is decoded once, on first use
	times := make([]time.Duration, 0, b.N) // allocated before the timer starts
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		Urgent(texts[i%len(texts)])
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}

// benchTexts are BenchmarkUrgent's messages.
func benchTexts() []string {
	parts := []string{"他们每天都在背后说我坏话，还把我的书扔了。", "体育课上他们故意把球往我身上砸，", "I told the teacher but nothing changed. ",
		"wo zhen de hen nan guo, ", "今天放学他们又在门口等我，", "😭😭", "我不想再去学校了，", "they laugh at me in the group chat every night. "}
	texts := make([]string, 50, 50+len(worstCases))
	for i := range texts {
		var sb strings.Builder
		for n := 0; utf8.RuneCountInString(sb.String()) < maxMessageRunes-40; n++ {
			sb.WriteString(parts[(i+n*7)%len(parts)])
			if n == 20+i {
				sb.WriteString("我真的撑不下去了，")
			}
		}
		texts[i] = string([]rune(sb.String())[:maxMessageRunes])
	}
	for _, w := range worstCases {
		texts = append(texts, longest(w))
	}
	// Shuffled the same way each run, so that the worst cases are spread.
	for i := range texts {
		j := (i * 37) % len(texts)
		texts[i], texts[j] = texts[j], texts[i]
	}
	return texts
}

// BenchmarkUrgentCorpus measures the detector on the legacy corpus's
// messages, most of them short.
func BenchmarkUrgentCorpus(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("corpus", "legacy.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	var texts []string
	for _, line := range strings.Split(string(data), "\n") {
		if _, text, ok := strings.Cut(line, "\t"); ok && !strings.HasPrefix(line, "#") {
			texts = append(texts, text)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Urgent(texts[i%len(texts)])
	}
}

// maxMessageRunes is the longest message intake takes
// (thread.MaxMessageRunes).
const maxMessageRunes = 4096

// BenchmarkRulesLong measures the rules alone on the longest message.
func BenchmarkRulesLong(b *testing.B) {
	text := strings.Repeat("他们每天都在背后说我坏话，还把我的书扔了。", maxMessageRunes/21)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rulesReason(text)
	}
}

// corpusCase is one labelled message from corpus/legacy.tsv.
type corpusCase struct {
	line   int
	urgent bool
	text   string
}

func readCorpus(t *testing.T) []corpusCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("corpus", "legacy.tsv"))
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
			t.Fatalf("legacy.tsv:%d: want \"urgent|ordinary<TAB>text\", got %q", i+1, line)
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

// TestFrames: a past that is over and a story told (a lesson, the news, a
// book) are not danger now, and the rules do not claim them; but a past
// marker never vetoes a present one, and a story never hides the
// writer's own danger. Written like the training lines; each was checked
// to match a rule without its frame.
func TestFrames(t *testing.T) {
	tests := []struct {
		text   string
		urgent bool
	}{
		// A past that is over.
		{"以前想过死，现在好多了，谢谢你们", false},
		{"去年我割过手 现在已经一年多没有了 心理老师帮了我很多", false},
		{"小学的时候被人关在厕所里过 现在上了初中 这事早翻篇了", false},
		{"初二那年我站在天台上过 后来转学了 现在挺好的", false},
		{"I used to hurt myself in Year 8. I'm doing much better now.", false},
		{"two years ago i thought about ending it. therapy helped and i'm doing well", false},
		{"my friend used to self harm but she stopped and is doing great", false},
		// A story told.
		{"今天心理课讲了如果同学说想自杀要怎么办 要告诉老师", false},
		{"新闻里说外地有个初中生跳楼了 我们班讨论了很久", false},
		{"语文课在学《雷雨》 周萍最后开枪自杀了", false},
		{"the assembly today was about knife crime, a police officer spoke to us", false},
		{"we watched a documentary in health class about suicide prevention", false},
		// The past, and danger now.
		{"去年我想死 现在还是想", true},
		{"以前被打过 后来好多了 可是今天他们又在厕所打我", true},
		{"I wanted to kill myself last year and I still do", true},
		{"I used to cut, I stopped for a while, but tonight I cut again", true},
		{"I used to be happy, it got better for a while. now i want to kill myself", true},
		{"去年自杀过一次 后来稳定了 最近每天都想死", true},
		// A story, and the writer's own danger.
		{"心理课讲了自杀预防 可是我现在也想死", true},
		{"新闻说有人跳楼了 我也想跳楼", true},
		{"班会的时候他们把我拖到厕所打我", true},
		{"we had an assembly on knife crime and after it he pulled a knife on me", true},
		// Where the lesson is only the place: not a story.
		{"体育课上他从包里拿出一把刀 说再告老师就捅我", true},
		{"a student said in class he will bring a gun next week and shoot us", true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			rd := read(tt.text)
			slang := slangZH.Replace(rd.spaced)
			if matched, _ := rulesMatch(rd, slang); !matched {
				t.Fatalf("no rule matches %q even without its frame: the case tests nothing", tt.text)
			}
			if got, _ := rulesReason(tt.text); got != tt.urgent {
				t.Errorf("rules on %q: %v, want %v", tt.text, got, tt.urgent)
			}
		})
	}
}

// markersSimple is markersIn written plainly, each marker looked for
// alone.
func markersSimple(folded string) uint8 {
	var m uint8
	for _, set := range frameMarkers {
		if set.ts.in(folded) {
			m |= set.kind
		}
	}
	return m
}

// The frames' one pass finds the kinds of marker that each looked for
// alone finds, on the golden texts and on every marker alone, run
// together, glued to a word or spaced.
func TestMarkersOnePass(t *testing.T) {
	texts := goldenTexts(t)
	for _, set := range frameMarkers {
		for _, m := range set.ts {
			texts = append(texts, m.text, "x"+m.text+"x", " "+m.text+" ", m.text+m.text, "我"+m.text)
		}
	}
	for i, text := range texts {
		f := read(text).folded
		if got, want := markersIn(f), markersSimple(f); got != want {
			t.Fatalf("text %d (%.40q): markers %06b, want %06b", i, text, got, want)
		}
	}
}
