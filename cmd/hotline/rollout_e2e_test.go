package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestRolloutPagesShowNoContent extends the district's authorization
// tests to the rollout pages, the tracker's CSV and the hand-over pages:
// an officer reads there no word of any report, escalated or not; an
// officer of another district sees none of this district's schools and
// can change nothing of them; a form without its CSRF token is refused.
func TestRolloutPagesShowNoContent(t *testing.T) {
	t.Parallel()
	f := newDistrictFixture(t)
	c := f.login(t, "officer", districtPassword)
	csrf := func(c *http.Client) string {
		resp, err := c.Get(f.m.URL() + "/district/rollout")
		if err != nil {
			t.Fatal(err)
		}
		return between(readAll(t, resp), `name="csrf" value="`, `"`)
	}
	token := csrf(c)
	if token == "" {
		t.Fatal("no CSRF token on the rollout page")
	}
	canaries := []string{f.escalated, f.hidden, "报告内容", "第二份报告"}
	check := func(what string, status int, body string, wantStatus int) {
		t.Helper()
		if status != wantStatus {
			t.Errorf("%s: status %d, want %d", what, status, wantStatus)
		}
		for _, s := range canaries {
			if strings.Contains(body, s) {
				t.Errorf("%s shows report content %q", what, s)
			}
		}
	}
	get := func(c *http.Client, path string) (int, string) {
		resp, err := c.Get(f.m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	post := func(c *http.Client, path string, form url.Values) (int, string) {
		resp, err := c.PostForm(f.m.URL()+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	for _, p := range []string{"/district/rollout", "/district/rollout?sort=test&desc=1", "/district/rollout?sort=overdue", "/district/rollout.csv",
		"/district/rollout/no3", "/district/rollout/no7"} {
		status, body := get(c, p)
		check(p, status, body, 200)
	}
	status, body := get(c, "/district/rollout")
	if !strings.Contains(body, `id="row-no3"`) || !strings.Contains(body, `id="row-no7"`) || !strings.Contains(body, "2 所学校中 0 所已全部开通") {
		t.Fatalf("tracker %d without both schools or the summary:\n%s", status, body)
	}
	status, body = post(c, "/district/rollout/schools", url.Values{"csrf": {token}, "code": {"no9"}, "name": {"第九中学"}})
	check("add a school", status, body, 200)
	if !strings.Contains(body, "/inbox/handover/") {
		t.Fatal("adding a school shows no hand-over link")
	}
	status, body = post(c, "/district/rollout/no7/handover", url.Values{"csrf": {token}})
	check("a new hand-over of a running school", status, body, 200)
	if !strings.Contains(body, "/inbox/handover/") || !strings.Contains(body, "恢复密钥") {
		t.Fatal("a running school's new hand-over does not say it needs the recovery key")
	}
	if status, _ := post(c, "/district/rollout/schools", url.Values{"code": {"no10"}, "name": {"第十中学"}}); status != http.StatusForbidden {
		t.Errorf("adding a school without the CSRF token: %d, want 403", status)
	}

	// Another district's officer.
	ctx := context.Background()
	d, err := f.m.Staff.CreateDistrict(ctx, "朝阳区", "cy-officer")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.m.Staff.Authenticate(ctx, "cy-officer", d.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.Staff.ChangePassword(ctx, sess, districtPassword); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	other := f.login(t, "cy-officer", districtPassword)
	otherToken := csrf(other)
	status, body = get(other, "/district/rollout")
	check("another district's tracker", status, body, 200)
	if strings.Contains(body, "row-no3") || strings.Contains(body, "row-no9") {
		t.Fatal("another district's tracker lists this district's schools")
	}
	no3, err := f.m.DB.SchoolByCode(ctx, "no3")
	if err != nil {
		t.Fatal(err)
	}
	admins, err := f.m.DB.Counselors(ctx, no3.ID, "")
	if err != nil || len(admins) == 0 {
		t.Fatalf("no3's staff: %v", err)
	}
	for _, p := range []string{"/district/rollout/no3", "/district/rollout/no9"} {
		status, body := get(other, p)
		check("another district: "+p, status, body, 404)
	}
	for _, p := range []string{"/district/rollout/no3/handover", "/district/rollout/no9/handover", "/district/rollout/no3/admins/" + itoa64(admins[0].ID) + "/deactivate", "/district/rollout/no9/withdraw"} {
		status, body := post(other, p, url.Values{"csrf": {otherToken}})
		check("another district: POST "+p, status, body, 404)
	}
	if status, _ := post(other, "/district/rollout/schools", url.Values{"csrf": {otherToken}, "code": {"no9"}, "name": {"抢注"}}); status != http.StatusConflict {
		t.Errorf("another district taking a pending school's code: %d, want 409", status)
	}
	if rec, err := f.m.DB.CounselorByID(ctx, admins[0].ID); err != nil || !rec.Active {
		t.Fatalf("no3's admin after another district's attempts: %+v %v", rec, err)
	}
	// The district itself withdraws its school not yet open; it leaves the
	// tracker.
	if status, body := get(c, "/district/rollout/no9"); status != 200 || !strings.Contains(body, `id="withdraw"`) {
		t.Fatalf("no9's page offers no withdrawal: %d", status)
	}
	if status, body := post(c, "/district/rollout/no9/withdraw", url.Values{"csrf": {token}}); status != 200 || strings.Contains(body, `id="row-no9"`) {
		t.Fatalf("withdrawn no9: %d, still in the tracker: %v", status, strings.Contains(body, `id="row-no9"`))
	}
	if status, body := get(c, "/district/rollout/no3"); status != 200 || strings.Contains(body, `id="withdraw"`) {
		t.Fatalf("an open school offers a withdrawal: %d", status)
	}
}
