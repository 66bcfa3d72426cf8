package urgency

import (
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// foldSimple is fold written plainly, rune by rune: fold must answer the
// same for every text, only faster.
func foldSimple(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r == '\t' || r == '\r' {
				r = ' '
			} else if r == '`' {
				r = '\''
			}
			b.WriteByte(byte(unicode.ToLower(r)))
			continue
		}
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			r -= 0xFEE0
		case r == 0x3000:
			r = ' '
		case r == '’' || r == '‘':
			r = '\''
		}
		if s, ok := simplified[r]; ok {
			r = s
		} else if e, ok := emoji[r]; ok {
			b.WriteString(e)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// readSimple is read written plainly.
func readSimple(text string) reading {
	f := foldSimple(text)
	return reading{folded: f, spaced: joinSpacedHan(strings.Join(strings.Fields(f), " "))}
}

var foldSeeds = []string{"", "我想死", "ＫＮＩＦＥ　我", "殺了他們", "I'M GONNA\tKILL\r\nmyself", "🔪🗡💊💣🧨🪢😀", "\xff\xfe我", "ÀÉÎ ΣΑΣ Ǆ", "it’s ‘fine’ `ok`",
	"  a  b \u00a0 c\u2003d\u3000\u3000e  ", "我 想 死", "\u0085x\u2028y", "\ufffd", "a\x00b"}

func TestFoldMatchesSimple(t *testing.T) {
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	texts := append([]string{}, foldSeeds...)
	for _, e := range ex {
		texts = append(texts, e.Text, strings.ToUpper(e.Text))
	}
	for _, s := range texts {
		if got, want := fold(s), foldSimple(s); got != want {
			t.Errorf("fold(%.40q) = %.60q, want %.60q", s, got, want)
		}
		if got, want := read(s), readSimple(s); got != want {
			t.Errorf("read(%.40q) = %+.60v, want %+.60v", s, got, want)
		}
	}
}

func FuzzFold(f *testing.F) {
	for _, s := range foldSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := fold(s), foldSimple(s); got != want {
			t.Fatalf("fold = %q, want %q", got, want)
		}
		if got, want := read(s), readSimple(s); got != want {
			t.Fatalf("read = %+v, want %+v", got, want)
		}
	})
}

func FuzzPhrases(f *testing.F) {
	for _, s := range []string{"紫砂紫砂", "美工刀刀削面", "水弹枪水枪枪手", "踢出了群踢出群", "紫", "\xff紫砂"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := slangZH.Replace(s), slangOld.Replace(s); got != want {
			t.Fatalf("Replace = %q, want %q", got, want)
		}
	})
}

// The rewrites read near their words replace as the regular expressions
// do over the whole text: on every fourth line of the corpora (all with
// HOTLINE_TEST_ALL_LINES=1; FuzzNear tries any text) and the worst cases.
func TestNearMatchesRegexp(t *testing.T) {
	ex, err := TrainingSet("corpus")
	if err != nil {
		t.Fatal(err)
	}
	every := 4
	if os.Getenv("HOTLINE_TEST_ALL_LINES") == "1" {
		every = 1
	}
	var texts []string
	for i := 0; i < len(ex); i += every {
		texts = append(texts, ex[i].Text)
	}
	for _, c := range worstCases {
		texts = append(texts, longest(c))
	}
	texts = append(texts, longest("笑死累得要死想死你了妈妈会杀了我的知道了会打死我"), longest("my mom will kill me water gun guns bored i could die "))
	for _, text := range texts {
		nearAgrees(t, text)
	}
}

func nearAgrees(t *testing.T, text string) {
	t.Helper()
	rd := read(text)
	zh := replacePinyin(rd.spaced)
	for i, n := range neutralZH {
		if got, want := n.ReplaceAllString(zh), n.re.ReplaceAllString(zh, n.with); got != want {
			t.Fatalf("neutralZH[%d] on %.40q: %.80q, want %.80q", i, text, got, want)
		}
	}
	en := prepareEnglish(rd.folded)
	for _, n := range []*near{toyGuns, hyperboleEN, boredEN} {
		if got, want := n.ReplaceAllString(en), n.re.ReplaceAllString(en, n.with); got != want {
			t.Fatalf("%s on %.40q: %.80q, want %.80q", n.re, text, got, want)
		}
	}
}

func FuzzNear(f *testing.F) {
	for _, s := range []string{"笑死了", "累得要死", "打死我也不说", "想死你了", "妈妈知道了会打死我", "my mom is going to kill me ", "water guns", "so bored i could die "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { nearAgrees(t, s) })
}

// expandWordOld is expandWord as it was, returning the words joined.
func expandWordOld(w string) string {
	if p, ok := strings.CutSuffix(w, "'s"); ok && p != "" {
		if w = p; isWords[p] {
			return p + " is"
		}
	}
	switch w {
	case "can't":
		return "can not"
	case "won't":
		return "will not"
	}
	for _, x := range enSuffixes {
		if strings.HasSuffix(w, x.suf) && len(w) > len(x.suf) {
			w = w[:len(w)-len(x.suf)] + x.with
			break
		}
	}
	if e, ok := enWords[w]; ok {
		return e
	}
	return w
}

func expandJoined(w string) string {
	var out []string
	expandWord([]byte(w), func(b []byte) { out = append(out, string(b)) })
	return strings.Join(out, " ")
}

func FuzzExpandWord(f *testing.F) {
	for w := range enWords {
		f.Add(w)
		f.Add(w + "'s")
	}
	for _, s := range []string{"can't", "won't", "he's", "mom's", "didn't", "i'll", "'s", "x's", "n't", "we're", "i'm", "you'd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		w = strings.Trim(w, "'")
		if w == "" {
			return
		}
		if got, want := expandJoined(w), expandWordOld(w); got != want {
			t.Fatalf("expandWord(%q) = %q, want %q", w, got, want)
		}
	})
}

// decodeAt decodes as utf8.DecodeRuneInString every three bytes that
// begin a three-byte form, every two bytes, and their first one or two
// alone.
func TestDecodeAt(t *testing.T) {
	b := make([]byte, 3)
	for c0 := 0; c0 < 256; c0++ {
		for c1 := 0; c1 < 256; c1++ {
			for c2 := 0; c2 < 256; c2++ {
				if c0&0xF0 != 0xE0 && c2 > 0 {
					break // only a three-byte form's third byte is read apart
				}
				b[0], b[1], b[2] = byte(c0), byte(c1), byte(c2)
				for n := 1; n <= 3; n++ {
					s := string(b[:n])
					gr, gs := decodeAt(s, 0)
					wr, ws := utf8.DecodeRuneInString(s)
					if gr != wr || gs != ws {
						t.Fatalf("decodeAt(% x) = %U %d, want %U %d", s, gr, gs, wr, ws)
					}
				}
			}
		}
	}
}

// isHan's quick answer for emoji and symbols is Unicode's.
func TestIsHanEmoji(t *testing.T) {
	for r := rune(0x1F000); r < 0x20000; r++ {
		if got, want := isHan(r), unicode.Is(unicode.Han, r); got != want {
			t.Fatalf("isHan(%U) = %v, want %v", r, got, want)
		}
	}
}
