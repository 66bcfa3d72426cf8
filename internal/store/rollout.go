package store

import (
	"context"

	"hotline/internal/hotline"
)

// RolloutFacts are what the database says about one school's opening:
// counts and yes/no, no content and no names.
type RolloutFacts struct {
	SchoolID int64 `db:"school_id"`
	// AdminLogIns counts complete log-ins of the school's admins (0 or 1:
	// whether any happened).
	AdminLogIns int `db:"admin_logins"`
	// Counselors are the active counselors who are not admins.
	Counselors int `db:"counselors"`
	// Printed is 1 once a poster or a class's survey code sheet was
	// downloaded.
	Printed  int `db:"printed"`
	Tips     int `db:"tips"`
	Answered int `db:"answered"` // reports a counselor has replied to
}

// RolloutFacts reads the facts of every school of a district in one query.
func (db *DB) RolloutFacts(ctx context.Context, district string) ([]*RolloutFacts, error) {
	var out []*RolloutFacts
	q := `SELECT s.id AS school_id,
		CASE WHEN EXISTS (SELECT 1 FROM audit a JOIN counselors c ON c.id = a.counselor_id
			WHERE a.school_id = s.id AND a.kind = ? AND c.role = ?) THEN 1 ELSE 0 END AS admin_logins,
		(SELECT COUNT(*) FROM counselors c WHERE c.school_id = s.id AND c.active = ? AND c.role = ?) AS counselors,
		CASE WHEN EXISTS (SELECT 1 FROM audit a WHERE a.school_id = s.id AND a.kind IN (?, ?)) THEN 1 ELSE 0 END AS printed,
		(SELECT COUNT(*) FROM tips t WHERE t.school_id = s.id) AS tips,
		(SELECT COUNT(*) FROM tips t WHERE t.school_id = s.id AND t.first_reply_at > 0) AS answered
		FROM schools s WHERE s.district = ? ORDER BY s.code`
	err := db.reader.SelectContext(ctx, &out, db.reader.Rebind(q),
		string(hotline.AuditLogin), string(hotline.RoleAdmin), true, string(hotline.RoleCounselor),
		string(hotline.AuditPosterDownloaded), string(hotline.AuditSurveyCodes), district)
	return out, err
}
