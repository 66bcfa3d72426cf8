package urgency

import (
	"bytes"
	_ "embed"
	"slices"
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
	// feature namespaces, hashed before the feature's bytes
	nsChar   = 'c'
	nsSkip   = 's' // two characters with a gap between them
	nsWord   = 'w'
	nsPair   = 'p'
	nsJoin   = 'j' // letter 4-grams of pinyin (typed, or read from characters) without spaces
	joinGram = 4
	// idMark stands for a run of letters and digits that is an id, a
	// number or a hex string, not a word: its letters say nothing of
	// danger, and their n-grams would shift a score by chance.
	idMark = '#'
)

// FeatureOptions say which features a model reads; a model file keeps
// them, so that a message is scored with the features it was trained on.
type FeatureOptions struct {
	// MaxGram is the longest character n-gram (1 to MaxGram).
	MaxGram int
	// SkipGap, when above zero, adds pairs of characters with 1 to
	// SkipGap characters between them (想…死, 不…活): a phrase with
	// another word inside it meets the phrase without it.
	SkipGap int
	// IDs keeps runs of letters and digits that look like ids (a digit
	// and a letter in six or more characters, or five or more digits) as
	// they are; false reads each as one mark.
	IDs bool
}

// DefaultFeatures are the features a model reads by default.
var DefaultFeatures = FeatureOptions{MaxGram: 4}

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
	syls []syllable
}

// syllable is one toneless syllable with the hashes of its features: as a
// word, and as the first of a pair (to be followed by the second's text).
type syllable struct {
	text       string
	word, pair uint32
}

func newSyllable(text string) syllable {
	return syllable{text: text, word: fnvString(fnvByte(fnvOffset, nsWord), text), pair: fnvByte(fnvString(fnvByte(fnvOffset, nsPair), text), ' ')}
}

// number returns the syllable number of r; 0 when it has no reading.
func (t *pinyinTable) number(r rune) uint16 {
	if r < pinyinFirst || r > pinyinLast {
		return 0
	}
	return t.syl[r-pinyinFirst]
}

// reading returns the toneless syllable of r, if it has one.
func (t *pinyinTable) reading(r rune) (string, bool) {
	n := t.number(r)
	return t.syls[n].text, n != 0
}

// pinyinOf returns the table of readings, built on first use.
var pinyinOf = sync.OnceValue(func() *pinyinTable {
	t := &pinyinTable{syl: make([]uint16, pinyinLast-pinyinFirst+1), syls: []syllable{{}}}
	for _, line := range strings.Split(pinyinFile, "\n") {
		syl, chars, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		t.syls = append(t.syls, newSyllable(syl))
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

// units returns a message read (read) as the characters the n-grams are
// made of, in out's array if it is large enough: letters, digits, Han characters and symbols (emoji) kept, every
// run of spaces and punctuation one ' '.
func units(out []rune, spaced string, keepIDs bool) []rune {
	return unitsOf(out, slangZH.Replace(spaced), keepIDs)
}

// unitsOf is units given spaced with its slang replaced (slangZH.Replace).
func unitsOf(out []rune, s string, keepIDs bool) []rune {
	out = slices.Grow(out[:0], len(s)/2+1)
	idFrom := -1 // where the current run of ASCII letters and digits began in out
	gap := true  // no boundary mark at the start
	var kept [16]struct {
		r    rune
		keep bool
	}
	for i := range kept {
		kept[i].r = -1
	}
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF { // Han, most of most messages
			if idFrom >= 0 {
				out, idFrom = collapseID(out, idFrom, keepIDs), -1
			}
			out = append(out, r)
			gap = false
			continue
		}
		if r >= 0xE0 && r <= 0x1DC { // where the tone-marked vowels are
			if t, ok := toneless[r]; ok {
				r = t
			}
		}
		alnum := r < utf8.RuneSelf && (isASCIILetter(r) || (r >= '0' && r <= '9'))
		if !alnum && idFrom >= 0 {
			out, idFrom = collapseID(out, idFrom, keepIDs), -1
		}
		c := &kept[r&15]
		if c.r != r {
			// Looked up in Unicode's tables once for the few runes a
			// message repeats (emoji, punctuation).
			c.r, c.keep = r, r == '\'' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.So, r)
		}
		if c.keep {
			if alnum && idFrom < 0 {
				idFrom = len(out)
			}
			out = append(out, r)
			gap = false
			continue
		}
		if !gap {
			out = append(out, ' ')
			gap = true
		}
	}
	if idFrom >= 0 {
		out = collapseID(out, idFrom, keepIDs)
	}
	return out
}

// collapseID replaces the run of ASCII letters and digits out[from:] by
// idMark when it looks like an id rather than a word: five or more digits
// (a phone or QQ number, a year with more), or six or more characters
// with both digits and letters (a hex string, a user name). Short mixes
// are children's spelling and stay: 2nite, b4, 4ever, 520.
func collapseID(out []rune, from int, keep bool) []rune {
	if keep {
		return out
	}
	run := out[from:]
	digits := 0
	for _, r := range run {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if (digits == len(run) && digits >= 5) || (digits > 0 && digits < len(run) && len(run) >= 6) {
		return append(out[:from], idMark)
	}
	return out
}

// sink takes the features of a message: bucket at the position of the
// characters where it starts. Scoring adds their weights (add), from a
// decoded model's quantised weights (q, step: each the float32 the model
// file decodes to) or from float ones (w); training counts them (counts).
// One concrete type rather than an interface or a type parameter, so that
// each of the tens of thousands of features of a long message is a call
// the compiler inlines, not one through a table.
type sink struct {
	add    []float32
	q      []int16
	step   float64
	w      []float32
	counts map[uint32]float32
}

func (s *sink) emit(at int, bucket uint32) {
	switch {
	case s.q != nil:
		s.add[at] += float32(float64(s.q[bucket]) * s.step)
	case s.w != nil:
		s.add[at] += s.w[bucket]
	default:
		s.counts[bucket]++
	}
}

// mixRune adds a character to a hash: character n-grams are hashed
// character by character, not byte by byte.
func mixRune(h uint32, r rune) uint32 { return (h ^ uint32(r)) * fnvPrime }

// features calls e.emit for each feature of the characters u (units),
// with its bucket masked to mask (the number of buckets less one), at the
// position of u where it starts.
func features(o FeatureOptions, u []rune, mask uint32, e *sink) {
	charSeed := fnvByte(fnvOffset, nsChar)
	// Character n-grams; apostrophes belong to words only.
	for i := range u {
		if u[i] == '\'' {
			continue
		}
		h := charSeed
		for n := 0; n < o.MaxGram && i+n < len(u); n++ {
			r := u[i+n]
			if r == '\'' || (n > 0 && r == ' ' && u[i] == ' ') {
				break
			}
			h = mixRune(h, r)
			if n == 0 && r == ' ' {
				continue // a lone boundary says nothing
			}
			e.emit(i, h&mask)
		}
		// Pairs with a gap, within a clause.
		if u[i] == ' ' {
			continue
		}
		for g := 1; g <= o.SkipGap && i+g+1 < len(u); g++ {
			if u[i+g] == ' ' || u[i+g] == '\'' {
				break
			}
			r := u[i+g+1]
			if r == ' ' || r == '\'' {
				break
			}
			h := mixRune(fnvByte(fnvByte(fnvOffset, nsSkip), byte('0'+g)), u[i])
			e.emit(i, mixRune(h, r)&mask)
		}
	}
	// Words of Latin letters and digits (English, pinyin), with the
	// contractions the rules expand, and pairs of neighbouring words.
	ws := wordState{e: e, mask: mask}
	var buf [64]byte
	for i := 0; i < len(u); {
		if !isWordRune(u[i]) {
			if u[i] != ' ' || (i > 0 && !isWordRune(u[i-1])) {
				ws.prev = false // a pair never spans punctuation or Chinese
			}
			i++
			continue
		}
		j := i
		for j < len(u) && isWordRune(u[j]) {
			j++
		}
		word := buf[:0] // the word's bytes: its runes are ASCII
		for _, r := range u[i:j] {
			word = append(word, byte(r))
		}
		ws.at = i
		i = j
		expandWord(bytes.Trim(word, "'"), ws.word)
	}
	pinyinFeatures(u, mask, e)
}

// wordState emits the features of English and pinyin words one by one:
// each word, and the pair it makes with the one before, hashed from the
// word's bytes as they are read.
type wordState struct {
	e        *sink
	mask     uint32
	at       int    // where the word being read begins
	prev     bool   // a word before it can pair with it
	prevAt   int    // where that word begins
	prevPair uint32 // that word's hash as the first of a pair
}

func (s *wordState) word(w []byte) {
	s.e.emit(s.at, fnvBytes(fnvByte(fnvOffset, nsWord), w)&s.mask)
	if s.prev {
		s.e.emit(s.prevAt, fnvBytes(s.prevPair, w)&s.mask)
	}
	s.prev, s.prevAt, s.prevPair = true, s.at, fnvByte(fnvBytes(fnvByte(fnvOffset, nsPair), w), ' ')
}

func fnvBytes(h uint32, b []byte) uint32 {
	for _, c := range b {
		h = fnvByte(h, c)
	}
	return h
}

// joinBuf holds the letters of one run for pinyinFeatures.
type joinBuf struct {
	letters []byte
	from    []int32 // the character each letter came from
}

var joinPool = sync.Pool{New: func() any { return &joinBuf{letters: make([]byte, 0, 512), from: make([]int32, 0, 512)} }}

// pinyinFeatures emits the features of pinyin: Chinese characters read as
// syllables (words and pairs, as typed pinyin words are), and letter
// 4-grams without spaces over every run of characters (read) or of Latin
// words (typed pinyin, and English, where they do no harm).
func pinyinFeatures(u []rune, mask uint32, e *sink) {
	table := pinyinOf()
	jb := joinPool.Get().(*joinBuf)
	defer joinPool.Put(jb)
	joined, from := jb.letters[:0], jb.from[:0]
	joinSeed := fnvByte(fnvOffset, nsJoin)
	flush := func() {
		for i := 0; i+joinGram <= len(joined); i++ {
			h := joinSeed
			for _, c := range joined[i : i+joinGram] {
				h = fnvByte(h, c)
			}
			e.emit(int(from[i]), h&mask)
		}
		joined, from = joined[:0], from[:0]
	}
	prev, prevAt := uint16(0), -1
	han := false // the run is of characters, not Latin words
	for i, r := range u {
		n := table.number(r)
		switch {
		case n != 0:
			if !han {
				flush()
				han, prev = true, 0
			}
			syl := table.syls[n]
			e.emit(i, syl.word&mask)
			if prev != 0 {
				e.emit(prevAt, fnvString(table.syls[prev].pair, syl.text)&mask)
			}
			prev, prevAt = n, i
			for k := 0; k < len(syl.text); k++ {
				joined, from = append(joined, syl.text[k]), append(from, int32(i))
			}
		case r < utf8.RuneSelf && isASCIILetter(r):
			if han {
				flush()
				han = false
			}
			joined, from = append(joined, byte(r)), append(from, int32(i))
		case r == ' ' && !han:
			// spaces between typed words are dropped
		default:
			flush()
			han, prev = false, 0
		}
	}
	flush()
	jb.letters, jb.from = joined, from
}

func isWordRune(r rune) bool {
	return r == '\'' || (r < utf8.RuneSelf && (isASCIILetter(r) || (r >= '0' && r <= '9')))
}

// expandWord calls emit with each word an English word w is, as the rules
// read it: "im" is "i am", "gonna" is "going to", "mom's" is "mom". The
// words may share w's bytes; emit must not keep them.
func expandWord(w []byte, emit func(w []byte)) {
	if len(w) == 0 {
		return
	}
	if p, ok := bytes.CutSuffix(w, []byte("'s")); ok && len(p) > 0 {
		w = p
		if isWords[string(p)] {
			emit(p)
			emit(wordIs)
			return
		}
	}
	if ws, ok := wordsOf[string(w)]; ok { // can't, won't, and enWords
		for _, x := range ws {
			emit(x)
		}
		return
	}
	for i, x := range enSuffixes {
		if bytes.HasSuffix(w, []byte(x.suf)) && len(w) > len(x.suf) {
			// "do" and "not": a word with a space is never one of enWords.
			emit(w[:len(w)-len(x.suf)])
			for _, x := range suffixWords[i] {
				emit(x)
			}
			return
		}
	}
	emit(w)
}

// The words expandWord writes, as bytes once and for all.
var (
	wordIs      = []byte("is")
	wordsOf     = map[string][][]byte{"can't": split("can not"), "won't": split("will not")}
	suffixWords [][][]byte
)

func init() {
	for w, e := range enWords {
		wordsOf[w] = split(e)
	}
	for _, x := range enSuffixes {
		suffixWords = append(suffixWords, split(x.with))
	}
}

func split(s string) [][]byte {
	var out [][]byte
	for _, w := range strings.Fields(s) {
		out = append(out, []byte(w))
	}
	return out
}
