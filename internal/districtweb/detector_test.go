package districtweb_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/districtweb"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
)

// TestDetectorPage: the district officer sees the detector's feedback of
// their own district by reason — flagged, cleared as wrong, its share, and
// misses — exactly, and nothing of another district; the safety question's
// counts with each outcome (overtaken among them), and apart, those of
// drafts dropped before a school was chosen (the whole hotline's).
func TestDetectorPage(t *testing.T) {
	db := testsupport.OpenStore(t)
	db.Clock = fixedClock(time.Date(2026, 5, 10, 2, 0, 0, 0, time.UTC))
	ctx := context.Background()
	err := db.Update(ctx, func(tx *store.Tx) error {
		for _, c := range []struct {
			district, kind, reason string
			n                      int
		}{
			{"海淀区", store.UrgencyFlagged, "weapon", 4},
			{"海淀区", store.UrgencyWrong, "weapon", 1},
			{"海淀区", store.UrgencyFlagged, "self-harm", 2},
			{"海淀区", store.UrgencyMissed, "", 3},
			{"朝阳区", store.UrgencyFlagged, "threat", 9},
			{"海淀区", store.UrgencyAsked, "", 5},
			{"海淀区", store.UrgencyAnsweredYes, "", 1},
			{"海淀区", store.UrgencyAnsweredNo, "", 1},
			{"海淀区", store.UrgencyNoAnswer, "", 2},
			{"海淀区", store.UrgencyOvertaken, "", 1},
			{"朝阳区", store.UrgencyAsked, "", 7},
			{store.DistrictNoSchool, store.UrgencyAsked, "", 2},
			{store.DistrictNoSchool, store.UrgencyNoAnswer, "", 2},
		} {
			for range c.n {
				if err := tx.CountUrgency(c.district, c.kind, c.reason, false); err != nil {
					return err
				}
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
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/district/detector", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, body)
	}
	all := body[strings.Index(body, `id="detector-all"`):]
	all = all[:strings.Index(all, "</table>")]
	cells := func(reason string) string {
		m := regexp.MustCompile(`data-reason="` + regexp.QuoteMeta(reason) + `"><td>[^<]*</td>((?:<td>[^<]*</td>)+)`).FindStringSubmatch(all)
		if m == nil {
			return ""
		}
		return m[1]
	}
	for reason, want := range map[string]string{
		"weapon":    "<td>4</td><td>1</td><td>25%</td><td>0</td>",
		"self-harm": "<td>2</td><td>0</td><td>0%</td><td>0</td>",
		"":          "<td>0</td><td>0</td><td>—</td><td>3</td>",
	} {
		if got := cells(reason); got != want {
			t.Errorf("row %q: got %q, want %q", reason, got, want)
		}
	}
	if strings.Contains(body, `data-reason="threat"`) || !strings.Contains(body, "2026-05") || !strings.Contains(body, "凶器") {
		t.Errorf("page: another district's row, or no month or label:\n%s", body)
	}
	safety := body[strings.Index(body, `id="detector-safety"`):]
	safety = safety[:strings.Index(safety, "</table>")]
	if want := `<tr data-month="2026-05"><td>2026-05</td><td>5</td><td>1</td><td>1</td><td>2</td><td>1</td></tr>`; !strings.Contains(safety, want) {
		t.Errorf("safety counts: got\n%s\nwant the row %s", safety, want)
	}
	none := body[strings.Index(body, `id="detector-no-school"`):]
	none = none[:strings.Index(none, "</table>")]
	if want := `<tr><td>2</td><td>0</td><td>0</td><td>2</td><td>0</td></tr>`; !strings.Contains(none, want) || !strings.Contains(body, "还没选学校") {
		t.Errorf("no school: got\n%s\nwant the row %s", none, want)
	}
	// Every page links to it.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/district/", nil))
	if !strings.Contains(rec.Body.String(), `href="/district/detector"`) {
		t.Error("the overview does not link to the detector page")
	}
}
