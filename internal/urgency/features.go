package urgency

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The statistical layer reads a message as hashed features:
//
//   - character n-grams of 1 to 4 characters over the folded text (full
//     width, case, traditional characters and homophone slang folded as
//     the rules fold them; punctuation and spaces one boundary mark), which
//     covers Chinese without a word segmenter, pinyin in any spacing,
//     English spelling variants and emoji;
//   - English and pinyin words and word pairs, contractions expanded
//     ("gonna" is "going to"), so that word order inside a phrase counts;
//   - Chinese characters read as pinyin (the toneless first reading of
//     each): their syllables and syllable pairs as words, and 4-grams of
//     the letters with the spaces dropped, as pinyin typing is read too —
//     so a message typed in pinyin, spaced or not, meets the Chinese lines
//     that mean the same.
//
// Each feature is hashed (FNV-1a) into one of 1<<bits buckets, so the model
// is a fixed array of weights whatever words the corpus holds. A feature is
// kept with the position where it starts, so that a long message can be
// scored window by window (see Model.Score).

const (
	maxGram = 4 // longest character n-gram
	// feature namespaces, hashed before the feature's bytes
	nsChar   = 'c'
	nsWord   = 'w'
	nsPair   = 'p'
	nsJoin   = 'j' // letter 4-grams of pinyin (typed, or read from characters) without spaces
	joinGram = 4
)

// pinyinFile maps characters to their toneless pinyin (pinyin/gen.go).
//
//go:embed pinyin/pinyin.txt
var pinyinFile string

// The table covers U+4E00–U+9FFF.
const (
	pinyinFirst = 0x4E00
	pinyinLast  = 0x9FFF
)

// pinyinTable is the table of readings: syllable numbers (1-based) by
// character, so that a lookup is an index, and the syllables.
type pinyinTable struct {
	syl  []uint16
	syls []string
}

// reading returns the toneless syllable of r, if it has one.
func (t *pinyinTable) reading(r rune) (string, bool) {
	if r < pinyinFirst || r > pinyinLast {
		return "", false
	}
	n := t.syl[r-pinyinFirst]
	return t.syls[n], n != 0
}

// pinyinOf returns the table of readings, built on first use.
var pinyinOf = sync.OnceValue(func() *pinyinTable {
	t := &pinyinTable{syl: make([]uint16, pinyinLast-pinyinFirst+1), syls: []string{""}}
	for _, line := range strings.Split(pinyinFile, "\n") {
		syl, chars, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		t.syls = append(t.syls, syl)
		for _, r := range chars {
			if r >= pinyinFirst && r <= pinyinLast {
				t.syl[r-pinyinFirst] = uint16(len(t.syls) - 1)
			}
		}
	}
	return t
})

// toneless maps the tone-marked vowels of typed pinyin to plain letters.
var toneless = map[rune]rune{
	'ā': 'a', 'á': 'a', 'ǎ': 'a', 'à': 'a', 'ē': 'e', 'é': 'e', 'ě': 'e', 'è': 'e',
	'ī': 'i', 'í': 'i', 'ǐ': 'i', 'ì': 'i', 'ō': 'o', 'ó': 'o', 'ǒ': 'o', 'ò': 'o',
	'ū': 'u', 'ú': 'u', 'ǔ': 'u', 'ù': 'u', 'ǖ': 'v', 'ǘ': 'v', 'ǚ': 'v', 'ǜ': 'v', 'ü': 'v',
}

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnvByte(h uint32, b byte) uint32 { return (h ^ uint32(b)) * fnvPrime }

func fnvString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h = fnvByte(h, s[i])
	}
	return h
}

func fnvRune(h uint32, r rune) uint32 {
	var buf [utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], r)
	for _, b := range buf[:n] {
		h = fnvByte(h, b)
	}
	return h
}

// units returns a message read (read) as the characters the n-grams are
// made of: letters, digits, Han characters and symbols (emoji) kept, every
// run of spaces and punctuation one ' '.
func units(spaced string) []rune {
	s := slangZH.Replace(spaced)
	out := make([]rune, 0, len(s)/2+1)
	gap := true // no boundary mark at the start
	for _, r := range s {
		if r >= 0xE0 && r <= 0x1DC { // where the tone-marked vowels are
			if t, ok := toneless[r]; ok {
				r = t
			}
		}
		if r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.So, r) {
			out = append(out, r)
			gap = false
			continue
		}
		if !gap {
			out = append(out, ' ')
			gap = true
		}
	}
	return out
}

// features calls emit for each feature of the characters u (units), with
// its bucket masked to mask (the number of buckets less one), at the
// position of u where it starts.
func features(u []rune, mask uint32, emit func(at int, bucket uint32)) {
	// Character n-grams; apostrophes belong to words only.
	for i := range u {
		if u[i] == '\'' {
			continue
		}
		h := fnvByte(fnvOffset, nsChar)
		for n := 0; n < maxGram && i+n < len(u); n++ {
			r := u[i+n]
			if r == '\'' || (n > 0 && r == ' ' && u[i] == ' ') {
				break
			}
			h = fnvRune(h, r)
			if n == 0 && r == ' ' {
				continue // a lone boundary says nothing
			}
			emit(i, h&mask)
		}
	}
	// Words of Latin letters and digits (English, pinyin), with the
	// contractions the rules expand, and pairs of neighbouring words.
	prev, prevAt := "", -1
	for i := 0; i < len(u); {
		if !isWordRune(u[i]) {
			if u[i] != ' ' || (i > 0 && !isWordRune(u[i-1])) {
				prev = "" // a pair never spans punctuation or Chinese
			}
			i++
			continue
		}
		j := i
		for j < len(u) && isWordRune(u[j]) {
			j++
		}
		word := strings.Trim(string(u[i:j]), "'")
		at := i
		i = j
		if word == "" {
			continue
		}
		for rest := expandWord(word); rest != ""; {
			var w string
			w, rest, _ = strings.Cut(rest, " ")
			emit(at, fnvString(fnvByte(fnvOffset, nsWord), w)&mask)
			if prev != "" {
				h := fnvString(fnvByte(fnvOffset, nsPair), prev)
				h = fnvString(fnvByte(h, ' '), w)
				emit(prevAt, h&mask)
			}
			prev, prevAt = w, at
		}
	}
	pinyinFeatures(u, mask, emit)
}

// pinyinFeatures emits the features of pinyin: Chinese characters read as
// syllables (words and pairs, as typed pinyin words are), and letter
// 4-grams without spaces over every run of characters (read) or of Latin
// words (typed pinyin, and English, where they do no harm).
func pinyinFeatures(u []rune, mask uint32, emit func(at int, bucket uint32)) {
	table := pinyinOf()
	var joined []byte // the run's letters
	var from []int    // the character each letter came from
	flush := func() {
		for i := 0; i+joinGram <= len(joined); i++ {
			h := fnvString(fnvByte(fnvOffset, nsJoin), string(joined[i:i+joinGram]))
			emit(from[i], h&mask)
		}
		joined, from = joined[:0], from[:0]
	}
	prev, prevAt := "", -1
	han := false // the run is of characters, not Latin words
	for i, r := range u {
		syl, isHan := table.reading(r)
		switch {
		case isHan:
			if !han {
				flush()
				han, prev = true, ""
			}
			emit(i, fnvString(fnvByte(fnvOffset, nsWord), syl)&mask)
			if prev != "" {
				h := fnvString(fnvByte(fnvOffset, nsPair), prev)
				emit(prevAt, fnvString(fnvByte(h, ' '), syl)&mask)
			}
			prev, prevAt = syl, i
			for k := 0; k < len(syl); k++ {
				joined, from = append(joined, syl[k]), append(from, i)
			}
		case r < utf8.RuneSelf && isASCIILetter(r):
			if han {
				flush()
				han = false
			}
			joined, from = append(joined, byte(r)), append(from, i)
		case r == ' ' && !han:
			// spaces between typed words are dropped
		default:
			flush()
			han, prev = false, ""
		}
	}
	flush()
}

func isWordRune(r rune) bool {
	return r == '\'' || (r < utf8.RuneSelf && (isASCIILetter(r) || (r >= '0' && r <= '9')))
}

// expandWord writes an English word as the rules read it: "im" is "i am",
// "gonna" is "going to", "mom's" is "mom".
func expandWord(w string) string {
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
