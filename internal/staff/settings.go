package staff

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// SettingsUpdate is what a school admin may change about their school.
// Deadlines are whole hours; zero takes the policy default.
type SettingsUpdate struct {
	Name                string
	NameEN              string
	Code                string
	EmergencyContact    string
	AllowedOrigins      []string
	AckUrgentHours      int
	AckHours            int
	FirstReplyHours     int
	DistrictReportHours int
	RequireTOTP         bool
	RetentionDays       int
}

// Limits on school settings.
const (
	maxDeadlineHours = 24 * 30
	maxOrigins       = 20
	// MinRetentionDays keeps a case's content at least a school year's
	// quarter, so that a hasty setting cannot purge open cases.
	MinRetentionDays = 90
	maxRetentionDays = 3650
)

// ValidateOrigin checks one allowed widget origin and returns its
// canonical form (hotline.CanonicalOrigin).
func ValidateOrigin(s string) (string, error) { return hotline.CanonicalOrigin(s) }

// SchoolOf returns the actor's school.
func (s *Service) SchoolOf(ctx context.Context, actor hotline.Actor) (*hotline.School, error) {
	if actor.SchoolID == 0 {
		return nil, hotline.ErrNotFound
	}
	return s.DB.SchoolByID(ctx, actor.SchoolID)
}

// Counselors lists the staff of the actor's school, active or not.
func (s *Service) Counselors(ctx context.Context, actor hotline.Actor) ([]*hotline.Counselor, error) {
	if actor.SchoolID == 0 {
		return nil, hotline.ErrNotFound
	}
	recs, err := s.DB.Counselors(ctx, actor.SchoolID, "")
	if err != nil {
		return nil, err
	}
	out := make([]*hotline.Counselor, len(recs))
	for i, r := range recs {
		c := r.Counselor
		out[i] = &c
	}
	return out, nil
}

// UpdateSettings saves a school's name, code and settings; only the
// school's admin may.
func (s *Service) UpdateSettings(ctx context.Context, sess *Session, u SettingsUpdate) (*hotline.School, error) {
	if sess.Counselor.Role != hotline.RoleAdmin || sess.Counselor.SchoolID == 0 {
		return nil, hotline.ErrForbidden
	}
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" || !utf8.ValidString(u.Name) || utf8.RuneCountInString(u.Name) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "学校名称需为 1–100 个字符。", "A school name is 1–100 characters.")
	}
	u.NameEN = strings.TrimSpace(u.NameEN)
	if !utf8.ValidString(u.NameEN) || utf8.RuneCountInString(u.NameEN) > 100 {
		return nil, hotline.Errorf(hotline.EINVALID, "英文名称最多 100 个字符。", "An English name is at most 100 characters.")
	}
	u.EmergencyContact = strings.TrimSpace(u.EmergencyContact)
	if !utf8.ValidString(u.EmergencyContact) || utf8.RuneCountInString(u.EmergencyContact) > 300 {
		return nil, hotline.Errorf(hotline.EINVALID, "紧急联系方式最多 300 个字符。", "The emergency contact is at most 300 characters.")
	}
	var origins []string
	seen := map[string]bool{}
	for _, o := range u.AllowedOrigins {
		if strings.TrimSpace(o) == "" {
			continue
		}
		canon, err := ValidateOrigin(o)
		if err != nil {
			return nil, err
		}
		if !seen[canon] {
			seen[canon] = true
			origins = append(origins, canon)
		}
	}
	if len(origins) > maxOrigins {
		return nil, hotline.Errorf(hotline.EINVALID, "来源地址最多 20 个。", "At most 20 origins.")
	}
	hours := []int{u.AckUrgentHours, u.AckHours, u.FirstReplyHours, u.DistrictReportHours}
	for _, h := range hours {
		if h < 0 || h > maxDeadlineHours {
			return nil, hotline.Errorf(hotline.EINVALID, "时限需为 1–720 小时（留空用默认值）。", "A deadline is 1–720 hours (empty for the default).")
		}
	}
	if u.RetentionDays != 0 && (u.RetentionDays < MinRetentionDays || u.RetentionDays > maxRetentionDays) {
		return nil, hotline.Errorf(hotline.EINVALID, "保存期限需为 0（永久）或 90–3650 天。", "Retention is 0 (forever) or 90–3650 days.")
	}
	var out *hotline.School
	err := s.DB.Update(ctx, func(tx *store.Tx) error {
		school, err := tx.SchoolByID(sess.Counselor.SchoolID)
		if err != nil {
			return err
		}
		school.Name, school.Code = u.Name, u.Code
		st := &school.Settings
		st.NameEN, st.EmergencyContact, st.AllowedOrigins = u.NameEN, u.EmergencyContact, origins
		st.Deadlines = hotline.Deadlines{
			AckUrgent:      hotline.Duration(time.Duration(u.AckUrgentHours) * time.Hour),
			Ack:            hotline.Duration(time.Duration(u.AckHours) * time.Hour),
			FirstReply:     hotline.Duration(time.Duration(u.FirstReplyHours) * time.Hour),
			DistrictReport: hotline.Duration(time.Duration(u.DistrictReportHours) * time.Hour),
		}
		st.RequireTOTP, st.RetentionDays = u.RequireTOTP, u.RetentionDays
		if err := tx.UpdateSchool(school); err != nil {
			return err
		}
		out = school
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
