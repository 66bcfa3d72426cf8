package urgency

import (
	"regexp"
	"regexp/syntax"
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
	// strs, when the pattern matches one of a few hundred strings, are
	// those strings by their first rune, in the order the expression
	// tries them, each with what replaces it: matched without running
	// the expression (see finite).
	strs map[rune][]finiteMatch
	// boundEnd says a match must end at a word boundary (a final \b).
	boundEnd bool
}

// finiteMatch is one string a rewrite matches and what replaces it.
type finiteMatch struct{ text, with string }

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
	n.strs, n.boundEnd = finite(re, n.anchored, with)
	return n
}

// maxFinite bounds the strings a rewrite is matched by.
const maxFinite = 2000

// finite lists the strings re matches, by their first rune, in the order
// a backtracking match tries them (alternatives in order, an optional part
// first present), each with what replaces it, and whether a match must end
// at a word boundary; nil when re matches more than maxFinite strings, or
// has an assertion other than \b at its start or end (the start is checked
// by the caller: the first rune, and words). At one place the expression
// matches the first string listed that the text begins with (and that
// ends at a word boundary if it must): with nothing but literals,
// alternatives and optional parts, no other way of matching exists. The
// replacement is the expression's own, worked out once on the string.
func finite(re *syntax.Regexp, anchored *regexp.Regexp, with string) (map[rune][]finiteMatch, bool) {
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	if len(parts) > 0 && parts[0].Op == syntax.OpWordBoundary {
		parts = parts[1:]
	}
	boundEnd := false
	if len(parts) > 0 && parts[len(parts)-1].Op == syntax.OpWordBoundary {
		parts, boundEnd = parts[:len(parts)-1], true
	}
	list := []string{""}
	for _, p := range parts {
		l, ok := language(p)
		if !ok || len(list)*len(l) > maxFinite {
			return nil, false
		}
		var next []string
		for _, a := range list {
			for _, b := range l {
				next = append(next, a+b)
			}
		}
		list = next
	}
	out := map[rune][]finiteMatch{}
	for _, str := range list {
		if str == "" {
			return nil, false
		}
		probe := str
		if boundEnd { // followed by what makes the final \b hold
			probe += map[bool]string{true: " ", false: "a"}[isWordByte(str[len(str)-1])]
		}
		m := anchored.FindStringSubmatchIndex(probe)
		switch {
		case m == nil || m[1] > len(str):
			return nil, false // not the simple language it seemed: run the expression
		case m[1] < len(str):
			continue // a string listed earlier begins it and is always matched first
		}
		r, _ := utf8.DecodeRuneInString(str)
		with := string(anchored.ExpandString(nil, with, str, m))
		out[r] = append(out[r], finiteMatch{text: str, with: with})
	}
	return out, boundEnd
}

// language returns the strings re matches in the order a backtracking
// match tries them; ok is false when they are not a short list of
// strings.
func language(re *syntax.Regexp) (out []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCharClass:
		// One rune of the class: two cannot both match at one place, so
		// their order does not matter.
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxSet {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, true
	case syntax.OpCapture:
		return language(re.Sub[0])
	case syntax.OpQuest:
		if re.Flags&syntax.NonGreedy != 0 {
			return nil, false
		}
		l, ok := language(re.Sub[0])
		return append(l, ""), ok
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			l, ok := language(sub)
			if !ok || len(out)+len(l) > maxFinite {
				return nil, false
			}
			out = append(out, l...)
		}
		return out, true
	case syntax.OpConcat:
		out = []string{""}
		for _, sub := range re.Sub {
			l, ok := language(sub)
			if !ok || len(out)*len(l) > maxFinite {
				return nil, false
			}
			var next []string
			for _, a := range out {
				for _, b := range l {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// matchFinite returns the length of n's match at s[i:] and its
// replacement, as n.anchored would; ok is false when none.
func (n *near) matchFinite(s string, i int, r rune) (size int, with string, ok bool) {
	for _, m := range n.strs[r] {
		if !strings.HasPrefix(s[i:], m.text) {
			continue
		}
		end := i + len(m.text)
		if n.boundEnd && wordByteBefore(s, end) == wordByteAt(s, end) {
			continue
		}
		return len(m.text), m.with, true
	}
	return 0, "", false
}

// ReplaceAllString is n.re.ReplaceAllString(s, n.with): matches replaced
// from left to right, none overlapping.
func (n *near) ReplaceAllString(s string) string { return n.replace(s, nil) }

// replace is ReplaceAllString, finding n's words in s through c (nil: no
// cache), which rewrites run in turn on one text share.
func (n *near) replace(s string, c *litCache) string {
	at := n.occurrences(s, c)
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
		r, size := decodeAt(s, i)
		if !n.first.has(r) || (n.words && i > 0 && s[i-1] != ' ') {
			i += size
			continue
		}
		if n.strs != nil {
			took, with, ok := n.matchFinite(s, i, r)
			if !ok {
				i += size
				continue
			}
			if b == nil {
				b = make([]byte, 0, len(s)+16)
			}
			b = append(append(b, s[last:i]...), with...)
			i += took
			last = i
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
func (n *near) occurrences(s string, c *litCache) []int {
	var at []int
	for i, lit := range n.lits {
		p := c.find(s, lit)
		if i == 0 {
			at = p
			continue
		}
		at = mergeInts(at, p)
	}
	return at
}

// mergeInts returns the offsets of a and b in order, in a new array.
func mergeInts(a, b []int) []int {
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return append(append(out, a[i:]...), b[j:]...)
}

// litCache keeps where words stand in one text, so that the rewrites run
// on it in turn (neutralZH: six of them, most looking for 死) look for
// each word once, and again only once one of them changed the text.
type litCache struct {
	s     string
	found []litPlaces
}

type litPlaces struct {
	lit string
	at  []int // shared: never appended to
}

// find returns where lit stands in s, in order.
func (c *litCache) find(s, lit string) []int {
	if c == nil {
		return indexAll(s, lit)
	}
	if s != c.s { // the same string is compared by its pointer, at once
		c.s, c.found = s, c.found[:0]
	}
	for _, f := range c.found {
		if f.lit == lit {
			return f.at
		}
	}
	at := indexAll(s, lit)
	c.found = append(c.found, litPlaces{lit: lit, at: at})
	return at
}

// indexAll returns where lit stands in s, in order, overlaps included.
// A Chinese character is looked for by its last bytes: its first byte
// begins a fifth of the characters of a Chinese text, the others are
// spread over 64 values.
func indexAll(s, lit string) []int {
	var at []int
	if len(s) < len(lit) || lit == "" {
		return nil
	}
	skip := 0 // bytes of lit looked for afterwards
	if len(lit) >= 3 && lit[0] >= utf8.RuneSelf {
		skip = 1
	}
	tail := lit[skip:]
	for i := skip; ; {
		j := strings.Index(s[i:], tail)
		if j < 0 {
			break
		}
		if p := i + j - skip; s[p:p+skip] == lit[:skip] {
			at = append(at, p)
		}
		i += j + 1
	}
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
