package main

import (
	"net/http"
	"testing"
)

// The security headers each area of pages carried before the staff pages
// shared internal/web, written out here so that a change to the shared
// code that loosens one fails this test. What an area gained with
// web.SetHeaders is marked "gained".
var (
	staffScriptCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	surveyStaffCSP = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	pupilCSP       = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

	inboxHeaders = map[string]string{
		"Content-Security-Policy":    staffScriptCSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
		"Cache-Control":              "no-store",
	}
	districtHeaders = map[string]string{
		"Content-Security-Policy":    staffScriptCSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin", // gained
		"Cache-Control":              "no-store",
	}
	surveyStaffHeaders = map[string]string{
		"Content-Security-Policy":    surveyStaffCSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin", // gained
		"Cache-Control":              "no-store",
	}
	pupilHeaders = map[string]string{
		"Content-Security-Policy":    pupilCSP,
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin", // gained
		"Cache-Control":              "no-store",
	}
)

// withHeader is h with one header changed ("" deletes it).
func withHeader(h map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for hk, hv := range h {
		out[hk] = hv
	}
	if v == "" {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// TestSecurityHeadersInboxDistrictSurvey: every area of staff pages (the
// inbox, the district's pages, the survey pages of both) and the pupils'
// questionnaire keeps each security header it had, on pages, error pages
// and static files, logged in or not. A page may gain a header; none may
// lose one or have it loosened.
func TestSecurityHeadersInboxDistrictSurvey(t *testing.T) {
	t.Parallel()
	m, school, officer := demoStaff(t)
	anon := newInboxUser(t, m.URL())
	noRedirect := func(u *inboxUser) *http.Client {
		c := *u.c
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &c
	}
	for _, tc := range []struct {
		name   string
		as     *inboxUser
		path   string
		status int
		want   map[string]string
	}{
		{"inbox log-in", anon, "/inbox/login", 200, inboxHeaders},
		{"inbox queue, logged out", anon, "/inbox/", 303, inboxHeaders},
		{"inbox queue", school, "/inbox/", 200, inboxHeaders},
		{"inbox statistics", school, "/inbox/stats", 200, inboxHeaders},
		{"inbox not found", school, "/inbox/nowhere", 404, inboxHeaders},
		{"inbox static", anon, "/inbox/static/inbox.css", 200, withHeader(inboxHeaders, "Cache-Control", "public, max-age=300")},
		{"district overview", officer, "/district/", 200, districtHeaders},
		{"district school", officer, "/district/schools/" + demoSchool, 200, districtHeaders},
		{"district settings", officer, "/district/settings", 200, districtHeaders},
		{"district not found", officer, "/district/nowhere", 404, districtHeaders},
		{"district to school staff", school, "/district/", 403, districtHeaders},
		{"district logged out", anon, "/district/", 303, districtHeaders},
		// Static files hold no content: cached briefly, as the inbox's were.
		{"district static", anon, "/district/static/district.css", 200, withHeader(districtHeaders, "Cache-Control", "public, max-age=300")},
		{"school surveys", school, "/inbox/surveys/", 200, surveyStaffHeaders},
		{"district surveys", officer, "/district/surveys/", 200, surveyStaffHeaders},
		{"surveys not found", school, "/inbox/surveys/nowhere/results", 404, surveyStaffHeaders},
		{"pupils' entry", anon, "/q/", 200, pupilHeaders},
		{"pupils' malformed code", anon, "/q/ABCD-EFGH", 400, pupilHeaders},
		{"pupils' static", anon, "/q/static/survey.css", 200, withHeader(pupilHeaders, "Cache-Control", "public, max-age=300")}, // none before
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := noRedirect(tc.as).Get(m.URL() + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			for k, want := range tc.want {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
		})
	}
}
