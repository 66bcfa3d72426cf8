package main

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestDistrictAuditPage: a district officer logs in, opens the escalated
// demo case and downloads the summary report; the district's audit page
// lists all three, and the school's admin sees the district's view of
// their case on the school's audit page.
func TestDistrictAuditPage(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	ctx := context.Background()
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		t.Fatal(err)
	}
	admin, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	tips, _, err := m.Triage.Queue(ctx, admin.Actor(), hotline.TipFilter{Escalated: true})
	admin.Wipe()
	if err != nil || len(tips) == 0 {
		t.Fatalf("no escalated demo case: %v", err)
	}
	officer := newInboxUser(t, m.URL())
	officer.get("/inbox/login")
	if p := officer.post("/inbox/login", url.Values{"username": {demoOfficer}, "password": {demoPassword}}); p.path != "/district/" {
		t.Fatalf("officer log-in at %s", p.path)
	}
	if p := officer.get("/district/tips/" + tips[0].UID); p.status != 200 {
		t.Fatalf("district case page: %d", p.status)
	}
	if p := officer.get("/district/report.csv?school=" + demoSchool); p.status != 200 {
		t.Fatalf("report: %d", p.status)
	}
	p := officer.get("/district/audit")
	if p.status != 200 {
		t.Fatalf("audit page: %d", p.status)
	}
	for _, want := range []string{`class="k-login"`, `class="k-case_opened"`, `class="k-export"`, "summary.csv", "school=" + demoSchool, tips[0].Alias.ZH} {
		if !strings.Contains(p.body, want) {
			t.Errorf("district audit page lacks %q", want)
		}
	}
	if p := officer.get("/district/audit?kind=bogus"); p.status != 400 {
		t.Errorf("a bogus kind: %d", p.status)
	}

	school := newInboxUser(t, m.URL())
	school.login(demoUser, demoPassword)
	sp := school.get("/inbox/admin/audit?kind=case_opened")
	if sp.status != 200 || !strings.Contains(sp.body, demoOfficer) {
		t.Fatalf("the school's audit page does not show the district's view of its case: %d", sp.status)
	}
}

// TestExportIsAudited: the command line's export is in the district's
// audit trail, with what it covered.
func TestExportIsAudited(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	if code, _, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区", "--create-district", "--officer", "hd-officer"); code != 0 {
		t.Fatalf("school add: %s", errs)
	}
	if code, _, errs := runCLI(t, "export", "--data", dir, "--school", "no3", "--from", "2026-03-01", "--to", "2026-03-31"); code != 0 {
		t.Fatalf("export: %s", errs)
	}
	m, err := openData(dir, &Env{Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	es, err := m.DB.Audit(context.Background(), store.AuditFilter{District: "海淀区"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Kind != hotline.AuditExport || es[0].Client != "cli" || es[0].SchoolName != "第三中学" ||
		!strings.Contains(es[0].Detail, "school=no3 2026-03-01..2026-03-31") {
		t.Fatalf("audit after an export: %+v", es)
	}
}
