package urgency

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// A regular expression run over a whole 4,000-character message takes
// Go's slower matcher (the input is too long for its backtracker) and
// costs about a millisecond. The rules' rewrites and their contexts are
// made of words every match contains, so those are searched for first,
// and the expression is tried, anchored, only where a match can begin
// with one of them within its reach, on the few characters it can take.

// near is a rewrite tried only near the words every match contains.
type near struct {
	re       *regexp.Regexp // as written, for its Expand
	anchored *regexp.Regexp
	first    runeSet // the runes a match can begin with
	with     string
	// lits are words every match of re contains one of.
	lits []string
	// reach is the most bytes a match of re can take.
	reach int
	// words says the text is English as the rules read it, and a match
	// begins a word (after a space, or at the start).
	words bool
}

// newNear compiles pattern, every match of which contains one of lits and
// begins with a definite character.
func newNear(pattern, with string, words bool, lits ...string) *near {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		panic(err)
	}
	simple := re.Simplify()
	reach, ok := maxBytes(simple)
	if !ok {
		panic("urgency: unbounded rewrite " + pattern)
	}
	first, ok := firstRunes(simple)
	if !ok || len(first) == 0 {
		panic("urgency: a rewrite without a definite first character " + pattern)
	}
	n := &near{re: regexp.MustCompile(pattern), anchored: regexp.MustCompile(`^(?:` + pattern + `)`), with: with, lits: lits, reach: reach, words: words}
	for _, r := range first {
		n.first.add(r)
	}
	return n
}

// ReplaceAllString is n.re.ReplaceAllString(s, n.with): matches replaced
// from left to right, none overlapping.
func (n *near) ReplaceAllString(s string) string {
	at := n.occurrences(s)
	if len(at) == 0 {
		return s
	}
	var b []byte
	last, k := 0, 0 // k: the first occurrence not before i
	for i := 0; i < len(s); {
		for k < len(at) && at[k] < i {
			k++
		}
		if k == len(at) {
			break
		}
		if far := at[k] - n.reach; far > i {
			// No match begins before a word it contains is in reach.
			i = far
			for i < len(s) && !utf8.RuneStart(s[i]) {
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !n.first.has(r) || (n.words && i > 0 && s[i-1] != ' ') {
			i += size
			continue
		}
		// One rune past the reach, so that a \b at the end reads what
		// follows.
		window := s[i:min(len(s), i+n.reach+utf8.UTFMax)]
		m := n.anchored.FindStringSubmatchIndex(window)
		if m == nil || m[1] == 0 {
			i += size
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s)+16)
		}
		b = append(b, s[last:i]...)
		b = n.anchored.ExpandString(b, n.with, window, m)
		i += m[1]
		last = i
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// occurrences returns where n's words stand in s, in order.
func (n *near) occurrences(s string) []int {
	var at []int
	for _, lit := range n.lits {
		for i := 0; ; {
			j := strings.Index(s[i:], lit)
			if j < 0 {
				break
			}
			at = append(at, i+j)
			i += j + 1
		}
	}
	slices.Sort(at)
	return at
}

// terms are words and phrases looked for in a whole message: a message
// is about a game, or says it is a joke. A term marked bounded must stand
// as a word of its own (\b on both sides, ASCII letters and digits being
// word characters).
type terms []term

type term struct {
	text    string
	bounded bool
}

// in reports whether one of the terms stands in s.
func (ts terms) in(s string) bool {
	for _, t := range ts {
		for i := 0; ; {
			j := strings.Index(s[i:], t.text)
			if j < 0 {
				break
			}
			p := i + j
			if !t.bounded || (!wordByteBefore(s, p) && !wordByteAt(s, p+len(t.text))) {
				return true
			}
			i = p + 1
		}
	}
	return false
}

// wordByteBefore and wordByteAt report whether the byte before (at) i is
// a word character as \b reads it.
func wordByteBefore(s string, i int) bool { return i > 0 && isWordByte(s[i-1]) }
func wordByteAt(s string, i int) bool     { return i < len(s) && isWordByte(s[i]) }

func isWordByte(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// anyTerm returns the terms of an alternation of words: bounded ones as
// \bword\b, others as they are.
func anyTerm(words ...string) terms {
	out := make(terms, 0, len(words))
	for _, w := range words {
		if t, ok := strings.CutPrefix(w, `\b`); ok {
			out = append(out, term{text: strings.TrimSuffix(t, `\b`), bounded: true})
			continue
		}
		out = append(out, term{text: w})
	}
	return out
}
