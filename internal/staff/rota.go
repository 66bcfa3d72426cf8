package staff

import (
	"context"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// DefaultZone is the zone of rota hours when a school sets none.
const DefaultZone = "Asia/Shanghai"

// SchoolZone returns the zone a school's rota hours are in.
func SchoolZone(school *hotline.School) *time.Location {
	name := school.Settings.TimeZone
	if name == "" {
		name = DefaultZone
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	// Asia/Shanghai where the zone database is missing (cmd/hotline
	// embeds it; this is for other builds).
	return hotline.ChinaTime
}

// Weekdays of the rota, Monday first as Chinese calendars have them; bit i
// of a slot's Weekdays is Weekdays[i].
var Weekdays = []hotline.Label{
	{ZH: "周一", EN: "Mon"}, {ZH: "周二", EN: "Tue"}, {ZH: "周三", EN: "Wed"}, {ZH: "周四", EN: "Thu"},
	{ZH: "周五", EN: "Fri"}, {ZH: "周六", EN: "Sat"}, {ZH: "周日", EN: "Sun"},
}

// weekdayIndex is t's day in Weekdays (Monday 0).
func weekdayIndex(t time.Time) int { return (int(t.Weekday()) + 6) % 7 }

// SlotCovers reports whether a slot covers the local time t (in the
// school's zone): from its start hour on one of its days up to its end
// hour, the next day when it runs through midnight.
func SlotCovers(s *store.RotaSlot, t time.Time) bool {
	d, h := weekdayIndex(t), t.Hour()
	on := func(day int) bool { return s.Weekdays&(1<<uint(day)) != 0 }
	if s.EndHour > s.StartHour {
		return on(d) && h >= s.StartHour && h < s.EndHour
	}
	return (on(d) && h >= s.StartHour) || (on((d+6)%7) && h < s.EndHour)
}

// NewSlot is a rota line an admin adds.
type NewSlot struct {
	CounselorID int64
	Position    int   // 1 or 2
	Weekdays    []int // 0 (Monday) … 6 (Sunday)
	StartHour   int   // 0–23
	EndHour     int   // 1–24; not after StartHour: through midnight
}

// Errors of the rota page, safe to show.
var (
	errSlotPerson   = hotline.Errorf(hotline.EINVALID, "请选择本校一位在职的老师。", "Choose an active staff member of this school.")
	errSlotPosition = hotline.Errorf(hotline.EINVALID, "请选择第一值班人或第二值班人。", "Choose first or second on call.")
	errSlotDays     = hotline.Errorf(hotline.EINVALID, "请至少选择一天。", "Choose at least one day.")
	errSlotHours    = hotline.Errorf(hotline.EINVALID, "时间无效：开始 0–23 点，结束 1–24 点。", "Invalid hours: start 0–23, end 1–24.")
	errTooManySlots = hotline.Errorf(hotline.EINVALID, "值班表最多 200 行。", "A rota has at most 200 lines.")
	errZone         = hotline.Errorf(hotline.EINVALID, "时区无效，请填写如 Asia/Shanghai 的时区名。", "Invalid time zone; write a zone name such as Asia/Shanghai.")
)

const maxSlots = 200

// mayEditRota checks that the session is an admin of a school.
func mayEditRota(sess *Session) error {
	if sess.Counselor.Role != hotline.RoleAdmin || sess.Counselor.SchoolID == 0 {
		return hotline.ErrForbidden
	}
	return nil
}

// staffOfSchool returns an active staff member of the admin's school, or
// errSlotPerson.
func (s *Service) staffOfSchool(ctx context.Context, sess *Session, id int64) (*store.CounselorRecord, error) {
	c, err := s.DB.CounselorByID(ctx, id)
	if err != nil || !c.Active || c.SchoolID == 0 || c.SchoolID != sess.Counselor.SchoolID {
		return nil, errSlotPerson
	}
	return c, nil
}

// AddRotaSlot adds a line to the admin's school's rota.
func (s *Service) AddRotaSlot(ctx context.Context, sess *Session, n NewSlot) error {
	if err := mayEditRota(sess); err != nil {
		return err
	}
	if _, err := s.staffOfSchool(ctx, sess, n.CounselorID); err != nil {
		return err
	}
	if n.Position != 1 && n.Position != 2 {
		return errSlotPosition
	}
	days := 0
	for _, d := range n.Weekdays {
		if d < 0 || d > 6 {
			return errSlotDays
		}
		days |= 1 << uint(d)
	}
	if days == 0 {
		return errSlotDays
	}
	if n.StartHour < 0 || n.StartHour > 23 || n.EndHour < 1 || n.EndHour > 24 {
		return errSlotHours
	}
	slots, err := s.DB.RotaSlots(ctx, sess.Counselor.SchoolID)
	if err != nil {
		return err
	}
	if len(slots) >= maxSlots {
		return errTooManySlots
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.AddRotaSlot(&store.RotaSlot{SchoolID: sess.Counselor.SchoolID, CounselorID: n.CounselorID, Position: n.Position, Weekdays: days, StartHour: n.StartHour, EndHour: n.EndHour})
	})
}

// DeleteRotaSlot removes a line of the admin's school's rota.
func (s *Service) DeleteRotaSlot(ctx context.Context, sess *Session, id int64) error {
	if err := mayEditRota(sess); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.DeleteRotaSlot(sess.Counselor.SchoolID, id) })
}

// SetDutyHead marks a staff member of the admin's school as the school's
// head (校长/德育主任), paged on the ladder's fourth rung, or unmarks them.
func (s *Service) SetDutyHead(ctx context.Context, sess *Session, counselorID int64, on bool) error {
	if err := mayEditRota(sess); err != nil {
		return err
	}
	if _, err := s.staffOfSchool(ctx, sess, counselorID); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetDutyHead(counselorID, on) })
}

// SetSchoolZone sets the zone of the admin's school's rota hours ("":
// Asia/Shanghai).
func (s *Service) SetSchoolZone(ctx context.Context, sess *Session, name string) error {
	if err := mayEditRota(sess); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == DefaultZone {
		name = ""
	}
	if name != "" {
		if _, err := time.LoadLocation(name); err != nil || len(name) > 64 || strings.EqualFold(name, "local") {
			return errZone
		}
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error {
		school, err := tx.SchoolByID(sess.Counselor.SchoolID)
		if err != nil {
			return err
		}
		school.Settings.TimeZone = name
		return tx.UpdateSchool(school)
	})
}

// SetDistrictDuty names (or unnames) an officer of the session's district
// as its duty officer (区教育局值班), paged on every ladder's last rung.
func (s *Service) SetDistrictDuty(ctx context.Context, sess *Session, officerID int64, on bool) error {
	if sess.Counselor.Role != hotline.RoleDistrict || sess.Counselor.District == "" {
		return hotline.ErrForbidden
	}
	c, err := s.DB.CounselorByID(ctx, officerID)
	if err != nil || !c.Active || c.SchoolID != 0 || c.Role != hotline.RoleDistrict || c.District != sess.Counselor.District {
		return hotline.ErrNotFound
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetOnCall(officerID, on) })
}

// DistrictOfficers lists the active officers of the session's district.
func (s *Service) DistrictOfficers(ctx context.Context, sess *Session) ([]*store.CounselorRecord, error) {
	if sess.Counselor.Role != hotline.RoleDistrict {
		return nil, hotline.ErrForbidden
	}
	all, err := s.DB.Counselors(ctx, 0, sess.Counselor.District)
	if err != nil {
		return nil, err
	}
	return activeOnly(all), nil
}

// Ladder minutes between rungs: the default and the bounds a district may
// set.
const (
	DefaultLadderMinutes = 5
	MinLadderMinutes     = 1
	MaxLadderMinutes     = 30
)

// LadderMinutes returns the minutes between two rungs in a district.
func (s *Service) LadderMinutes(ctx context.Context, district string) (int, error) {
	n, err := s.DB.LadderMinutes(ctx, district)
	if err != nil || n <= 0 {
		return DefaultLadderMinutes, err
	}
	return n, nil
}

// SetLadderMinutes sets the minutes between two rungs in the session's
// district (0: the default).
func (s *Service) SetLadderMinutes(ctx context.Context, sess *Session, minutes int) error {
	if sess.Counselor.Role != hotline.RoleDistrict || sess.Counselor.District == "" {
		return hotline.ErrForbidden
	}
	if minutes != 0 && (minutes < MinLadderMinutes || minutes > MaxLadderMinutes) {
		return hotline.Errorf(hotline.EINVALID, "升级间隔需为 1–30 分钟（留空用默认 5 分钟）。", "The minutes between rungs are 1–30 (empty: the default, 5).")
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.SetLadderMinutes(sess.Counselor.District, minutes) })
}

func activeOnly(cs []*store.CounselorRecord) []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range cs {
		if c.Active {
			out = append(out, c)
		}
	}
	return out
}
