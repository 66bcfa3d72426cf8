package inboxweb_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// TestHandoverPage: the hand-over link's page, as its admin and as a
// stranger use it. A wrong link says what to do; the form needs its CSRF
// token; a typo in the second password, or a taken username, loses
// nothing and leaves the link working; the accepted link logs the admin
// in, shows the recovery key this once, and is spent.
func TestHandoverPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cd, err := e.st.CreateDistrict(ctx, "海淀区", "hd-officer")
	if err != nil {
		t.Fatal(err)
	}
	officer, err := e.st.Authenticate(ctx, "hd-officer", cd.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer officer.Wipe()
	sh, err := e.st.AddSchool(ctx, officer, "no9", "第九中学", "No. 9 Middle School")
	if err != nil {
		t.Fatal(err)
	}
	path := sh.Path()

	u := e.browser()
	if r := u.get("/inbox/handover/not-a-real-token"); r.Status != 404 || !strings.Contains(r.Body, "交接链接无效") {
		t.Fatalf("a wrong link: %d %s", r.Status, excerpt(r.Body))
	}
	r := u.get(path)
	if r.Status != 200 || !strings.Contains(r.Body, "第九中学") || !strings.Contains(r.Body, "海淀区") || strings.Contains(r.Body, `name="recovery"`) {
		t.Fatalf("the link's form: %d %s", r.Status, excerpt(r.Body))
	}
	if r := u.post(path, url.Values{"csrf": {"forged"}, "username": {"li"}, "new": {"long enough pw 1"}, "again": {"long enough pw 1"}}); r.Status != 403 {
		t.Fatalf("without the CSRF token: %d", r.Status)
	}
	if r := u.post(path, url.Values{"username": {"li"}, "new": {"long enough pw 1"}, "again": {"long enough pw 2"}}); r.Status != 400 || !strings.Contains(r.Body, `value="li"`) {
		t.Fatalf("passwords differ: %d %s", r.Status, excerpt(r.Body))
	}
	if r := u.post(path, url.Values{"username": {"hd-officer"}, "new": {"long enough pw 1"}, "again": {"long enough pw 1"}}); r.Status != 409 {
		t.Fatalf("a taken username: %d %s", r.Status, excerpt(r.Body))
	}
	if _, err := e.db.SchoolByCode(ctx, "no9"); err != hotline.ErrSchoolNotOpen {
		t.Fatalf("a failed acceptance made the school: %v", err)
	}
	r = u.post(path, url.Values{"username": {"li"}, "new": {"long enough pw 1"}, "again": {"long enough pw 1"}})
	if r.Status != 200 || !strings.Contains(r.Body, `id="recovery-key"`) {
		t.Fatalf("accepted: %d %s", r.Status, excerpt(r.Body))
	}
	key := between(r.Body, `<code id="recovery-key">`, `</code>`)
	if _, err := e.db.SchoolByCode(ctx, "no9"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.AcceptHandover(ctx, sh.Token, "x", "whatever long", ""); err != staff.ErrHandoverInvalid {
		t.Fatalf("the spent link again: %v", err)
	}
	// Logged in: the stage machinery asks for the second factor first.
	if r := u.get("/inbox/"); r.URL != "/inbox/account" {
		t.Fatalf("after the hand-over the admin is at %s, want the second factor's enrolment", r.URL)
	}
	if r := u.get(path); r.Status != 404 || strings.Contains(r.Body, key) {
		t.Fatalf("the spent link: %d", r.Status)
	}
	// Nothing the server keeps holds the key or the link.
	var details []string
	if err := e.db.Reader().Select(&details, `SELECT detail FROM audit UNION ALL SELECT detail FROM ledger`); err != nil {
		t.Fatal(err)
	}
	for _, d := range details {
		if strings.Contains(d, key) || strings.Contains(d, sh.Token) {
			t.Fatalf("audit or ledger detail %q holds a secret", d)
		}
	}
	var hashes [][]byte
	if err := e.db.Reader().Select(&hashes, `SELECT token_hash FROM school_handovers`); err != nil || len(hashes) != 1 || strings.Contains(string(hashes[0]), sh.Token) {
		t.Fatalf("stored hand-over: %v %v", hashes, err)
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return s
}
