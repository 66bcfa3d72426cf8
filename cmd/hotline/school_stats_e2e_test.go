package main

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// figure reads the text of the element with id in a page.
func figure(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no #%s in the page", id)
	}
	return m[1]
}

// demoStaff runs Main with the demo's school and district, and logs in
// the demo's counselor (at /inbox/) and district officer (at /district/).
func demoStaff(t *testing.T) (m *Main, school, officer *inboxUser) {
	t.Helper()
	m = MustRunMain(t)
	if err := seedDemo(context.Background(), m, io.Discard); err != nil {
		t.Fatal(err)
	}
	school = newInboxUser(t, m.URL())
	school.login(demoUser, demoPassword)
	officer = newInboxUser(t, m.URL())
	officer.get("/inbox/login")
	if p := officer.post("/inbox/login", url.Values{"username": {demoOfficer}, "password": {demoPassword}}); p.path != "/district/" {
		t.Fatalf("officer log-in at %s", p.path)
	}
	return m, school, officer
}

// TestSchoolStatsMatchTheDistricts: the school's own statistics page and
// CSV show the same figures as the district's page and report of that
// school, for the demo's cases.
func TestSchoolStatsMatchTheDistricts(t *testing.T) {
	t.Parallel()
	_, school, officer := demoStaff(t)

	sp := school.get("/inbox/stats")
	dp := officer.get("/district/schools/" + demoSchool)
	if sp.status != 200 || dp.status != 200 {
		t.Fatalf("stats pages: school %d, district %d", sp.status, dp.status)
	}
	// The exact figures the district shows (the school's own record).
	for _, ids := range [][2]string{{"st-overdue", "school-overdue"}, {"st-missed", "school-missed"}, {"st-unassessed", "school-unassessed"}, {"st-escalated", "school-escalated"}} {
		if s, d := figure(t, sp.body, ids[0]), figure(t, dp.body, ids[1]); s != d {
			t.Errorf("%s: school sees %s, district %s", ids[0], s, d)
		}
	}
	if figure(t, sp.body, "st-received") == "0" {
		t.Fatal("the demo school shows no reports")
	}
	// Charts: the same SVG drawing as the district's.
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`)
	sc, dc := svgs.FindAllString(sp.body, -1), svgs.FindAllString(dp.body, -1)
	if len(sc) != 4 || len(dc) != 4 {
		t.Fatalf("charts: school %d, district %d, want 4 each", len(sc), len(dc))
	}
	for i := range sc {
		if sc[i] != dc[i] {
			t.Errorf("chart %d differs between the school's page and the district's", i)
		}
	}
	// The CSV: byte for byte the district's report of this school.
	q := "from=2020-01-01&to=2099-12-31"
	scsv := school.get("/inbox/stats.csv?" + q)
	dcsv := officer.get("/district/report.csv?school=" + demoSchool + "&" + q)
	if scsv.status != 200 || dcsv.status != 200 || scsv.body != dcsv.body || strings.Count(scsv.body, "\n") < 2 {
		t.Fatalf("CSV: school %d (%d bytes), district %d (%d bytes), equal %v", scsv.status, len(scsv.body), dcsv.status, len(dcsv.body), scsv.body == dcsv.body)
	}
	if p := school.get("/inbox/stats.csv?from=yesterday"); p.status != 400 {
		t.Errorf("a bad date: %d", p.status)
	}
	// The school's download is in its audit trail, under its admin.
	if p := school.get("/inbox/admin/audit?kind=export"); !strings.Contains(p.body, `class="k-export"`) || !strings.Contains(p.body, demoUser) || !strings.Contains(p.body, "school="+demoSchool+" 2020-01-01..2099-12-31") {
		t.Errorf("the school's CSV download is not in its audit trail")
	}
}
