package inboxweb_test

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/evidence"
)

// TestEvidenceExportFromTheCase: the case page links the export; the form
// asks for a reason and a confirmation; the export downloads a bundle that
// checks, naming the counselor who exported it.
func TestEvidenceExportFromTheCase(t *testing.T) {
	ts := setupTwo(t)
	uid := ts.tipB.TipUID
	if r := ts.ub.get("/inbox/tips/" + uid); !strings.Contains(r.Body, `href="/inbox/tips/`+uid+`/evidence"`) {
		t.Fatal("the case page does not link the export")
	}
	r := ts.ub.get("/inbox/tips/" + uid + "/evidence")
	if r.Status != 200 || !strings.Contains(r.Body, "导出证据包") || !strings.Contains(r.Body, `name="reason"`) || !strings.Contains(r.Body, "报告公安机关") {
		t.Fatalf("form %d:\n%s", r.Status, r.Body)
	}
	for _, bad := range []url.Values{
		{"reason": {"police"}},                     // not confirmed
		{"reason": {"nonsense"}, "confirm": {"1"}}, // no such reason
		{"reason": {"other"}, "confirm": {"1"}},    // other needs a reference
	} {
		if r := ts.ub.post("/inbox/tips/"+uid+"/evidence", bad); r.Status != 400 || !strings.Contains(r.Body, `id="evidence-error"`) {
			t.Fatalf("%v: %d", bad, r.Status)
		}
	}
	r = ts.ub.post("/inbox/tips/"+uid+"/evidence", url.Values{"reason": {"hearing"}, "reference": {"复核 2026-3"}, "confirm": {"1"}})
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" || !strings.Contains(r.Header.Get("Content-Disposition"), "hotline-evidence-EV-") {
		t.Fatalf("export %d %v", r.Status, r.Header)
	}
	rep, err := evidence.Verify(bytes.NewReader([]byte(r.Body)), int64(len(r.Body)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Manifest.Case.ID != uid || rep.Manifest.Reason.Reference != "复核 2026-3" || rep.Manifest.ExportedBy.Username != ts.b.AdminUser {
		t.Fatalf("manifest %+v", rep.Manifest)
	}
	// The audit trail names it.
	if r := ts.ub.get("/inbox/admin/audit"); !strings.Contains(r.Body, rep.Manifest.Bundle) {
		t.Fatal("the audit trail does not show the export")
	}
}
