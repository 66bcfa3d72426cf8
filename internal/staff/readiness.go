package staff

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Segment is a run of hours of one weekday with the same people on call.
type Segment struct {
	From, To int      // hours, To exclusive (1–24)
	First    []string // names of the first on call (the fallback's when Fallback)
	Second   []string
	Fallback bool // nobody of the rota is first: the school-wide fallback stands in
	Empty    bool // nobody at all is first on call
	// Working: someone first on call has channels, every one of them tested
	// and acknowledged.
	Working bool
}

// Problem is one reason urgent alerts may not reach a person, safe to show.
type Problem struct {
	Who      string // a staff member's name, or the group's owner
	Kind     alert.Kind
	Masked   string
	Reason   hotline.Label
	Blocking bool // keeps the checklist red
}

// Failure is a recent failed send, for the school admin and the district.
type Failure struct {
	At     time.Time
	Rung   int
	Who    string
	Kind   alert.Kind
	Code   string
	Reason string
}

// Readiness tells the truth about whether an urgent report at a school
// reaches a person: the rota hour by hour, what is wrong and who is paged
// first now.
type Readiness struct {
	School *hotline.School
	Zone   string
	Days   [7][]Segment
	// EmptyHours counts the hours of a week nobody is first on call;
	// WeakHours those whose first on call has no fully working channels.
	EmptyHours int
	WeakHours  int
	// Ready: every hour has someone first on call whose channels were all
	// tested and acknowledged. The setup checklist's on-call item.
	Ready bool
	// NowReachable: right now some rung pages a person over a working
	// channel; NowFirst is who rung 1 pages now.
	NowReachable bool
	NowFirst     []string
	Problems     []Problem
	Failures     []Failure
}

// personWorking reports whether a person has channels and every one of
// them works.
func (s *Service) personWorking(d *Directory, c *store.CounselorRecord) bool {
	ts := d.Targets(c.ID)
	if len(ts) == 0 {
		return false
	}
	for _, t := range ts {
		if st, _ := s.stateOf(t); st != TargetWorking {
			return false
		}
	}
	return true
}

// reachable reports whether a rung's person has a working target the
// rung uses.
func (s *Service) reachable(p *Person) bool {
	for _, t := range p.Targets {
		if st, _ := s.stateOf(t); st == TargetWorking {
			return true
		}
	}
	return false
}

func names(cs []*store.CounselorRecord) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = displayName(c)
	}
	return out
}

func displayName(c *store.CounselorRecord) string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return c.Username
}

// Readiness reports on a school at now.
func (s *Service) Readiness(ctx context.Context, schoolID int64, now time.Time) (*Readiness, error) {
	d, err := s.Directory(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	r := s.readiness(d, now)
	fails, err := s.DB.FailedSends(ctx, []int64{schoolID}, now.Add(-7*24*time.Hour), 20)
	if err != nil {
		return nil, err
	}
	r.Failures = s.failures(d, fails)
	return r, nil
}

// ReadinessAll reports on every school at now, from one read of
// everything: `serve` at start and /readyz.
func (s *Service) ReadinessAll(ctx context.Context, now time.Time) ([]*Readiness, error) {
	schools, err := s.DB.Schools(ctx, "")
	if err != nil {
		return nil, err
	}
	people, err := s.DB.AllCounselors(ctx)
	if err != nil {
		return nil, err
	}
	slots, err := s.DB.RotaSlots(ctx, 0)
	if err != nil {
		return nil, err
	}
	targets, err := s.DB.AllAlertTargets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Readiness, len(schools))
	for i, school := range schools {
		out[i] = s.readiness(newDirectory(school, people, slots, targets), now)
	}
	return out, nil
}

func (s *Service) failures(d *Directory, fails []*store.AlertSend) []Failure {
	out := make([]Failure, 0, len(fails))
	for _, f := range fails {
		who := "—"
		if c := d.Person(f.CounselorID); c != nil {
			who = displayName(c)
		} else if f.CounselorID == 0 && f.TargetID != 0 {
			who = "群 / group"
		}
		reason := f.Reason
		if f.State == store.SendNobody && reason == "" {
			reason = "无人可呼叫 / nobody to page"
		}
		out = append(out, Failure{At: f.CreatedAt, Rung: f.Rung, Who: who, Kind: alert.Kind(f.Kind), Code: f.Code, Reason: reason})
	}
	return out
}

func (s *Service) readiness(d *Directory, now time.Time) *Readiness {
	r := &Readiness{School: d.School, Zone: d.Zone.String()}
	// The hours of the coming week, in the school's zone, from Monday
	// 00:00 of this week: the rota is the same every week.
	local := now.In(d.Zone)
	monday := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, d.Zone).AddDate(0, 0, -weekdayIndex(local))
	for day := 0; day < 7; day++ {
		var segs []Segment
		for h := 0; h < 24; h++ {
			t := time.Date(monday.Year(), monday.Month(), monday.Day()+day, h, 30, 0, 0, d.Zone)
			first, second := d.OnCall(1, t), d.OnCall(2, t)
			seg := Segment{From: h, To: h + 1, Second: names(second)}
			if len(first) == 0 {
				first, seg.Fallback = d.Fallback(), true
			}
			seg.First, seg.Empty = names(first), len(first) == 0
			for _, c := range first {
				if s.personWorking(d, c) {
					seg.Working = true
				}
			}
			switch {
			case seg.Empty:
				r.EmptyHours++
			case !seg.Working:
				r.WeakHours++
			}
			if n := len(segs); n > 0 && sameSegment(segs[n-1], seg) {
				segs[n-1].To = seg.To
			} else {
				segs = append(segs, seg)
			}
		}
		r.Days[day] = segs
	}
	r.Ready = r.EmptyHours == 0 && r.WeakHours == 0

	for n := RungFirst; n <= TopRung; n++ {
		rung := d.Rung(n, now)
		if n == RungFirst {
			for _, p := range rung.People {
				r.NowFirst = append(r.NowFirst, displayName(p.CounselorRecord))
			}
		}
		for _, p := range rung.People {
			if s.reachable(p) {
				r.NowReachable = true
			}
		}
	}
	r.Problems = s.problems(d, r)
	return r
}

func sameSegment(a, b Segment) bool {
	eq := func(x, y []string) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	return a.Fallback == b.Fallback && a.Empty == b.Empty && a.Working == b.Working && eq(a.First, b.First) && eq(a.Second, b.Second)
}

// problems lists what stands between an urgent report and a person: a
// rota with holes, people on call without working channels, missing rungs.
func (s *Service) problems(d *Directory, r *Readiness) []Problem {
	var out []Problem
	if len(d.slots) == 0 && len(d.Fallback()) == 0 {
		out = append(out, Problem{Reason: hotline.Label{ZH: "值班表是空的：紧急报告没有第一值班人。请在“值班表”页面安排值班。", EN: "The rota is empty: an urgent report has nobody first on call. Fill in the rota."}, Blocking: true})
	} else if r.EmptyHours > 0 {
		out = append(out, Problem{Reason: hotline.Label{
			ZH: fmt.Sprintf("每周有 %d 个小时没有任何人值班（见下方红色时段）。", r.EmptyHours),
			EN: fmt.Sprintf("%d hours a week have nobody on call (the red hours below).", r.EmptyHours)}, Blocking: true})
	}
	// Everyone the ladder may page, each once, in rung order.
	seen := map[int64]bool{}
	var people []*store.CounselorRecord
	add := func(cs []*store.CounselorRecord) {
		for _, c := range cs {
			if !seen[c.ID] {
				seen[c.ID] = true
				people = append(people, c)
			}
		}
	}
	onRota := map[int64]bool{}
	for _, sl := range d.slots {
		if c := d.Person(sl.CounselorID); c != nil {
			add([]*store.CounselorRecord{c})
			onRota[c.ID] = true
		}
	}
	for _, c := range d.Fallback() {
		onRota[c.ID] = true
	}
	add(d.Fallback())
	add(d.Heads())
	add(d.DutyOfficers())
	for _, c := range people {
		ts := d.Targets(c.ID)
		if len(ts) == 0 {
			out = append(out, Problem{Who: displayName(c), Reason: hotline.Label{ZH: "没有绑定任何提醒方式（在“我的提醒”页面绑定）", EN: "has linked no way to be alerted (on My alerts)"}, Blocking: onRota[c.ID]})
			continue
		}
		for _, t := range ts {
			if st, why := s.stateOf(t); st != TargetWorking {
				out = append(out, s.targetProblem(displayName(c), c, t, why, onRota[c.ID]))
			}
		}
	}
	for _, t := range d.schoolGroups {
		if st, why := s.stateOf(t); st != TargetWorking {
			out = append(out, s.targetProblem("学校群 / school group", nil, t, why, false))
		}
	}
	for _, t := range d.districtGroups {
		if st, why := s.stateOf(t); st != TargetWorking {
			out = append(out, s.targetProblem("区教育局 / district", nil, t, why, false))
		}
	}
	if len(d.Heads()) == 0 {
		out = append(out, Problem{Reason: hotline.Label{ZH: "没有指定校长/德育主任（第 4 级）。", EN: "No head (校长/德育主任) is named (rung 4)."}})
	}
	if len(d.DutyOfficers()) == 0 {
		out = append(out, Problem{Reason: hotline.Label{ZH: "区教育局没有指定值班人员（第 5 级）。", EN: "The district has named no duty officer (rung 5)."}})
	}
	return out
}

func (s *Service) targetProblem(who string, rec *store.CounselorRecord, t *store.AlertTarget, why hotline.Label, blocking bool) Problem {
	p := Problem{Who: who, Kind: alert.Kind(t.Kind), Reason: why, Blocking: blocking}
	if a, err := s.OpenTarget(t, rec); err == nil {
		p.Masked = MaskAddress(a.Kind, a.Address)
	}
	return p
}

// DistrictReadiness reports on every school of a district at now, with
// each school's failed sends of the last week: the district's page.
func (s *Service) DistrictReadiness(ctx context.Context, district string, now time.Time) ([]*Readiness, error) {
	if district == "" {
		return nil, nil
	}
	schools, err := s.DB.Schools(ctx, district)
	if err != nil {
		return nil, err
	}
	out := make([]*Readiness, 0, len(schools))
	for _, school := range schools {
		r, err := s.Readiness(ctx, school.ID, now)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
