package store

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
)

// AppendAudit adds an entry to the audit trail within the transaction; its
// time is the transaction's.
func (tx *Tx) AppendAudit(e *hotline.AuditEntry) error {
	e.At = tx.now
	err := tx.GetContext(tx.c(), &e.ID, tx.Rebind(`INSERT INTO audit (at, kind, district, school_id, counselor_id, tip_id, client, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		micros(e.At), string(e.Kind), e.District, e.SchoolID, e.CounselorID, e.TipID, e.Client, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// OpenedSince reports whether the counselor's opening of a tip was recorded
// at or after since.
func (tx *Tx) OpenedSince(counselorID, tipID int64, since time.Time) (bool, error) {
	var n int
	err := tx.GetContext(tx.c(), &n, tx.Rebind(`SELECT COUNT(*) FROM audit WHERE counselor_id = ? AND tip_id = ? AND at >= ? AND kind = ?`),
		counselorID, tipID, micros(since), string(hotline.AuditCaseOpened))
	return n > 0, err
}

// AuditFilter selects audit entries: a school's, or a district's (its
// schools' and its officers'), newest first, before an id for paging.
type AuditFilter struct {
	SchoolID int64
	District string
	Kind     hotline.AuditKind
	Before   int64 // 0: from the newest
	Limit    int
}

type auditRow struct {
	ID          int64  `db:"id"`
	At          int64  `db:"at"`
	Kind        string `db:"kind"`
	District    string `db:"district"`
	SchoolID    int64  `db:"school_id"`
	CounselorID int64  `db:"counselor_id"`
	TipID       int64  `db:"tip_id"`
	Client      string `db:"client"`
	Detail      string `db:"detail"`
	Username    string `db:"username"`
	DisplayName string `db:"display_name"`
	SchoolName  string `db:"school_name"`
	AliasZH     string `db:"alias_zh"`
	AliasEN     string `db:"alias_en"`
}

// Audit lists audit entries with the names of who, which school and which
// case. A filter with neither a school nor a district is refused: nobody
// reads everyone's.
func (db *DB) Audit(ctx context.Context, f AuditFilter) ([]*hotline.AuditEntry, error) {
	q := `SELECT a.id, a.at, a.kind, a.district, a.school_id, a.counselor_id, a.tip_id, a.client, a.detail,
		COALESCE(c.username, '') AS username, COALESCE(c.display_name, '') AS display_name, COALESCE(s.name, '') AS school_name,
		COALESCE(t.alias_zh, '') AS alias_zh, COALESCE(t.alias_en, '') AS alias_en
		FROM audit a LEFT JOIN counselors c ON c.id = a.counselor_id LEFT JOIN schools s ON s.id = a.school_id LEFT JOIN tips t ON t.id = a.tip_id WHERE `
	var args []any
	switch {
	case f.SchoolID != 0:
		q, args = q+`a.school_id = ?`, append(args, f.SchoolID)
	case f.District != "":
		q, args = q+`a.district = ?`, append(args, f.District)
	default:
		return nil, fmt.Errorf("store: audit without a school or district")
	}
	if f.Kind != "" {
		q, args = q+` AND a.kind = ?`, append(args, string(f.Kind))
	}
	if f.Before > 0 {
		q, args = q+` AND a.id < ?`, append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	q += fmt.Sprintf(` ORDER BY a.id DESC LIMIT %d`, limit)
	var rows []auditRow
	if err := db.reader.SelectContext(ctx, &rows, db.reader.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("select audit: %w", err)
	}
	out := make([]*hotline.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = &hotline.AuditEntry{ID: r.ID, At: fromMicros(r.At), Kind: hotline.AuditKind(r.Kind), District: r.District, SchoolID: r.SchoolID,
			CounselorID: r.CounselorID, TipID: r.TipID, Client: r.Client, Detail: r.Detail, Username: r.Username, DisplayName: r.DisplayName,
			SchoolName: r.SchoolName, Alias: hotline.Alias{ZH: r.AliasZH, EN: r.AliasEN}}
	}
	return out, nil
}
