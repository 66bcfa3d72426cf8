package districtweb_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestCaseHistoryInWords: the district's copy of an escalated case says its
// ledger events in words, zh and en, as the school's inbox does, and never
// shows the ledger's raw detail keys.
func TestCaseHistoryInWords(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(pgtest.DB(t, filepath.Join(t.TempDir(), "hotline.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	db.Clock = fixedClock(now)
	// The officer is looked up for access to an escalated case.
	officer := &hotline.Counselor{Username: "officer", DisplayName: "区教育局", Role: hotline.RoleDistrict, District: "海淀区"}
	err = db.Update(ctx, func(tx *store.Tx) error {
		sc := &hotline.School{Code: "no3", Name: "第三中学", District: "海淀区", PublicKey: []byte("pk")}
		if err := tx.CreateSchool(sc, []byte("wrapped")); err != nil {
			return err
		}
		if err := tx.CreateCounselor(officer, []byte("wrapped")); err != nil {
			return err
		}
		created := now.Add(-48 * time.Hour)
		tip := &hotline.Tip{UID: "t2", SchoolID: sc.ID, Alias: hotline.Alias{ZH: "白鹿", EN: "White Deer"}, Channel: hotline.ChannelWebchat,
			Role: hotline.ReporterWitness, Status: hotline.StatusInvestigating, Severity: hotline.SeveritySevere, Category: hotline.CategoryPhysical,
			Escalated: true, CreatedAt: created, AckDue: created.Add(24 * time.Hour), AcknowledgedAt: created.Add(time.Hour),
			Steps: map[hotline.Step]bool{hotline.StepDistrictReport: true}}
		if err := tx.InsertTip(tip, nil); err != nil {
			return err
		}
		for _, ev := range []struct {
			kind   hotline.EventKind
			detail string
		}{
			{hotline.EventReceived, "channel=webchat"},
			{hotline.EventAcknowledged, "from=new;to=acknowledged"},
			{hotline.EventSeverityChanged, "from=;to=severe"},
			{hotline.EventAssigned, "counselor=5"},
			{hotline.EventEscalated, "severity=severe"},
			{hotline.EventDeadlineMissed, "deadline=progress"},
		} {
			if err := tx.AppendEvent(&hotline.Event{SchoolID: sc.ID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: ev.kind, Detail: ev.detail}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := districtweb.New(districtweb.Config{District: district.New(db), Triage: &triage.Service{DB: db},
		Auth:   officerAuth{&staff.Session{Counselor: officer}},
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
	zh := get("/district/tips/t2")
	en := get("/district/tips/t2?lang=en")
	for _, want := range []string{
		"收到报告 · 渠道：网页聊天",
		"状态：新报告 → 已受理",
		"情节等级变更：未评估 → 情节严重",
		"指派负责人：其他工作人员",
		"上报区教育局 · 情节等级：情节严重",
		"超过处理时限：跟进处理或办结",
	} {
		if !strings.Contains(zh, html.EscapeString(want)) {
			t.Errorf("zh case page lacks %q", want)
		}
	}
	for _, want := range []string{
		"Status: New → Acknowledged",
		"Severity changed: Unassessed → Severe",
		"Assigned: another staff member",
		"Deadline missed: follow up or close",
	} {
		if !strings.Contains(en, html.EscapeString(want)) {
			t.Errorf("en case page lacks %q", want)
		}
	}
	for lang, page := range map[string]string{"zh": zh, "en": en} {
		for _, raw := range []string{"from=", "to=", "deadline=", "channel=", "counselor=", "severity="} {
			if strings.Contains(page, raw) {
				t.Errorf("%s case page shows raw %q", lang, raw)
			}
		}
	}
}
