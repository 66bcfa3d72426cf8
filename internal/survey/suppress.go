package survey

import "math"

// Suppression. What the results publish of a unit (class, grade, school,
// district) is its respondents N and, per indicator, a count K of a base
// B. Each of these adds up along the tree: a parent's figure is the sum
// of its children's (classes of a grade, grades of a school, schools of a
// district), and so are the complements B − K and N − B. A reader who
// knows every published figure, the tree and these sums must not be able
// to work out a figure of 1 to 4 pupils. The rules:
//
//   - Primary: a unit of 1–4 respondents shows none of its cells; a cell
//     whose count, base or complement (B − K) is 1–4 is hidden. Indicators
//     that share their base (told and told_teacher; the options of one
//     added question, which sum to it) are hidden together in a unit, so
//     a shown one never gives away a hidden one's base, and the options of
//     a question never sum to a shown base with one of them missing.
//   - Complementary: in every sum (a parent and its children) a column
//     has no single hidden member; the partner hidden with it is a unit
//     with answers (never one of none, which anyone knows is zero), the
//     one with room to move both ways if any, the smallest first, so that
//     the same small class tends to partner every column.
//   - Audit: then, for every figure of every column, the exact range that
//     the published figures, the sums and the bounds (0 ≤ K ≤ B ≤ N) leave
//     a hidden value is computed over the tree; a hidden value that is
//     pinned to one number above zero gets another partner (a sibling, else
//     its parent), and the rules run again until no value is pinned.
//
// Every hidden cell is shown alike (HiddenMark).

func small(n int) bool { return n > 0 && n < SmallCount }

// column is what a unit hides together: its respondents, or the cells of
// the indicators that share one base.
type column struct {
	n    bool  // the respondents column
	inds []int // the indicators it holds
	all  bool  // their base is every respondent (Base = N)
}

type suppressor struct {
	units  []*Unit // parents first
	parent []int   // -1 for the root
	kids   [][]int
	cols   []column
	hid    [][]bool // [column][unit]
	n      []int    // respondents per unit
	k, b   [][]int  // [indicator][unit]
}

// Suppress hides the cells of root's tree that could single a pupil out,
// and then those from which a hidden one could be worked out; see above.
func Suppress(root *Unit, inds []Indicator) {
	s := newSuppressor(root, inds)
	s.primary()
	for {
		s.complementary()
		if !s.audit() {
			break
		}
	}
	for u, unit := range s.units {
		unit.N.Hidden = s.hid[0][u]
		for ci, c := range s.cols[1:] {
			for _, i := range c.inds {
				if cell := unit.Cells[inds[i].Key]; cell != nil {
					cell.Hidden = s.hid[ci+1][u] || s.hid[0][u]
				}
			}
		}
	}
}

func newSuppressor(root *Unit, inds []Indicator) *suppressor {
	s := &suppressor{}
	index := map[*Unit]int{}
	root.Walk(func(u *Unit, _ int) {
		index[u] = len(s.units)
		s.units = append(s.units, u)
	})
	s.parent = make([]int, len(s.units))
	s.kids = make([][]int, len(s.units))
	s.n = make([]int, len(s.units))
	s.parent[0] = -1
	for i, u := range s.units {
		s.n[i] = u.N.K
		for _, c := range u.Children {
			s.parent[index[c]] = i
			s.kids[i] = append(s.kids[i], index[c])
		}
	}
	s.k = make([][]int, len(inds))
	s.b = make([][]int, len(inds))
	for i, ind := range inds {
		s.k[i] = make([]int, len(s.units))
		s.b[i] = make([]int, len(s.units))
		for u, unit := range s.units {
			if c := unit.Cells[ind.Key]; c != nil {
				s.k[i][u], s.b[i][u] = c.K, c.Base
			}
		}
	}
	s.cols = []column{{n: true}}
	byBase := map[string]int{}
	for i, ind := range inds {
		if ind.base.key == baseAll {
			s.cols = append(s.cols, column{inds: []int{i}, all: true})
			continue
		}
		if c, ok := byBase[ind.base.key]; ok {
			s.cols[c].inds = append(s.cols[c].inds, i)
			continue
		}
		byBase[ind.base.key] = len(s.cols)
		s.cols = append(s.cols, column{inds: []int{i}})
	}
	s.hid = make([][]bool, len(s.cols))
	for c := range s.hid {
		s.hid[c] = make([]bool, len(s.units))
	}
	return s
}

func (s *suppressor) primary() {
	for u := range s.units {
		if small(s.n[u]) {
			s.hid[0][u] = true
		}
		for ci, c := range s.cols[1:] {
			base := s.base(c, u)
			hide := small(base)
			for _, i := range c.inds {
				hide = hide || small(s.k[i][u]) || small(base-s.k[i][u])
			}
			if hide {
				s.hid[ci+1][u] = true
			}
		}
	}
}

// base is the base of column c's cells in unit u.
func (s *suppressor) base(c column, u int) int {
	if c.all {
		return s.n[u]
	}
	return s.b[c.inds[0]][u]
}

// spread hides every cell of a unit whose respondents are hidden: a cell
// of every respondent (a place, a time) would show N.
func (s *suppressor) spread() {
	for u := range s.units {
		if s.hid[0][u] {
			for c := range s.cols {
				s.hid[c][u] = true
			}
		}
	}
}

// complementary gives every lone hidden member of a sum a partner, until
// none is alone.
func (s *suppressor) complementary() {
	for changed := true; changed; {
		changed = false
		s.spread()
		for c := range s.cols {
			for p, kids := range s.kids {
				if len(kids) == 0 {
					continue
				}
				hidden := 0
				if s.hid[c][p] {
					hidden++
				}
				for _, k := range kids {
					if s.hid[c][k] {
						hidden++
					}
				}
				if hidden != 1 {
					continue
				}
				if s.hidePartner(c, kids) {
					changed = true
				} else if !s.hid[c][p] {
					s.hid[c][p] = true // no child to hide: the parent
					changed = true
				}
			}
		}
	}
}

// hidePartner hides, in column c, the best shown unit of cands with
// answers: one with room to move both ways first, then the smallest. It
// reports false when there is none.
func (s *suppressor) hidePartner(c int, cands []int) bool {
	best, bestTier := -1, 3
	for _, y := range cands {
		if s.hid[c][y] || s.n[y] == 0 {
			continue
		}
		t := s.tier(c, y)
		if t < bestTier || (t == bestTier && s.n[y] < s.n[best]) {
			best, bestTier = y, t
		}
	}
	if best < 0 {
		return false
	}
	s.hid[c][best] = true
	return true
}

// tier grades a partner: 0 when every figure of its column can move up and
// down by one (so whichever way the hidden cell moves, the partner
// follows), 1 when its base is not zero, 2 otherwise.
func (s *suppressor) tier(ci, y int) int {
	c := s.cols[ci]
	if c.n {
		return 0
	}
	base := s.base(c, y)
	full := base >= 1 && (c.all || s.n[y]-base >= 1)
	for _, i := range c.inds {
		full = full && s.k[i][y] >= 1 && base-s.k[i][y] >= 1
	}
	switch {
	case full:
		return 0
	case base >= 1:
		return 1
	}
	return 2
}

// figure is one additive quantity of a column, per unit.
type figure struct {
	val   []int
	upper bool // bounded above by the unit's N when that is shown
}

func (s *suppressor) figures(ci int) []figure {
	c := s.cols[ci]
	if c.n {
		return []figure{{val: s.n}}
	}
	diff := func(a, b []int) []int {
		out := make([]int, len(a))
		for u := range a {
			out[u] = a[u] - b[u]
		}
		return out
	}
	var fs []figure
	base := s.n
	if !c.all {
		base = s.b[c.inds[0]]
		fs = append(fs, figure{base, true}, figure{diff(s.n, base), true})
	}
	for _, i := range c.inds {
		fs = append(fs, figure{s.k[i], true}, figure{diff(base, s.k[i]), true})
	}
	return fs
}

// audit finds the hidden figures that the published ones pin to a single
// value above zero, hides more for each, and reports whether it found any.
func (s *suppressor) audit() bool {
	found := false
	for c := range s.cols {
		known := func(u int) bool { return !s.hid[c][u] }
		for _, f := range s.figures(c) {
			hi := func(u int) int64 {
				if !f.upper || s.hid[0][u] {
					return inf
				}
				return int64(s.n[u])
			}
			for u, r := range s.ranges(f.val, known, hi) {
				if s.hid[c][u] && r.lo == r.hi && r.lo > 0 {
					s.fix(c, u)
					found = true
				}
			}
		}
	}
	return found
}

// fix gives a pinned hidden unit of column c another partner: a sibling,
// else its parent, else one of its children; failing all, the column is
// hidden everywhere.
func (s *suppressor) fix(c, u int) {
	if p := s.parent[u]; p >= 0 {
		var sibs []int
		for _, k := range s.kids[p] {
			if k != u {
				sibs = append(sibs, k)
			}
		}
		if s.hidePartner(c, sibs) {
			return
		}
		if !s.hid[c][p] {
			s.hid[c][p] = true
			return
		}
	}
	if s.hidePartner(c, s.kids[u]) {
		return
	}
	for v := range s.units {
		s.hid[c][v] = true
	}
}

const inf = math.MaxInt64 / 8

// span is a closed range of a figure's possible values.
type span struct{ lo, hi int64 }

func meet(a, b span) span { return span{max(a.lo, b.lo), min(a.hi, b.hi)} }

func plus(a, b int64) int64 {
	if a >= inf || b >= inf {
		return inf
	}
	return a + b
}

// ranges returns, for every unit, the exact range of values the figure can
// take given the known units' values, the sums along the tree and each
// hidden unit's bounds [0, hi(u)]. On a tree this is exact: a unit's
// subtree and the rest of the tree share only the unit, so its range is
// what its subtree allows (bottom up) met with what the rest allows (top
// down), and sums of integer ranges are ranges.
func (s *suppressor) ranges(val []int, known func(int) bool, hi func(int) int64) []span {
	n := len(s.units)
	box := func(u int) span {
		if known(u) {
			v := int64(val[u])
			return span{v, v}
		}
		return span{0, hi(u)}
	}
	sub := make([]span, n) // what u's subtree allows
	for u := n - 1; u >= 0; u-- {
		sub[u] = box(u)
		if len(s.kids[u]) > 0 && !known(u) {
			var sum span
			for _, c := range s.kids[u] {
				sum = span{sum.lo + sub[c].lo, plus(sum.hi, sub[c].hi)}
			}
			sub[u] = meet(sub[u], sum)
		}
	}
	top := make([]span, n) // what the rest of the tree allows, u's bounds included
	out := make([]span, n)
	top[0] = box(0)
	for u := 0; u < n; u++ {
		if ks := s.kids[u]; len(ks) > 0 {
			var lo, hiSum int64
			infs := 0
			for _, c := range ks {
				lo += sub[c].lo
				if sub[c].hi >= inf {
					infs++
				} else {
					hiSum += sub[c].hi
				}
			}
			for _, c := range ks {
				// The others' sum, then c = u − others.
				oLo, oHi := lo-sub[c].lo, int64(inf)
				switch {
				case sub[c].hi >= inf && infs == 1, infs == 0:
					oHi = hiSum
					if sub[c].hi < inf {
						oHi -= sub[c].hi
					}
				}
				r := span{0, inf}
				if oHi < inf {
					r.lo = top[u].lo - oHi
				}
				if top[u].hi < inf {
					r.hi = top[u].hi - oLo
				}
				top[c] = meet(box(c), r)
			}
		}
		out[u] = meet(sub[u], top[u])
	}
	return out
}
