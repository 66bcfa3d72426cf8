package districtweb_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/districtweb"
	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/triage"
)

// TestSchoolFailuresAreExact: a school's one overdue, one unassessed and
// one escalated case show as 1 in the district's overview and on the
// school's page — not as "<5", which is for counts that could single out
// a reporter (here the category chart still says "<5").
func TestSchoolFailuresAreExact(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(pgtest.DB(t, filepath.Join(t.TempDir(), "hotline.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	db.Clock = fixedClock(now)
	err = db.Update(ctx, func(tx *store.Tx) error {
		sc := &hotline.School{Code: "no3", Name: "第三中学", District: "海淀区", PublicKey: []byte("pk")}
		if err := tx.CreateSchool(sc, []byte("wrapped")); err != nil {
			return err
		}
		created := now.Add(-48 * time.Hour)
		// Unassessed and never acknowledged: overdue.
		overdue := &hotline.Tip{UID: "t1", SchoolID: sc.ID, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}, Channel: hotline.ChannelWebchat,
			Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal,
			CreatedAt: created, AckDue: created.Add(24 * time.Hour), Steps: map[hotline.Step]bool{}}
		// Severe, escalated and handled in time.
		escalated := &hotline.Tip{UID: "t2", SchoolID: sc.ID, Alias: hotline.Alias{ZH: "白鹿", EN: "White Deer"}, Channel: hotline.ChannelMailbox,
			Role: hotline.ReporterWitness, Status: hotline.StatusInvestigating, Severity: hotline.SeveritySevere, Category: hotline.CategoryPhysical,
			Escalated: true, CreatedAt: created, AckDue: created.Add(24 * time.Hour), AcknowledgedAt: created.Add(time.Hour),
			Steps: map[hotline.Step]bool{hotline.StepDistrictReport: true}}
		for _, tip := range []*hotline.Tip{overdue, escalated} {
			if err := tx.InsertTip(tip, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := districtweb.New(districtweb.Config{District: district.New(db), Triage: &triage.Service{DB: db},
		Auth:   officerAuth{&staff.Session{Counselor: &hotline.Counselor{ID: 1, Role: hotline.RoleDistrict, District: "海淀区"}}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
	overview := get("/district/")
	for _, col := range []string{"overdue", "unassessed", "escalated"} {
		re := regexp.MustCompile(`data-exact="` + col + `">([^<]*)<`)
		m := re.FindStringSubmatch(overview)
		if m == nil || m[1] != "1" {
			t.Errorf("overview %s cell = %q, want 1", col, m)
		}
	}
	school := get("/district/schools/no3")
	for _, id := range []string{"school-overdue", "school-unassessed", "school-escalated"} {
		re := regexp.MustCompile(`id="` + id + `">([^<]*)<`)
		if m := re.FindStringSubmatch(school); m == nil || m[1] != "1" {
			t.Errorf("school page %s = %q, want 1", id, m)
		}
	}
	// Counts that could single out a reporter stay suppressed.
	if !regexp.MustCompile(`&lt;5`).MatchString(school) {
		t.Error("the school page no longer suppresses small category counts")
	}
}
