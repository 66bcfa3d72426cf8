package districtweb_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
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

// TestDistrictSetsItsCaseDeadlines: an officer sets the district's case
// deadlines in hours; empty fields keep the default, nonsense and a graver
// severity given longer than a lighter one are refused, and the school's
// next case gets the district's assessment time.
func TestDistrictSetsItsCaseDeadlines(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(pgtest.DB(t, filepath.Join(t.TempDir(), "hotline.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	db.Clock = fixedClock(now)
	h, err := districtweb.New(districtweb.Config{District: district.New(db), Triage: &triage.Service{DB: db},
		Auth:   officerAuth{&staff.Session{Counselor: &hotline.Counselor{ID: 1, Role: hotline.RoleDistrict, District: "海淀区"}}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/district/settings", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/district/settings", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `placeholder="72"`) || !strings.Contains(rec.Body.String(), `placeholder="336"`) {
		t.Fatalf("settings page: %d", rec.Code)
	}
	for _, bad := range []url.Values{{"assess": {"0"}}, {"minor": {"abc"}}, {"severe": {"10000"}}, {"minor": {"24"}, "serious": {"48"}}} {
		if rec := post(bad); rec.Code != http.StatusBadRequest {
			t.Errorf("%v accepted: %d", bad, rec.Code)
		}
	}
	if rec := post(url.Values{"assess": {"48"}, "criminal": {"24"}, "minor": {""}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("save: %d: %s", rec.Code, rec.Body.String())
	}
	d, err := db.DistrictDeadlines(ctx, "海淀区")
	if err != nil || d.Assess.D() != 48*time.Hour || d.Criminal.D() != 24*time.Hour || d.Minor != 0 {
		t.Fatalf("saved %+v %v", d, err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		sc := &hotline.School{Code: "no3", Name: "第三中学", District: "海淀区", PublicKey: []byte("pk")}
		if err := tx.CreateSchool(sc, []byte("wrapped")); err != nil {
			return err
		}
		tip := &hotline.Tip{UID: "t1", SchoolID: sc.ID, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}, Channel: hotline.ChannelWebchat,
			Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Steps: map[hotline.Step]bool{}}
		if err := tx.InsertTip(tip, nil); err != nil {
			return err
		}
		if !tip.AssessDue.Equal(now.Add(48 * time.Hour)) {
			t.Errorf("assessment due %v, want the district's 48 h", tip.AssessDue)
		}
		cd, err := tx.CaseDeadlines(sc.ID)
		if err != nil {
			return err
		}
		if cd.Progress(hotline.SeverityCriminal) != 24*time.Hour || cd.Progress(hotline.SeverityMinor) != 14*24*time.Hour {
			t.Errorf("deadlines in force %+v", cd)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
