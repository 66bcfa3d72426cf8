package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
