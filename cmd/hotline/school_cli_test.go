package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// TestHelpExampleRuns runs the help's sequence for a real school as it
// stands (with --data and a free --addr added): every step succeeds, the
// school can escalate, and the server answers.
func TestHelpExampleRuns(t *testing.T) {
	t.Parallel()
	code, help, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(help, realSchoolExample) {
		t.Fatalf("help does not show the example:\n%s", help)
	}
	dir := t.TempDir()
	var steps [][]string
	for _, line := range strings.Split(realSchoolExample, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "hotline" {
			t.Fatalf("not a command: %q", line)
		}
		steps = append(steps, f[1:])
	}
	for _, args := range steps[:len(steps)-1] {
		args = append(args, "--data", dir)
		if code, out, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errs)
		}
	}
	serve := append(steps[len(steps)-1], "--data", dir)
	if serve[0] != "serve" {
		t.Fatalf("the example ends with %v, want serve", serve)
	}
	base, stop := serveCLI(t, serve...)
	defer stop()
	m := MustOpenMain(t, withDataDir(dir))
	school, err := m.DB.SchoolByCode(context.Background(), "no3")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := m.Triage.DistrictReady(context.Background(), school); err != nil || !ok {
		t.Errorf("the example's school cannot escalate: %v %v", ok, err)
	}
	if code, _ := healthz(t, base); code != 200 {
		t.Errorf("the example's server: healthz %d", code)
	}
}

// TestSchoolAddRefusesUnknownDistrict: a school in a district that was
// never added is refused with the districts there are and the two ways
// on; --create-district --officer creates it (its recovery key printed);
// a school without a district is refused; set-district moves an old
// district-less school into one.
func TestSchoolAddRefusesUnknownDistrict(t *testing.T) {
	t.Parallel()
	dir := initData(t)
	if code, _, errs := runCLI(t, "district", "add", "--data", dir, "--name", "朝阳区", "--officer", "cy-officer"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区")
	if code != 1 || out != "" {
		t.Fatalf("unknown district: exit %d, printed %q", code, out)
	}
	for _, want := range []string{"no such district: 海淀区", "added: 朝阳区", "hotline district add --name 海淀区", "--create-district --officer"} {
		if !strings.Contains(errs, want) {
			t.Errorf("refusal %q lacks %q", errs, want)
		}
	}
	if code, _, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3"); code != 2 || !strings.Contains(errs, "--district are required") {
		t.Errorf("no district: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区", "--create-district"); code != 2 || !strings.Contains(errs, "--officer") {
		t.Errorf("--create-district without --officer: exit %d: %s", code, errs)
	}
	code, out, errs = runCLI(t, "school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区", "--create-district", "--officer", "hd-officer")
	if code != 0 || !strings.Contains(out, "district created: 海淀区") || !strings.Contains(out, "school created: 第三中学") {
		t.Fatalf("--create-district: exit %d\n%s\n%s", code, out, errs)
	}
	m := MustOpenMain(t, withDataDir(dir))
	ctx := context.Background()
	// A school made without a district before it was required (through
	// the service, as the old example did).
	if _, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "old", Name: "老学校"}); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if code, _, errs := runCLI(t, "school", "set-district", "--data", dir, "--code", "old", "--district", "西城区"); code != 1 || !strings.Contains(errs, "no such district: 西城区") {
		t.Errorf("set-district to an unknown district: %d %s", code, errs)
	}
	if code, out, errs := runCLI(t, "school", "set-district", "--data", dir, "--code", "old", "--district", "朝阳区"); code != 0 || !strings.Contains(out, "朝阳区") {
		t.Fatalf("set-district: %d %s %s", code, out, errs)
	}
	m = MustOpenMain(t, withDataDir(dir))
	old, err := m.DB.SchoolByCode(ctx, "old")
	if err != nil || old.District != "朝阳区" {
		t.Fatalf("after set-district: %+v %v", old, err)
	}
}

// TestCasePageWithoutDistrict: a severe case of a school with no district
// bureau says it cannot be escalated here instead of counting down to a
// report it cannot make.
func TestCasePageWithoutDistrict(t *testing.T) {
	t.Parallel()
	m := MustRunMain(t)
	ctx := context.Background()
	created, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "nod", Name: "无区学校"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := m.Staff.Authenticate(ctx, created.Admin.Username, created.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Staff.ChangePassword(ctx, sess, "a-new-password-2026"); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "nod", Channel: hotline.ChannelMailbox, Texts: []string{"有人每天在校门口打他。"}})
	if err != nil {
		t.Fatal(err)
	}
	u := newInboxUser(t, m.URL())
	u.login(created.Admin.Username, "a-new-password-2026")
	casePath := "/inbox/tips/" + sub.TipUID
	u.get(casePath)
	if p := u.post(casePath+"/severity", url.Values{"severity": {string(hotline.SeveritySevere)}}); p.status != 200 {
		t.Fatalf("severity: %d", p.status)
	}
	p := u.get(casePath)
	if !strings.Contains(p.body, `id="no-district"`) || !strings.Contains(p.body, "hotline school set-district") {
		t.Errorf("the case page of a school without a district does not say it cannot escalate")
	}
	if i := strings.Index(p.body, `id="must-escalate"`); i < 0 || strings.Contains(p.body[i:i+strings.Index(p.body[i:], "</p>")], "剩余") {
		t.Errorf("the must-escalate flag still counts down")
	}
}
