package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
)

// ovCLIClock is a settable clock shared with the database writer.
type ovCLIClock = testsupport.Clock

// openOvMain opens a data directory without serving, on a fake clock.
func openOvMain(tb testing.TB, dir string, clock hotline.Clock) *Main {
	tb.Helper()
	return MustOpenMain(tb, withDataDir(dir), withClock(clock))
}

// specTip is one case of the report test, and what the report must say.
type specTip struct {
	school   string
	at       time.Time
	channel  hotline.Channel
	category hotline.Category
	severity hotline.Severity
	status   hotline.Status
	steps    []hotline.Step
	urgent   bool
	ackAfter time.Duration // 0: never acknowledged
	escalate bool
}

func day(y, m, d, h int) time.Time { return time.Date(y, time.Month(m), d, h, 0, 0, 0, district.Zone) }

func reportSpec() []specTip {
	var spec []specTip
	// no3 in March: six physical tips, enough to show real numbers.
	for i := 0; i < 6; i++ {
		s := specTip{school: "no3", at: day(2026, 3, 2+i, 10), channel: hotline.ChannelMailbox, category: hotline.CategoryPhysical,
			severity: hotline.SeverityMinor, status: hotline.StatusAcknowledged, ackAfter: time.Duration(i+1) * time.Hour, steps: []hotline.Step{hotline.StepCounseling}}
		if i == 0 {
			s.status, s.ackAfter = hotline.StatusClosed, 30*time.Minute // spam: closed, still counted
		}
		if i == 1 {
			s.status = hotline.StatusResolved
			s.steps = append(s.steps, hotline.StepWarningTalk)
		}
		spec = append(spec, s)
	}
	spec = append(spec,
		specTip{school: "no3", at: day(2026, 3, 20, 8), channel: hotline.ChannelWebchat, category: hotline.CategoryCyber, severity: hotline.SeveritySevere,
			status: hotline.StatusInvestigating, steps: []hotline.Step{hotline.StepPoliceReferral}, urgent: true, ackAfter: 10 * time.Minute, escalate: true},
		specTip{school: "no3", at: day(2026, 4, 1, 9), channel: hotline.ChannelWebchat, category: hotline.CategoryVerbal, severity: hotline.SeverityUnassessed, status: hotline.StatusNew},
		specTip{school: "no5", at: day(2026, 3, 31, 23), channel: hotline.ChannelMailbox, category: hotline.CategoryExclusion, severity: hotline.SeveritySerious,
			status: hotline.StatusResolved, ackAfter: 5 * time.Hour, steps: []hotline.Step{hotline.StepWarningTalk, hotline.StepParentsInformed}},
	)
	return spec
}

// buildReportData creates two schools in two districts and the spec's cases.
func buildReportData(t *testing.T, dir string) {
	ctx := context.Background()
	clock := testsupport.NewClock(day(2026, 3, 1, 8))
	m := openOvMain(t, dir, clock)
	defer m.Close()
	sessions := map[string]*staff.Session{}
	for _, s := range []struct{ code, name, district string }{{"no3", "第三中学", "海淀区"}, {"no5", "第五中学", "朝阳区"}} {
		d, err := m.Staff.CreateDistrict(ctx, s.district, "officer-"+s.code)
		if err != nil {
			t.Fatal(err)
		}
		_ = d
		cs, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: s.code, Name: s.name, District: s.district, AdminUsername: "admin-" + s.code})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := m.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Wipe()
		sessions[s.code] = sess
	}
	for i, s := range reportSpec() {
		clock.Set(s.at.UTC())
		sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: s.school, Channel: s.channel, Role: hotline.ReporterWitness, Category: s.category,
			Lang: hotline.LangZH, Texts: []string{fmt.Sprintf("案例 %d 的内容", i)}, DangerNow: s.urgent})
		if err != nil {
			t.Fatal(err)
		}
		sess := sessions[s.school]
		actor := sess.Actor()
		if s.ackAfter > 0 {
			clock.Set(s.at.Add(s.ackAfter).UTC())
			if err := m.Triage.SetStatus(ctx, actor, sub.TipUID, hotline.StatusAcknowledged); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(s.at.Add(s.ackAfter + time.Hour).UTC())
		if s.severity != hotline.SeverityUnassessed {
			if err := m.Triage.SetSeverity(ctx, actor, sub.TipUID, s.severity); err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range s.steps {
			if err := m.Triage.RecordStep(ctx, actor, sub.TipUID, st, true); err != nil {
				t.Fatal(err)
			}
		}
		if s.escalate {
			if err := m.Triage.Escalate(ctx, sess, sub.TipUID); err != nil {
				t.Fatal(err)
			}
		}
		switch s.status {
		case hotline.StatusInvestigating, hotline.StatusResolved, hotline.StatusClosed:
			if s.status != hotline.StatusClosed {
				if err := m.Triage.SetStatus(ctx, actor, sub.TipUID, hotline.StatusInvestigating); err != nil {
					t.Fatal(err)
				}
			}
			if s.status != hotline.StatusInvestigating {
				clock.Set(s.at.Add(s.ackAfter + 48*time.Hour).UTC())
				if err := m.Triage.SetStatus(ctx, actor, sub.TipUID, s.status); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// expectedCell computes a report cell from the spec, independently of the
// report code.
func expectedCell(t *testing.T, key string, school, districtName, name, month string, tips []specTip) string {
	count := func(match func(specTip) bool) string {
		n := 0
		for _, s := range tips {
			if match(s) {
				n++
			}
		}
		return district.Suppress(n)
	}
	has := func(steps []hotline.Step, st hotline.Step) bool {
		for _, x := range steps {
			if x == st {
				return true
			}
		}
		return false
	}
	hours := func(ds []time.Duration) string {
		if len(ds) == 0 {
			return ""
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		n := len(ds)
		med := ds[n/2]
		if n%2 == 0 {
			med = (ds[n/2-1] + ds[n/2]) / 2
		}
		return fmt.Sprintf("%.1f", med.Hours())
	}
	switch {
	case key == "district":
		return districtName
	case key == "school_code":
		return school
	case key == "school":
		return name
	case key == "month":
		return month
	case key == "received":
		return count(func(specTip) bool { return true })
	case key == "urgent":
		return count(func(s specTip) bool { return s.urgent })
	case key == "escalated":
		return district.Exact(countN(tips, func(s specTip) bool { return s.escalate }))
	case key == "severity_unassessed":
		return district.Exact(countN(tips, func(s specTip) bool { return s.severity == hotline.SeverityUnassessed }))
	case strings.HasPrefix(key, "category_"):
		c := strings.TrimPrefix(key, "category_")
		return count(func(s specTip) bool { return string(s.category) == c || (c == "unassigned" && s.category == "") })
	case strings.HasPrefix(key, "severity_"):
		return count(func(s specTip) bool { return "severity_"+string(s.severity) == key })
	case strings.HasPrefix(key, "channel_"):
		return count(func(s specTip) bool { return "channel_"+string(s.channel) == key })
	case strings.HasPrefix(key, "status_"):
		return count(func(s specTip) bool { return "status_"+string(s.status) == key })
	case strings.HasPrefix(key, "step_"):
		st := hotline.Step(strings.TrimPrefix(key, "step_"))
		return count(func(s specTip) bool { return has(s.steps, st) || (st == hotline.StepDistrictReport && s.escalate) })
	case key == "median_ack_hours":
		var ds []time.Duration
		for _, s := range tips {
			if s.ackAfter > 0 {
				ds = append(ds, s.ackAfter)
			}
		}
		return hours(ds)
	case key == "median_reply_hours":
		return "" // nobody replied in the spec
	case key == "median_resolve_hours":
		var ds []time.Duration
		for _, s := range tips {
			if s.status == hotline.StatusResolved || s.status == hotline.StatusClosed {
				ds = append(ds, s.ackAfter+48*time.Hour)
			}
		}
		return hours(ds)
	}
	t.Fatalf("unknown column %q", key)
	return ""
}

// countN counts the spec's tips that match: the exact counts of a school's
// own record.
func countN(tips []specTip, match func(specTip) bool) int {
	n := 0
	for _, s := range tips {
		if match(s) {
			n++
		}
	}
	return n
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExportCSVMatchesCasesCellByCell(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	buildReportData(t, dir)
	names := map[string][2]string{"no3": {"海淀区", "第三中学"}, "no5": {"朝阳区", "第五中学"}}
	for _, tc := range []struct {
		name string
		args []string
		rows []string // school|month, in order
	}{
		{"all", nil, []string{"no5|2026-03", "no3|2026-03", "no3|2026-04"}},
		{"district", []string{"--district", "海淀区"}, []string{"no3|2026-03", "no3|2026-04"}},
		{"school and dates", []string{"--school", "NO3", "--from", "2026-03-03", "--to", "2026-03-31"}, []string{"no3|2026-03"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"export", "--data", dir, "--format", "csv"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("export exit %d: %s", code, errs)
			}
			if strings.Contains(out, "案例") {
				t.Fatal("the report holds content")
			}
			recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != len(tc.rows)+1 {
				t.Fatalf("got %d rows, want %d", len(recs)-1, len(tc.rows))
			}
			keys := make([]string, len(recs[0]))
			for i, h := range recs[0] {
				keys[i] = h[strings.LastIndex(h, " / ")+3:]
			}
			var from, to time.Time
			if tc.name == "school and dates" {
				from, to = day(2026, 3, 3, 0), day(2026, 4, 1, 0)
			}
			for r, want := range tc.rows {
				school, month, _ := strings.Cut(want, "|")
				var tips []specTip
				for _, s := range reportSpec() {
					if s.school == school && s.at.Format("2006-01") == month && (from.IsZero() || (!s.at.Before(from) && s.at.Before(to))) {
						tips = append(tips, s)
					}
				}
				for c, key := range keys {
					got := recs[r+1][c]
					if w := expectedCell(t, key, school, names[school][0], names[school][1], month, tips); got != w {
						t.Errorf("row %s column %s = %q, want %q", want, key, got, w)
					}
				}
			}
		})
	}
	if code, _, _ := runCLI(t, "export", "--data", dir, "--format", "xml"); code != 2 {
		t.Errorf("unknown format exit %d, want 2", code)
	}
	if code, _, errs := runCLI(t, "export", "--data", dir, "--school", "nosuch"); code != 1 || !strings.Contains(errs, "No school") {
		t.Errorf("unknown school exit %d: %s", code, errs)
	}
}

// copyDir copies a data directory (server key and database files).
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyDatabase(t, src, dst)
	return dst
}

func TestLedgerTamperingIsCaughtByTheCLI(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	ctx := context.Background()
	clock := testsupport.NewClock(day(2026, 3, 2, 9))
	m := openOvMain(t, base, clock)
	cs, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", AdminUsername: "admin3"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterVictim, Lang: hotline.LangZH, Texts: []string{"测试内容"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Triage.SetStatus(ctx, sess.Actor(), sub.TipUID, hotline.StatusAcknowledged); err != nil {
			t.Fatal(err)
		}
	}
	sess.Wipe()
	// The day's head, as the district saw it.
	if h, err := (&scheduler.Scheduler{DB: m.DB, Vault: m.Vault}).RecordDailyHead(ctx); err != nil || h == nil {
		t.Fatalf("head: %v %v", h, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "ledger", "verify", "--data", base)
	if code != 0 || !strings.Contains(out, "ledger OK: 7 events") {
		t.Fatalf("untouched ledger: exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "ledger", "export", "--data", base)
	if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(out, `"kind":"head_recorded"`) || strings.Contains(out, "测试内容") {
		t.Fatalf("export: exit %d: %s", code, out)
	}

	for _, tc := range []struct {
		name  string
		sql   []string
		where string
	}{
		{"edit", []string{`UPDATE ledger SET detail = 'from=new;to=closed' WHERE seq = 4`}, "event 4"},
		{"edit time", []string{`UPDATE ledger SET at = at + 1 WHERE seq = 2`}, "event 2"},
		{"delete", []string{`DELETE FROM ledger WHERE seq = 3`}, "event 3 is missing"},
		{"reorder", []string{`UPDATE ledger SET seq = -1 WHERE seq = 3`, `UPDATE ledger SET seq = 3 WHERE seq = 4`, `UPDATE ledger SET seq = 4 WHERE seq = -1`}, "event 3"},
		{"truncate", []string{`DELETE FROM ledger WHERE seq = (SELECT MAX(seq) FROM ledger)`}, "event 7"},
		{"truncate several", []string{`DELETE FROM ledger WHERE seq >= 5`}, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, base)
			db, err := store.Open(defaultDatabase(dir))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range tc.sql {
				if _, err := db.Writer().Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			code, out, errs := runCLI(t, "ledger", "verify", "--data", dir)
			if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, tc.where) {
				t.Fatalf("verify exit %d, want 1 naming %q:\n%s%s", code, tc.where, out, errs)
			}
		})
	}
}
