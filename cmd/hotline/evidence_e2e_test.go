package main

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hotline/internal/ledger"
	"hotline/internal/staff"
)

// TestDistrictEvidenceBundle: a district officer exports an escalated case
// from its page and `hotline ledger verify-bundle` checks the file offline
// (with the head from the district's page); the officer gets "not found"
// for a case not escalated, and nothing is written for it.
func TestDistrictEvidenceBundle(t *testing.T) {
	t.Parallel()
	f := newDistrictFixture(t)
	c := f.login(t, "officer", districtPassword)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(f.m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		_, page := get("/district/")
		form.Set("csrf", between(page, `name="csrf" value="`, `"`))
		resp, err := c.PostForm(f.m.URL()+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if code, body := get("/district/tips/" + f.escUID); code != 200 || !strings.Contains(body, "/district/tips/"+f.escUID+"/evidence") {
		t.Fatalf("case page %d lacks the export link", code)
	}
	if code, body := get("/district/tips/" + f.escUID + "/evidence"); code != 200 || !strings.Contains(body, `name="reason"`) {
		t.Fatalf("form %d", code)
	}
	last := func() int64 {
		n, err := f.m.DB.LastEventSeq(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Not escalated: not found, for the form and the export, and nothing
	// recorded.
	before := last()
	if code, body := get("/district/tips/" + f.hiddenUID + "/evidence"); code != 404 || strings.Contains(body, f.hidden) {
		t.Fatalf("form of a case not escalated: %d", code)
	}
	resp := post("/district/tips/"+f.hiddenUID+"/evidence", url.Values{"reason": {"district"}, "confirm": {"1"}})
	if body := readAll(t, resp); resp.StatusCode != 404 || strings.Contains(body, f.hidden) || last() != before {
		t.Fatalf("export of a case not escalated: %d", resp.StatusCode)
	}
	resp = post("/district/tips/"+f.escUID+"/evidence", url.Values{"reason": {"police"}, "reference": {"海公调字 2026-8"}, "confirm": {"1"}})
	body := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d\n%s", resp.StatusCode, body)
	}
	file := filepath.Join(t.TempDir(), "bundle.zip")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := tailCLI(t, "ledger", "verify-bundle", file)
	if code != 0 || !strings.Contains(out, "evidence bundle OK") || !strings.Contains(out, "海公调字 2026-8") {
		t.Fatalf("verify-bundle: exit %d\n%s%s", code, out, errs)
	}
	head := between(out, "--head ", "\n")
	if code, out, _ := tailCLI(t, "ledger", "verify-bundle", file, "--head", head); code != 0 || !strings.Contains(out, "the head held outside matches") {
		t.Fatalf("with its head: exit %d\n%s", code, out)
	}
	// A byte of the thread changed: the check fails, and says where.
	b := []byte(body)
	b[len(b)/3] ^= 0x20
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, b, 0o600)
	if code, out, _ := tailCLI(t, "ledger", "verify-bundle", bad); code != 1 || !strings.Contains(out, "FAILED") {
		t.Fatalf("changed bundle: exit %d\n%s", code, out)
	}
	if code, _, _ := tailCLI(t, "ledger", "verify-bundle"); code != 2 {
		t.Fatalf("no file: exit %d", code)
	}
	// The school sees the officer's export in its audit trail, and the
	// ledger's full walk still holds.
	if res, err := f.m.DB.VerifyLedgerTail(t.Context()); err != nil || !res.OK() {
		t.Fatalf("ledger after the export: %+v %v", res, err)
	}
}

// TestDistrictRoutesByRole: the routes of the evidence bundle, the ledger's
// heads and the platform, for each kind of person: a district officer, an
// admin of another school of the same district, nobody logged in. Nothing
// of a case reaches anyone it is not for, and no refused request records
// an export.
func TestDistrictRoutesByRole(t *testing.T) {
	t.Parallel()
	f := newDistrictFixture(t)
	ctx := t.Context()
	cs, err := f.m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no9", Name: "第九中学", District: "海淀区", AdminUsername: "admin-no9"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.m.Staff.Authenticate(ctx, cs.Admin.Username, cs.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.Staff.ChangePassword(ctx, sess, districtPassword); err != nil {
		t.Fatal(err)
	}
	sess.Wipe()
	heads, err := f.m.DB.LedgerHeads(ctx)
	if err != nil || len(heads) == 0 {
		t.Fatalf("no daily head: %v", err)
	}
	day := heads[len(heads)-1].Day
	clients := map[string]*http.Client{
		"officer": f.login(t, "officer", districtPassword),
		"admin":   f.login(t, "admin-no9", districtPassword),
		"nobody":  {Jar: nil, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	csrf := func(c *http.Client, page string) string {
		resp, err := c.Get(f.m.URL() + page)
		if err != nil {
			t.Fatal(err)
		}
		return between(readAll(t, resp), `name="csrf" value="`, `"`)
	}
	before, _ := f.m.DB.LastEventSeq(ctx)
	export := url.Values{"reason": {"police"}, "confirm": {"1"}}
	for _, tc := range []struct {
		who, method, path string
		form              url.Values
		want              int // 0: anything but the page asked for
	}{
		{"officer", "GET", "/district/tips/" + f.hiddenUID + "/evidence", nil, 404},
		{"officer", "POST", "/district/tips/" + f.hiddenUID + "/evidence", export, 404},
		{"officer", "GET", "/inbox/tips/" + f.escUID + "/evidence", nil, 0},
		{"officer", "POST", "/inbox/tips/" + f.escUID + "/evidence", export, 0},
		{"officer", "GET", "/district/ledger/heads/1999-01-01", nil, 404},
		{"admin", "GET", "/district/tips/" + f.escUID + "/evidence", nil, 403},
		{"admin", "POST", "/district/tips/" + f.escUID + "/evidence", export, 403},
		{"admin", "GET", "/inbox/tips/" + f.escUID + "/evidence", nil, 404},
		{"admin", "POST", "/inbox/tips/" + f.escUID + "/evidence", export, 404},
		{"admin", "GET", "/district/ledger/heads", nil, 403},
		{"admin", "GET", "/district/ledger/heads/" + day, nil, 403},
		{"admin", "POST", "/district/platform/endpoints", url.Values{"url": {"https://x.example.cn/h"}}, 403},
		{"admin", "POST", "/district/platform/tokens", url.Values{"label": {"x"}}, 403},
		{"nobody", "GET", "/district/tips/" + f.escUID + "/evidence", nil, 0},
		{"nobody", "POST", "/district/tips/" + f.escUID + "/evidence", export, 0},
		{"nobody", "GET", "/district/ledger/heads", nil, 0},
		{"nobody", "GET", "/api/district/v1/stats", nil, 401},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			c := clients[tc.who]
			var resp *http.Response
			var err error
			if tc.method == "GET" {
				resp, err = c.Get(f.m.URL() + tc.path)
			} else {
				form := url.Values{}
				for k, v := range tc.form {
					form[k] = v
				}
				if tc.who != "nobody" {
					home := "/district/settings"
					if tc.who == "admin" {
						home = "/inbox/"
					}
					form.Set("csrf", csrf(c, home))
				}
				resp, err = c.PostForm(f.m.URL()+tc.path, form)
			}
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			// want 0: sent elsewhere (the log-in, the officer's own pages),
			// never to the form.
			if tc.want != 0 && resp.StatusCode != tc.want || tc.want == 0 && strings.Contains(body, `id="evidence-form"`) {
				t.Fatalf("got %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("Content-Type") == "application/zip" || strings.Contains(body, f.escalated) || strings.Contains(body, f.hidden) {
				t.Fatal("the answer carries a case")
			}
		})
	}
	if after, _ := f.m.DB.LastEventSeq(ctx); after != before {
		t.Fatalf("refused requests wrote %d ledger events", after-before)
	}
	// The officer's own pages answer, and none of them — nor the
	// statistics endpoint with the district's token, nor the bundle of the
	// escalated case, PDF text included — carries the words of a case the
	// school did not escalate.
	officer := clients["officer"]
	for _, path := range []string{"/district/", "/district/audit", "/district/report.csv", "/district/ledger/heads", "/district/ledger/heads/" + day,
		"/district/settings", "/district/tips/" + f.escUID, "/district/tips/" + f.escUID + "/evidence"} {
		resp, err := officer.Get(f.m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || path == "/district/ledger/heads/"+day && !strings.Contains(body, ledger.Short(heads[len(heads)-1].Hash)) {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, f.hidden) {
			t.Fatalf("%s shows a case not escalated", path)
		}
	}
	officerSess, err := f.m.Staff.Authenticate(ctx, "officer", districtPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer officerSess.Wipe()
	token, err := f.m.Platform.CreateToken(ctx, officerSess, "平安校园平台")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", f.m.URL()+"/api/district/v1/stats", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 || strings.Contains(body, f.hidden) || strings.Contains(body, f.escalated) {
		t.Fatalf("statistics: %d, or they carry a case's words", resp.StatusCode)
	}
	form := url.Values{"reason": {"district"}, "confirm": {"1"}, "notes": {"1"}, "csrf": {csrf(officer, "/district/settings")}}
	resp, err = officer.PostForm(f.m.URL()+"/district/tips/"+f.escUID+"/evidence", form)
	if err != nil {
		t.Fatal(err)
	}
	bundle := []byte(readAll(t, resp))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export of the escalated case: %d", resp.StatusCode)
	}
	zr, err := zip.NewReader(bytes.NewReader(bundle), int64(len(bundle)))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if zf.Name == "case.pdf" {
			b = pdfText(t, b)
		}
		text.Write(b)
	}
	if !strings.Contains(text.String(), f.escalated) {
		t.Fatal("the escalated case's bundle lacks its own thread: the scan below would prove nothing")
	}
	if strings.Contains(text.String(), f.hidden) {
		t.Fatal("the escalated case's bundle carries a case not escalated")
	}
}

// pdfText is a PDF's text by pdftotext (Debian's poppler-utils): the
// bundle's PDF compresses its text, so a byte scan of it finds nothing.
func pdfText(t *testing.T, pdf []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext missing (Debian's poppler-utils)")
		}
		t.Skip("pdftotext missing (Debian's poppler-utils)")
	}
	file := filepath.Join(t.TempDir(), "case.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	// Lines wrap inside the words scanned for.
	return []byte(strings.Join(strings.Fields(string(out)), ""))
}
