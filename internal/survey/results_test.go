package survey

import (
	"strings"
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

	if got := find(root, "初一(3)").Cells["bullied"].String(); got != "12 / 30 (40%)" {
		t.Errorf("初一(3) bullied = %q, want 12 / 30 (40%%)", got)
	}
	if got := find(root, "初一(4)").Cells["bullied"].String(); got != "<5" {
		t.Errorf("初一(4) bullied = %q, want <5", got)
	}
	// 初一 = 初一(3) + 初一(4): with 初一(4) hidden, 初一(3) must hide too,
	// or the grade minus it would give 初一(4) away.
	g1 := find(root, "初一")
	if c := g1.Cells["bullied"]; !c.Hidden && !find(root, "初一(3)").Cells["bullied"].Hidden {
		t.Errorf("初一(4) can be worked out: grade %q, 初一(3) %q", c, find(root, "初一(3)").Cells["bullied"])
	}
	// A class of 3 shows nothing, and its grade (its only class) hides too;
	// then the school's total minus 初一 would give 初二 away, so 初一's
	// respondents hide as well.
	if c := find(root, "初二(1)").N; !c.Small {
		t.Errorf("初二(1) respondents = %q, want <5", countOf(c))
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
		for _, key := range append([]string{""}, "bullied") {
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

func countOf(c *Cell) string {
	if c.Small {
		return "<5"
	}
	return strings.TrimSpace(c.String())
}

func TestComplementHidesNearlyAll(t *testing.T) {
	sv := &Survey{Questions: Template()}
	rs := respondents(1, "初一", "3", 30, 27) // 3 not bullied: showing 27/30 shows them
	root := Tally("school", "s", Indicators(sv), rs, nil, nil)
	if c := root.Cells["bullied"]; !c.Hidden || c.Small {
		t.Errorf("27 of 30 = %q, want hidden (—)", c)
	}
}
