package district_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/store"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// TestRolloutCountsOnlyWhatHappened: the tracker's cells come from what
// the database holds: the widget counts only on a site the school lists
// now and within 30 days; a school added but not handed over is a row of
// its own, all red; the questionnaire is the newest wave that opened,
// with its response rate; sorting is by the column asked for; the CSV
// has Chinese then English headers and neutralises formulas.
func TestRolloutCountsOnlyWhatHappened(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	now := time.Date(2026, 9, 20, 4, 0, 0, 0, time.UTC)
	db.Clock = fixedClock(now)
	var no3, no5 *hotline.School
	err := db.Update(ctx, func(tx *store.Tx) error {
		no3 = &hotline.School{Code: "no3", Name: "第三中学", District: "海淀区", PublicKey: []byte("pk")}
		no3.Settings.AllowedOrigins = []string{"https://www.no3.example.cn"}
		no5 = &hotline.School{Code: "no5", Name: "=HYPERLINK(\"x\")", District: "海淀区", PublicKey: []byte("pk")}
		for _, s := range []*hotline.School{no3, no5, {Code: "cy1", Name: "朝阳一中", District: "朝阳区", PublicKey: []byte("pk")}} {
			if err := tx.CreateSchool(s, []byte("w")); err != nil {
				return err
			}
		}
		if err := tx.InsertHandover(&store.Handover{District: "海淀区", Code: "no8", Name: "第八中学", TokenHash: []byte("h8"), CreatedBy: 1, ExpiresAt: now.Add(time.Hour).UnixMicro()}); err != nil {
			return err
		}
		// A survey at no3: an old wave, and the newest opened one with 4
		// codes, 3 used; a wave still to open does not count.
		sv := &store.SurveyRow{UID: "s1", SchoolID: no3.ID, District: "海淀区", TitleZH: "欺凌调查", TitleEN: "Bullying survey", Questions: "[]"}
		if err := tx.InsertSurvey(sv); err != nil {
			return err
		}
		for i, opens := range []time.Time{now.AddDate(0, -3, 0), now.AddDate(0, 0, -2), now.AddDate(0, 1, 0)} {
			w := &store.WaveRow{SurveyID: sv.ID, N: i + 1, NameZH: []string{"基线", "复测", "下次"}[i], OpensAt: opens.UnixMicro(), ClosesAt: opens.AddDate(0, 0, 7).UnixMicro()}
			if err := tx.InsertWave(w); err != nil {
				return err
			}
			if i != 1 {
				continue
			}
			for j := 0; j < 4; j++ {
				if err := tx.InsertSurveyCode(w.ID, "初一", "1班", []byte{byte(j)}); err != nil {
					return err
				}
				if j < 3 {
					c, err := tx.SurveyCode([]byte{byte(j)})
					if err != nil {
						return err
					}
					if _, err := tx.UseSurveyCode(c.ID, []byte("b")); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := func(school int64, origin string, day time.Time) {
		t.Helper()
		if err := db.RecordWidgetSeen(ctx, school, origin, day.In(district.Zone).Format("2006-01-02")); err != nil {
			t.Fatal(err)
		}
	}
	seen(no5.ID, "https://www.no5.example.cn", now)                    // a site no5 does not list
	seen(no3.ID, "https://www.no3.example.cn", now.AddDate(0, 0, -40)) // too long ago
	svc := district.New(db)
	ro, err := svc.Rollout(ctx, "海淀区", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Rows) != 3 {
		t.Fatalf("rows: got %d, want no3, no5 and the pending no8", len(ro.Rows))
	}
	byCode := map[string]*district.RolloutRow{}
	for _, r := range ro.Rows {
		byCode[r.Code] = r
	}
	if r := byCode["no8"]; r == nil || !r.Pending || r.School != nil || r.Done() != 0 {
		t.Fatalf("pending school: %+v", r)
	}
	if byCode["no3"].WidgetOrigin != "" || byCode["no5"].WidgetOrigin != "" {
		t.Fatalf("widget counted from an unlisted site or too long ago: no3 %q, no5 %q", byCode["no3"].WidgetOrigin, byCode["no5"].WidgetOrigin)
	}
	if sv := byCode["no3"].Survey; sv == nil || sv.Wave.ZH != "复测" || sv.Codes != 4 || sv.Used != 3 || sv.Rate() != 75 {
		t.Fatalf("no3's questionnaire: %+v", sv)
	}
	seen(no3.ID, "https://www.no3.example.cn", now.AddDate(0, 0, -1))
	if ro, err = svc.Rollout(ctx, "海淀区", now); err != nil {
		t.Fatal(err)
	}
	for _, r := range ro.Rows {
		if r.Code == "no3" && (r.WidgetOrigin != "https://www.no3.example.cn" || r.WidgetDay != now.AddDate(0, 0, -1).In(district.Zone).Format("2006-01-02")) {
			t.Fatalf("widget seen yesterday on no3's site: %q %q", r.WidgetOrigin, r.WidgetDay)
		}
	}
	ro.Sort("survey", true)
	if ro.Rows[0].Code != "no3" {
		t.Fatalf("sorted by questionnaire, highest first: %s first", ro.Rows[0].Code)
	}
	ro.Sort("school", true)
	if got := []string{ro.Rows[0].Code, ro.Rows[1].Code, ro.Rows[2].Code}; strings.Join(got, ",") != "no8,no5,no3" {
		t.Fatalf("sorted by school, descending: %v", got)
	}
	ro.SetAlerts(map[int64]bool{no3.ID: true})
	if got, want := ro.Summary(hotline.LangZH), "3 所学校中 0 所已全部开通"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	if got, want := ro.Summary(hotline.LangEN), "0 of 3 schools fully live"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	var b bytes.Buffer
	if err := ro.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "\ufeff学校代码,") || !strings.HasPrefix(lines[1], "school_code,") {
		t.Fatalf("CSV:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `'=HYPERLINK`) {
		t.Fatalf("a school name that is a formula is not neutralised:\n%s", b.String())
	}
	if _, err := svc.Rollout(ctx, "", now); err == nil {
		t.Fatal("a tracker without a district")
	}
}
