package staff

import (
	"context"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Rungs of the escalation ladder of an urgent case.
const (
	RungFirst    = 1 // the first on call of the hour, else the school-wide fallback
	RungSecond   = 2 // the second on call of the hour, else the fallback not yet paged
	RungSchool   = 3 // every counselor of the school, and the school's group robots
	RungHead     = 4 // the school's head (校长/德育主任)
	RungDistrict = 5 // the district's duty officer (区教育局值班), and its group robots
	TopRung      = RungDistrict
)

var rungLabels = [...]hotline.Label{
	{},
	{ZH: "第一值班人", EN: "first on call"},
	{ZH: "第二值班人", EN: "second on call"},
	{ZH: "全体辅导老师", EN: "every counselor"},
	{ZH: "校长/德育主任", EN: "the head"},
	{ZH: "区教育局值班", EN: "the district's duty officer"},
}

// RungLabel names a rung.
func RungLabel(n int) hotline.Label {
	if n < 1 || n > TopRung {
		return hotline.Label{}
	}
	return rungLabels[n]
}

// Night reports whether a local time is at night (22:00–07:00), when only
// a phone call wakes anyone.
func Night(local time.Time) bool { h := local.Hour(); return h >= 22 || h < 7 }

// VoiceAllowed reports whether a rung may place phone calls at a local
// time: only the last two rungs (the head, the district's duty officer),
// only at night. By day a text message or a push is seen within minutes;
// at night a call is the one thing that wakes someone, and it is kept for
// the people who must answer when the on-call staff did not.
func VoiceAllowed(rung int, local time.Time) bool { return rung >= RungHead && Night(local) }

// Person is a staff member a rung pages, with the targets it uses.
type Person struct {
	*store.CounselorRecord
	Targets []*store.AlertTarget
}

// Rung is who one rung of the ladder pages at a time.
type Rung struct {
	N int
	// Fallback is set when the rota had nobody for the hour and the
	// school-wide fallback stands in.
	Fallback bool
	People   []*Person
	Groups   []*store.AlertTarget
}

// Directory is what routing an alert about one school needs, read at once:
// its staff, its rota, its district's officers and everyone's targets.
type Directory struct {
	School *hotline.School
	Zone   *time.Location

	staff          []*store.CounselorRecord // active staff of the school
	officers       []*store.CounselorRecord // active officers of its district
	slots          []*store.RotaSlot
	targets        map[int64][]*store.AlertTarget // staff's own, by counselor
	schoolGroups   []*store.AlertTarget
	districtGroups []*store.AlertTarget
}

// Directory reads a school's directory.
func (s *Service) Directory(ctx context.Context, schoolID int64) (*Directory, error) {
	school, err := s.DB.SchoolByID(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	staff, err := s.DB.Counselors(ctx, school.ID, "")
	if err != nil {
		return nil, err
	}
	var officers []*store.CounselorRecord
	if school.District != "" {
		if officers, err = s.DB.Counselors(ctx, 0, school.District); err != nil {
			return nil, err
		}
	}
	slots, err := s.DB.RotaSlots(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	targets, err := s.DB.SchoolAlertTargets(ctx, school.ID, school.District)
	if err != nil {
		return nil, err
	}
	return newDirectory(school, append(staff, officers...), slots, targets), nil
}

// newDirectory sorts what was read about a school (people and targets of
// other schools among them are ignored).
func newDirectory(school *hotline.School, people []*store.CounselorRecord, slots []*store.RotaSlot, targets []*store.AlertTarget) *Directory {
	d := &Directory{School: school, Zone: SchoolZone(school), targets: map[int64][]*store.AlertTarget{}}
	mine := map[int64]bool{}
	for _, c := range people {
		switch {
		case !c.Active:
		case c.SchoolID == school.ID:
			d.staff = append(d.staff, c)
			mine[c.ID] = true
		case c.SchoolID == 0 && school.District != "" && c.District == school.District && c.Role == hotline.RoleDistrict:
			d.officers = append(d.officers, c)
			mine[c.ID] = true
		}
	}
	for _, sl := range slots {
		if sl.SchoolID == school.ID && mine[sl.CounselorID] {
			d.slots = append(d.slots, sl)
		}
	}
	for _, t := range targets {
		switch {
		case t.Owner == store.OwnerStaff && mine[t.CounselorID]:
			d.targets[t.CounselorID] = append(d.targets[t.CounselorID], t)
		case t.Owner == store.OwnerSchool && t.SchoolID == school.ID:
			d.schoolGroups = append(d.schoolGroups, t)
		case t.Owner == store.OwnerDistrict && school.District != "" && t.District == school.District:
			d.districtGroups = append(d.districtGroups, t)
		}
	}
	return d
}

// Staff returns the school's active staff.
func (d *Directory) Staff() []*store.CounselorRecord { return d.staff }

// Slots returns the school's rota.
func (d *Directory) Slots() []*store.RotaSlot { return d.slots }

// Targets returns a staff member's own targets.
func (d *Directory) Targets(counselorID int64) []*store.AlertTarget { return d.targets[counselorID] }

// Person returns a staff member or officer of the directory, or nil.
func (d *Directory) Person(id int64) *store.CounselorRecord {
	for _, c := range append(d.staff, d.officers...) {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// OnCall returns who the rota puts first (position 1) or second (2) on call
// at t, in the rota's order, each once.
func (d *Directory) OnCall(position int, t time.Time) []*store.CounselorRecord {
	local := t.In(d.Zone)
	seen := map[int64]bool{}
	var out []*store.CounselorRecord
	for _, sl := range d.slots {
		if sl.Position != position || seen[sl.CounselorID] || !SlotCovers(sl, local) {
			continue
		}
		if c := d.Person(sl.CounselorID); c != nil && c.SchoolID == d.School.ID {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out
}

// Fallback returns the school-wide fallback: staff on call at any hour
// the rota leaves empty.
func (d *Directory) Fallback() []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range d.staff {
		if c.OnCall {
			out = append(out, c)
		}
	}
	return out
}

// Heads returns the school's head(s) (校长/德育主任).
func (d *Directory) Heads() []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range d.staff {
		if c.DutyHead {
			out = append(out, c)
		}
	}
	return out
}

// Officers returns the active officers of the school's district.
func (d *Directory) Officers() []*store.CounselorRecord { return d.officers }

// DutyOfficers returns the district's duty officer(s).
func (d *Directory) DutyOfficers() []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range d.officers {
		if c.OnCall {
			out = append(out, c)
		}
	}
	return out
}

// Counselors returns the school's staff who work cases (every role of a
// school is one, today; a future read-only role would not be paged).
func (d *Directory) Counselors() []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range d.staff {
		if c.Role == hotline.RoleCounselor || c.Role == hotline.RoleAdmin {
			out = append(out, c)
		}
	}
	return out
}

// Rung returns who rung n pages at t: each person with the targets the
// rung uses (phone calls only where VoiceAllowed), and the groups.
func (d *Directory) Rung(n int, t time.Time) Rung {
	r := Rung{N: n}
	var people []*store.CounselorRecord
	switch n {
	case RungFirst:
		if people = d.OnCall(1, t); len(people) == 0 {
			people, r.Fallback = d.Fallback(), true
		}
	case RungSecond:
		if people = d.OnCall(2, t); len(people) == 0 {
			first := map[int64]bool{}
			for _, c := range d.OnCall(1, t) {
				first[c.ID] = true
			}
			if len(first) > 0 { // the fallback was not paged on the first rung
				for _, c := range d.Fallback() {
					if !first[c.ID] {
						people = append(people, c)
					}
				}
				r.Fallback = len(people) > 0
			}
		}
	case RungSchool:
		people, r.Groups = d.Counselors(), d.schoolGroups
	case RungHead:
		people = d.Heads()
	case RungDistrict:
		people, r.Groups = d.DutyOfficers(), d.districtGroups
	}
	voice := VoiceAllowed(n, t.In(d.Zone))
	for _, c := range people {
		p := &Person{CounselorRecord: c}
		for _, tg := range d.targets[c.ID] {
			if IsVoice(alert.Kind(tg.Kind)) && !voice {
				continue
			}
			p.Targets = append(p.Targets, tg)
		}
		r.People = append(r.People, p)
	}
	return r
}
