package urgency

import (
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The rules are tried only where a match could begin, and only where it
// could be completed: each top-level alternative of a rule lists the runes
// it can begin with and the sets of runes every match of it must contain
// (想~6死 needs a 死 within its reach). A text is scanned once for both,
// so that a regular expression runs only where all its needs are met
// nearby. On a long message of ordinary bullying most rules then never
// run at all, and what the rules cost no longer grows with the number of
// places a common character (我, 在, 把) stands.

// firstAlts lists, for one rune a rule can begin with (its first-rune id),
// the alternatives of the rule that can begin with it.
type firstAlts struct {
	id   int
	alts []int
}

// alt is what one alternative of a rule needs.
type alt struct {
	first  []uint64 // the runes it can begin with, as bits of first-rune ids
	prefix string   // the words every match of it begins with
	needs  []needRef
	// re is the alternative alone, anchored, compiled the first time it
	// runs; max the most bytes it can take and one rune more, so that a
	// \b at its end reads what follows. Small, so that the regexp package
	// runs it with its backtracker.
	re  func() *regexp.Regexp
	max int
}

// need is what every match of an alternative contains: one rune of runes,
// or one of strs.
type need struct {
	runes []rune   // runes beyond ASCII: Chinese characters
	strs  []string // ASCII words of three letters or more
}

// needRef is a need as a rule keeps it: its runes by their set's id, its
// words by theirs (-1: none).
type needRef struct {
	set, words int
}

// maxNeeds bounds the needs one alternative checks: the last ones of the
// pattern, usually its most telling words.
const maxNeeds = 6

// runeRole is what the rules know of one rune: its first-rune id (-1:
// no rule begins with it) and whether a needed set holds it.
type runeRole struct {
	first  int
	needed bool // in a needed set
}

var (
	// roles are the runes of the rules; roleOf indexes them for the
	// runes below 0x10000 (every rune of the rules), 0 meaning none.
	roles  = []runeRole{{first: -1}}
	roleOf [0x10000]uint16
	// needSets are the distinct sets of needed runes, by their runes.
	needSets = map[string]int{}
	// needWords are the distinct sets of needed words, by their words
	// joined; wordSets are their words, by id.
	needWords = map[string]int{}
	wordSets  [][]string
)

// wordsID returns the id of the needed words ws, numbering them the first
// time.
func wordsID(ws []string) int {
	key := strings.Join(ws, "\x00")
	if id, ok := needWords[key]; ok {
		return id
	}
	id := len(wordSets)
	needWords[key] = id
	wordSets = append(wordSets, ws)
	return id
}

// role returns the role of r, creating it.
func role(r rune) *runeRole {
	if r >= 0x10000 {
		panic("urgency rule: a rune beyond the basic plane")
	}
	if roleOf[r] == 0 {
		roles = append(roles, runeRole{first: -1})
		roleOf[r] = uint16(len(roles) - 1)
	}
	return &roles[roleOf[r]]
}

// firstID returns the first-rune id of r, numbering it the first time.
func firstID(r rune) int {
	ro := role(r)
	if ro.first < 0 {
		ro.first = firstCount
		firstCount++
	}
	return ro.first
}

var firstCount int

// setID returns the id of the needed set rs, numbering it the first time.
func setID(rs []rune) int {
	key := string(rs)
	if id, ok := needSets[key]; ok {
		return id
	}
	id := len(needSets)
	needSets[key] = id
	var members []int
	for _, r := range rs {
		ro := role(r)
		ro.needed = true
		members = append(members, int(roleOf[r]))
	}
	setMembers = append(setMembers, members)
	return id
}

// setMembers are the runes of each needed set, by their role.
var setMembers [][]int

// bitsOf returns the first-rune ids of rs as a bit set.
func bitsOf(rs []rune) []uint64 {
	var bits []uint64
	for _, r := range rs {
		id := firstID(r)
		for len(bits) <= id/64 {
			bits = append(bits, 0)
		}
		bits[id/64] |= 1 << (id % 64)
	}
	return bits
}

func hasBit(bits []uint64, id int) bool {
	return id/64 < len(bits) && bits[id/64]&(1<<(id%64)) != 0
}

// maxAlts bounds the alternatives a rule is split into.
const maxAlts = 256

// alts splits a parsed pattern into alternatives, each with
// its first runes, the words it begins with and its needs: its top-level
// alternatives, and those of a group it begins with ((被|把)…打 is 被…打
// or 把…打), so that each alternative needs what its own words need.
func alts(re *syntax.Regexp) []alt {
	subs := expand(re)
	if len(subs) > maxAlts {
		subs = []*syntax.Regexp{re}
	}
	out := make([]alt, 0, len(subs))
	for _, written := range subs {
		// Written back as parsed (a bounded repeat stays one), read
		// simplified.
		sub := written.Simplify()
		first, ok := firstRunes(sub)
		if !ok || len(first) == 0 {
			panic("urgency rule: an alternative without a definite first character")
		}
		max, ok := maxBytes(sub)
		if !ok {
			panic("urgency rule: an unbounded alternative")
		}
		a := alt{first: bitsOf(first), prefix: prefix(sub), max: max + utf8.UTFMax}
		p := `^(?:` + pattern(written) + `)`
		a.re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(p) })
		needs := needed(sub)
		if len(needs) > maxNeeds {
			needs = needs[len(needs)-maxNeeds:]
		}
		for _, n := range needs {
			ref := needRef{set: -1, words: -1}
			if len(n.runes) > 0 {
				ref.set = setID(n.runes)
			}
			if len(n.strs) > 0 {
				ref.words = wordsID(n.strs)
			}
			a.needs = append(a.needs, ref)
		}
		out = append(out, a)
	}
	return out
}

// pattern writes re back as a pattern. (syntax.Regexp's String is slow on
// the nested groups Simplify makes of a bounded repeat: tens of
// milliseconds each, seconds for all the rules.) Groups are written
// without capturing: only the whole match is used.
func pattern(re *syntax.Regexp) string {
	var b strings.Builder
	writePattern(&b, re)
	return b.String()
}

func writePattern(b *strings.Builder, re *syntax.Regexp) {
	group := func(sub *syntax.Regexp) {
		b.WriteString("(?:")
		writePattern(b, sub)
		b.WriteString(")")
	}
	lazy := func() {
		if re.Flags&syntax.NonGreedy != 0 {
			b.WriteByte('?')
		}
	}
	switch re.Op {
	case syntax.OpNoMatch:
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case syntax.OpEmptyMatch:
		b.WriteString(`(?:)`)
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString("(?i:")
		}
		for _, r := range re.Rune {
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		if re.Flags&syntax.FoldCase != 0 {
			b.WriteString(")")
		}
	case syntax.OpCharClass:
		b.WriteByte('[')
		for i := 0; i+1 < len(re.Rune); i += 2 {
			fmt.Fprintf(b, `\x{%x}`, re.Rune[i])
			if re.Rune[i+1] != re.Rune[i] {
				fmt.Fprintf(b, `-\x{%x}`, re.Rune[i+1])
			}
		}
		b.WriteByte(']')
	case syntax.OpAnyCharNotNL:
		b.WriteString(`(?-s:.)`)
	case syntax.OpAnyChar:
		b.WriteString(`(?s:.)`)
	case syntax.OpBeginLine:
		b.WriteString(`(?m:^)`)
	case syntax.OpEndLine:
		b.WriteString(`(?m:$)`)
	case syntax.OpBeginText:
		b.WriteString(`\A`)
	case syntax.OpEndText:
		b.WriteString(`\z`)
	case syntax.OpWordBoundary:
		b.WriteString(`\b`)
	case syntax.OpNoWordBoundary:
		b.WriteString(`\B`)
	case syntax.OpCapture:
		group(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest:
		group(re.Sub[0])
		b.WriteString(map[syntax.Op]string{syntax.OpStar: "*", syntax.OpPlus: "+", syntax.OpQuest: "?"}[re.Op])
		lazy()
	case syntax.OpRepeat:
		group(re.Sub[0])
		if re.Max < 0 {
			fmt.Fprintf(b, "{%d,}", re.Min)
		} else {
			fmt.Fprintf(b, "{%d,%d}", re.Min, re.Max)
		}
		lazy()
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			group(sub)
		}
	case syntax.OpAlternate:
		for i, sub := range re.Sub {
			if i > 0 {
				b.WriteByte('|')
			}
			group(sub)
		}
	default:
		panic(fmt.Sprintf("urgency rule: cannot write %v", re.Op))
	}
}

// emptyWidth reports whether re matches without reading anything (\b, ^).
func emptyWidth(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginText, syntax.OpEndText, syntax.OpBeginLine, syntax.OpEndLine,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	return false
}

// expand returns alternatives whose matches are together the matches of
// re: re's own alternatives, with a leading group's alternatives each
// followed by the rest.
func expand(re *syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpAlternate:
		var out []*syntax.Regexp
		for _, sub := range re.Sub {
			out = append(out, expand(sub)...)
			if len(out) > maxAlts {
				return []*syntax.Regexp{re}
			}
		}
		return out
	case syntax.OpConcat:
		k := 0 // the first part that reads something
		for k < len(re.Sub)-1 && emptyWidth(re.Sub[k]) {
			k++
		}
		heads := expand(re.Sub[k])
		if len(heads) < 2 {
			return []*syntax.Regexp{re}
		}
		out := make([]*syntax.Regexp, 0, len(heads))
		for _, h := range heads {
			sub := append(append(append([]*syntax.Regexp{}, re.Sub[:k]...), h), re.Sub[k+1:]...)
			out = append(out, &syntax.Regexp{Op: syntax.OpConcat, Flags: re.Flags, Sub: sub})
		}
		return out
	}
	return []*syntax.Regexp{re}
}

// prefix returns the literal text every match of re begins with.
func prefix(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return string(re.Rune)
		}
	case syntax.OpCapture:
		return prefix(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, sub := range re.Sub {
			if emptyWidth(sub) {
				continue
			}
			p := prefix(sub)
			b.WriteString(p)
			if sub.Op != syntax.OpLiteral || p == "" {
				break // only whole literals run on into what follows
			}
		}
		return b.String()
	}
	return ""
}

// Bounds on one need: a larger one says too little to be worth checking,
// or costs more to check than it saves.
const (
	maxSet  = 64 // runes
	maxStrs = 12 // words
	minStr  = 3  // letters in a word worth looking for
)

// needed returns needs such that every match of re meets each, in the
// order they come in the pattern. It may return fewer than it could,
// never one a match can go without: a rule is skipped where a need is
// not met, so a wrong need would hide a danger.
func needed(re *syntax.Regexp) []need {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		ascii := true
		var out []need
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				ascii = false
				if r < 0x10000 {
					out = append(out, need{runes: []rune{r}})
				}
			}
		}
		if ascii && len(re.Rune) >= minStr {
			return []need{{strs: []string{string(re.Rune)}}}
		}
		return out
	case syntax.OpCharClass:
		var set []rune
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] < utf8.RuneSelf || re.Rune[i+1] >= 0x10000 || re.Rune[i+1]-re.Rune[i] >= maxSet {
				return nil // ASCII stands everywhere; a wide class says little
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				set = append(set, r)
			}
			if len(set) > maxSet {
				return nil
			}
		}
		if len(set) == 0 {
			return nil
		}
		return []need{{runes: set}}
	case syntax.OpCapture, syntax.OpPlus:
		return needed(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needed(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		var out []need
		for _, sub := range re.Sub {
			out = append(out, needed(sub)...)
		}
		return out
	case syntax.OpAlternate:
		// A few English words or phrases: one of them (hitting, beating,
		// waiting for), whichever way the parser factored them (h(?:itting|urting)).
		if l, ok := language(re); ok && len(l) <= maxLangStrs && asciiWords(l) {
			slices.Sort(l)
			return []need{{strs: slices.Compact(l)}}
		}
		// Two needs at most: the first need of one of the alternatives,
		// and the last need of one of them.
		var first, last need
		for _, sub := range re.Sub {
			n := needed(sub)
			if len(n) == 0 {
				return nil
			}
			first, last = first.union(n[0]), last.union(n[len(n)-1])
		}
		var out []need
		for _, n := range []need{first, last} {
			if len(n.runes) <= maxSet && len(n.strs) <= maxStrs && (len(out) == 0 || !out[0].equal(n)) {
				out = append(out, n)
			}
		}
		return out
	}
	return nil // optional, empty-width or any character: needs nothing
}

// maxLangStrs bounds the words of an alternation kept as one need.
const maxLangStrs = 48

// asciiWords reports whether every string of l is ASCII and of minStr
// bytes or more, so worth looking for.
func asciiWords(l []string) bool {
	for _, s := range l {
		if len(s) < minStr {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] >= utf8.RuneSelf {
				return false
			}
		}
	}
	return true
}

// union is a need met where either is.
func (n need) union(o need) need {
	out := need{runes: slices.Clone(n.runes), strs: slices.Clone(n.strs)}
	for _, r := range o.runes {
		if !slices.Contains(out.runes, r) {
			out.runes = append(out.runes, r)
		}
	}
	for _, s := range o.strs {
		if !slices.Contains(out.strs, s) {
			out.strs = append(out.strs, s)
		}
	}
	slices.Sort(out.runes)
	slices.Sort(out.strs)
	return out
}

func (n need) equal(o need) bool {
	return slices.Equal(n.runes, o.runes) && slices.Equal(n.strs, o.strs)
}

// byFirst indexes the alternatives of a rule by the first-rune ids they
// can begin with, in the order of the ids.
func byFirst(as []alt) []firstAlts {
	var out []firstAlts
	for id := range firstCount {
		var e firstAlts
		for i, a := range as {
			if hasBit(a.first, id) {
				e.alts = append(e.alts, i)
			}
		}
		if len(e.alts) > 0 {
			e.id = id
			out = append(out, e)
		}
	}
	return out
}

// scan is one text as the rules see it: where each rune that rules begin
// with stands, and where the runes of each needed set stand.
type scan struct {
	t      string
	starts [][]int32 // byte offsets by first-rune id
	// runes are the byte offsets of the needed runes, by role. A needed
	// set's offsets (pos) are gathered from its runes' the first time a
	// rule asks (built): a rune can stand in tens of sets (我 in 21), and
	// most sets are never asked about.
	runes [][]int32
	pos   [][]int32 // byte offsets by needed set, once built
	built []bool
	merge [][]int32 // by needed set: where a set of several runes is gathered
	// words are the byte offsets of needed words by their set, all found
	// the first time a rule asks (wordsFound), with their cursors
	// (wordCur).
	words      [][]int32
	wordsFound bool
	wordCur    []int
	// cur is, by needed set, the index in pos of the first offset not
	// before the last place asked about: a rule asks about places in
	// order, so the look-ups of one rune's places cost one pass.
	cur []int
}

var scanPool = sync.Pool{New: func() any { return new(scan) }}

// scanText reads t once: the starts (with words, only at the beginning of
// a word) and the positions of needed runes.
func (s *scan) scanText(t string, words bool) {
	s.t = t
	s.starts = reset(s.starts, firstCount)
	s.runes = reset(s.runes, len(roles))
	s.words = reset(s.words, len(wordSets))
	if len(s.wordCur) < len(wordSets) {
		s.wordCur = make([]int, len(wordSets))
	}
	s.wordsFound = false
	if len(s.cur) < len(needSets) {
		n := len(needSets)
		s.cur, s.built, s.pos, s.merge = make([]int, n), make([]bool, n), make([][]int32, n), make([][]int32, n)
	}
	clear(s.built)
	for i, r := range t {
		if r >= 0x10000 || roleOf[r] == 0 {
			continue
		}
		k := roleOf[r]
		ro := &roles[k]
		if ro.first >= 0 && (!words || i == 0 || t[i-1] == ' ') {
			s.starts[ro.first] = append(s.starts[ro.first], int32(i))
		}
		if ro.needed {
			s.runes[k] = append(s.runes[k], int32(i))
		}
	}
}

// build gathers the offsets of the runes of needed set id, in order.
func (s *scan) build(id int) {
	s.built[id] = true
	var lists [maxSet][]int32
	n, total := 0, 0
	for _, k := range setMembers[id] {
		if rp := s.runes[k]; len(rp) > 0 {
			lists[n] = rp
			n++
			total += len(rp)
		}
	}
	switch n {
	case 0:
		s.pos[id] = nil
	case 1:
		s.pos[id] = lists[0] // one rune of the set stands in the text: its own offsets
	default:
		// Merged, the smallest head first: a set has few runes that stand
		// in one text.
		p := slices.Grow(s.merge[id][:0], total)
		heads := lists[:n]
		for len(p) < total {
			best := -1
			for j, h := range heads {
				if len(h) > 0 && (best < 0 || h[0] < heads[best][0]) {
					best = j
				}
			}
			p = append(p, heads[best][0])
			heads[best] = heads[best][1:]
		}
		s.merge[id], s.pos[id] = p, p
	}
}

// reset returns n empty lists, reusing those of ls.
func reset(ls [][]int32, n int) [][]int32 {
	if len(ls) < n {
		ls = append(ls, make([][]int32, n-len(ls))...)
	}
	for i := range ls {
		ls[i] = ls[i][:0]
	}
	return ls
}

// nextRune returns the first place at or after from where a rune of set
// id stands; math.MaxInt if none does. Asked about places further on each
// time (since rewind), it moves on.
func (s *scan) nextRune(id, from int) int {
	if !s.built[id] {
		s.build(id)
	}
	p, i := s.pos[id], s.cur[id]
	for i < len(p) && int(p[i]) < from {
		i++
	}
	s.cur[id] = i
	if i == len(p) {
		return math.MaxInt
	}
	return int(p[i])
}

// rewind starts the look-ups of the sets ids and of the words wids from
// the beginning again.
func (s *scan) rewind(ids, wids []int) {
	for _, id := range ids {
		s.cur[id] = 0
	}
	for _, id := range wids {
		s.wordCur[id] = 0
	}
}

// nextWord returns the first place at or after from where one of the
// needed words id stands, as nextRune does for runes.
func (s *scan) nextWord(id, from int) int {
	if !s.wordsFound {
		s.findWords()
	}
	p, i := s.words[id], s.wordCur[id]
	for i < len(p) && int(p[i]) < from {
		i++
	}
	s.wordCur[id] = i
	if i == len(p) {
		return math.MaxInt
	}
	return int(p[i])
}

// findWords finds every needed word in the text in one pass, the first
// time a rule asks: at each place, only the words that begin with the
// two bytes there are compared.
func (s *scan) findWords() {
	s.wordsFound = true
	ix := wordIndexOf()
	t := s.t
	for i := 0; i+1 < len(t); i++ {
		g := ix.byPair[uint16(t[i])<<8|uint16(t[i+1])]
		if g == 0 {
			continue
		}
		for _, e := range ix.groups[g-1] {
			if strings.HasPrefix(t[i:], e.text) {
				for _, id := range e.sets {
					s.words[id] = append(s.words[id], int32(i))
				}
			}
		}
	}
}

// wordIndex lists the needed words by their first two bytes.
type wordIndex struct {
	byPair [1 << 16]uint16 // 1 + the index in groups; 0: no word
	groups [][]wordEntry
}

// wordEntry is one needed word and the needed sets that hold it.
type wordEntry struct {
	text string
	sets []int
}

// wordIndexOf returns the index of the needed words, built on first use
// (after every rule is compiled).
var wordIndexOf = sync.OnceValue(func() *wordIndex {
	ix := new(wordIndex)
	at := map[string]int{} // where each word is in its group
	for id, ws := range wordSets {
		for _, w := range ws {
			if len(w) < 2 {
				panic("urgency rule: a needed word shorter than two bytes")
			}
			key := uint16(w[0])<<8 | uint16(w[1])
			if ix.byPair[key] == 0 {
				ix.groups = append(ix.groups, nil)
				ix.byPair[key] = uint16(len(ix.groups))
			}
			g := &ix.groups[ix.byPair[key]-1]
			k, ok := at[w]
			if !ok {
				k = len(*g)
				at[w] = k
				*g = append(*g, wordEntry{text: w})
			}
			if e := &(*g)[k]; !slices.Contains(e.sets, id) {
				e.sets = append(e.sets, id)
			}
		}
	}
	return ix
})

// matchAt returns the end of the rule's match at byte at of t, trying
// the alternatives as (those that can begin with the rune there) in the
// order they are written: the first that matches is the match the whole
// expression would find there. Alternatives whose needs are not met
// nearby cannot match and are passed over without running.
//
// When none matches, next is the first place after at where one of them
// could: an alternative missing a need within its reach cannot begin a
// match before that need's next place less its reach. The caller skips
// the starts before it, so that a rune standing everywhere (我, 打) costs
// nothing where what its rules need stands nowhere near.
func (r *rule) matchAt(t string, as []int, at int, s *scan) (end int, ok bool, next int) {
	next = math.MaxInt
	for _, i := range as {
		a := &r.alts[i]
		missing := -1 // where the first need not met stands next; MaxInt: nowhere
		for _, n := range a.needs {
			p := math.MaxInt
			if n.set >= 0 {
				p = s.nextRune(n.set, at)
			}
			if n.words >= 0 && p >= at+a.max {
				p = min(p, s.nextWord(n.words, at))
			}
			if p >= at+a.max {
				missing = p
				break
			}
		}
		if missing >= 0 {
			if missing != math.MaxInt {
				next = min(next, missing-a.max+1)
			}
			continue
		}
		next = min(next, at+1)
		window := t[at:min(len(t), at+a.max)]
		if !strings.HasPrefix(window, a.prefix) {
			continue
		}
		if m := a.re().FindStringIndex(window); m != nil {
			return at + m[1], true, 0
		}
	}
	return 0, false, next
}
