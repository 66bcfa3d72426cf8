package survey

import (
	"testing"
)

func respondents(school int64, grade, class string, n, bullied int) []Respondent {
	var out []Respondent
	for i := range n {
		a := Answers{QVictim: {"0"}}
		if i < bullied {
			a[QVictim] = []string{"3"}
		}
		out = append(out, Respondent{SchoolID: school, Grade: grade, Class: class, Answers: a})
	}
	return out
}

func find(u *Unit, name string) *Unit {
	var got *Unit
	u.Walk(func(x *Unit, _ int) {
		if x.Name == name {
			got = x
		}
	})
	return got
}

func TestSuppressSmallCellsAndTheirComplements(t *testing.T) {
	sv := &Survey{Questions: Template()}
	inds := Indicators(sv)
	var rs []Respondent
	rs = append(rs, respondents(1, "初一", "3", 30, 12)...)
	rs = append(rs, respondents(1, "初一", "4", 28, 3)...) // 3 bullied: small
	rs = append(rs, respondents(1, "初二", "1", 3, 0)...)  // a class of 3: small
	root := Tally("school", "第三中学", inds, rs, map[int64]string{1: "第三中学"}, nil)

	if got := find(root, "初一(3)").Cells["bullied"].String(); got != "12 / 30 (40%)" && got != HiddenMark {
		t.Errorf("初一(3) bullied = %q", got)
	}
	if got := find(root, "初一(4)").Cells["bullied"].String(); got != HiddenMark {
		t.Errorf("初一(4) bullied = %q, want %s", got, HiddenMark)
	}
	// 初一 = 初一(3) + 初一(4): with 初一(4) hidden, 初一(3) or the grade
	// must hide too, or the grade minus it would give 初一(4) away.
	g1 := find(root, "初一")
	if !g1.Cells["bullied"].Hidden && !find(root, "初一(3)").Cells["bullied"].Hidden {
		t.Errorf("初一(4) can be worked out: grade %q, 初一(3) %q", g1.Cells["bullied"], find(root, "初一(3)").Cells["bullied"])
	}
	// A class of 3 shows nothing; its grade (its only class) hides too;
	// then the school's total minus 初一 would give 初二 away, so 初一's
	// respondents hide as well.
	if c := find(root, "初二(1)"); !c.N.Hidden || !c.Cells["bullied"].Hidden {
		t.Errorf("初二(1): N %v, bullied %v; want both hidden", c.N, c.Cells["bullied"])
	}
	if !find(root, "初二").N.Hidden || !g1.N.Hidden {
		t.Errorf("初二 %v and 初一 %v respondents should both hide", find(root, "初二").N, g1.N)
	}
	if root.N.Hidden || root.N.K != 61 {
		t.Errorf("school respondents = %+v, want 61 shown", root.N)
	}
	// No sum group anywhere has exactly one hidden member.
	root.Walk(func(u *Unit, _ int) {
		if len(u.Children) == 0 {
			return
		}
		for _, key := range []string{"", "bullied"} {
			cell := func(x *Unit) *Cell {
				if key == "" {
					return x.N
				}
				return x.Cells[key]
			}
			hidden := 0
			if cell(u).Hidden {
				hidden++
			}
			for _, c := range u.Children {
				if cell(c).Hidden {
					hidden++
				}
			}
			if hidden == 1 {
				t.Errorf("%s %q: exactly one hidden cell among parent and children", u.Name, key)
			}
		}
	})
}

func TestComplementHidesNearlyAll(t *testing.T) {
	sv := &Survey{Questions: Template()}
	rs := respondents(1, "初一", "3", 30, 27) // 3 not bullied: showing 27/30 shows them
	root := Tally("school", "s", Indicators(sv), rs, nil, nil)
	if c := root.Cells["bullied"]; !c.Hidden || c.String() != HiddenMark {
		t.Errorf("27 of 30 = %q, want hidden", c)
	}
}

// The audit's case: grade 初一 is 7 of 7 bullied-question answers; class
// 初一(1) has 6 of 6 and 初一(2) one pupil; 初一(3) had codes but no
// answers. The old partner was 初一(3) — hidden, but known to be zero — so
// the grade minus 初一(1) gave 初一(2)'s pupil away. A partner now has
// answers: with none, the grade itself hides.
func TestPartnerIsNeverAnEmptyClass(t *testing.T) {
	sv := &Survey{Questions: Template()}
	inds := Indicators(sv)
	var rs []Respondent
	rs = append(rs, respondents(1, "初一", "1", 6, 6)...)
	rs = append(rs, respondents(1, "初一", "2", 1, 1)...)
	rs = append(rs, respondents(1, "初二", "1", 40, 10)...)
	classes := []Respondent{{SchoolID: 1, Grade: "初一", Class: "3"}}
	root := Tally("school", "s", inds, rs, nil, classes)
	empty := find(root, "初一(3)")
	if empty.N.K != 0 || empty.N.Hidden || empty.Cells["bullied"].Hidden {
		t.Fatalf("the class with no answers: N %+v, bullied %+v; want a shown 0", empty.N, empty.Cells["bullied"])
	}
	g := find(root, "初一")
	c1 := find(root, "初一(1)")
	if !g.Cells["bullied"].Hidden && !c1.Cells["bullied"].Hidden {
		t.Fatalf("grade %v and 初一(1) %v both shown: 初一(2)'s pupil is their difference", g.Cells["bullied"], c1.Cells["bullied"])
	}
	if !g.N.Hidden && !c1.N.Hidden {
		t.Fatalf("grade N %v and 初一(1) N %v both shown", g.N, c1.N)
	}
}

// The exact ranges the audit computes: a parent of 10 with two hidden
// children, one of whose bound (its N of 6, published) pins nothing alone,
// and a case where the bounds do pin: children bounded by 6 and 4 summing
// to 10 can only be 6 and 4.
func TestRangesOnATree(t *testing.T) {
	root := &Unit{N: &Cell{K: 10}, Cells: map[string]*Cell{}}
	a := &Unit{N: &Cell{K: 6}, Cells: map[string]*Cell{}}
	b := &Unit{N: &Cell{K: 4}, Cells: map[string]*Cell{}}
	root.Children = []*Unit{a, b}
	s := newSuppressor(root, nil)
	val := []int{10, 6, 4}
	known := func(u int) bool { return u == 0 }
	loose := s.ranges(val, known, func(int) int64 { return inf })
	if loose[1] != (span{0, 10}) || loose[2] != (span{0, 10}) {
		t.Fatalf("unbounded children: %v", loose)
	}
	tight := s.ranges(val, known, func(u int) int64 { return []int64{inf, 6, 4}[u] })
	if tight[1] != (span{6, 6}) || tight[2] != (span{4, 4}) {
		t.Fatalf("children bounded by 6 and 4: %v, want pinned", tight)
	}
	half := s.ranges(val, known, func(u int) int64 { return []int64{inf, 8, 4}[u] })
	if half[1] != (span{6, 8}) || half[2] != (span{2, 4}) {
		t.Fatalf("children bounded by 8 and 4: %v", half)
	}
}
