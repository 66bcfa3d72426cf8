package district

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// Describe says what a report filter covers, for the audit trail:
// "summary school=no3 2024-03-01..2024-03-31".
func (f ReportFilter) Describe(what string) string {
	out := what
	if f.District != "" {
		out += " district=" + f.District
	}
	if f.SchoolCode != "" {
		out += " school=" + f.SchoolCode
	}
	if !f.From.IsZero() || !f.To.IsZero() {
		out += fmt.Sprintf(" %s..%s", day(f.From), day(f.To))
	}
	return out
}

func day(t time.Time) string {
	if t.IsZero() {
		return "…"
	}
	return t.In(Zone).Format("2006-01-02")
}

// RecordExport writes to the audit trail that figures left the server as a
// file: by a staff member (who; nil for the command line, client "cli"),
// of a school (schoolID, 0 for a district-wide report) of district.
func (s *Service) RecordExport(ctx context.Context, who *hotline.Counselor, district string, schoolID int64, client, detail string) error {
	e := &hotline.AuditEntry{Kind: hotline.AuditExport, District: district, SchoolID: schoolID, Client: client, Detail: detail}
	if who != nil {
		e.CounselorID = who.ID
	}
	return s.DB.Update(ctx, func(tx *store.Tx) error { return tx.AppendAudit(e) })
}

// Audit returns a page of a district's audit trail, newest first: its
// officers' log-ins, views and exports and every one of its schools'
// entries (before an entry id; 0 for the newest).
func (s *Service) Audit(ctx context.Context, district string, kind hotline.AuditKind, before int64) ([]*hotline.AuditEntry, error) {
	if district == "" {
		return nil, hotline.ErrNotFound
	}
	return s.DB.Audit(ctx, store.AuditFilter{District: district, Kind: kind, Before: before, Limit: 100})
}
