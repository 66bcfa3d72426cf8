package inboxweb_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

const androidChrome = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"

// auditOf reads a school's audit trail, oldest first.
func auditOf(t *testing.T, e *env, schoolID int64) []*hotline.AuditEntry {
	t.Helper()
	es, err := e.db.Audit(context.Background(), store.AuditFilter{SchoolID: schoolID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

func countKind(es []*hotline.AuditEntry, k hotline.AuditKind, counselorID int64) int {
	n := 0
	for _, e := range es {
		if e.Kind == k && (counselorID == 0 || e.CounselorID == counselorID) {
			n++
		}
	}
	return n
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := e.school("s1"), e.school("s2")
	admin, err := e.db.CounselorByUsername(ctx, a.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	tip := e.tip("s1", "有人在宿舍偷我的东西")

	// A failed log-in (an existing account, a wrong password) and one to
	// an account that does not exist.
	u := e.browser()
	u.ua = androidChrome
	u.get("/inbox/login")
	if r := u.post("/inbox/login", url.Values{"username": {a.AdminUser}, "password": {"wrong-password-1"}}); r.Status != 401 {
		t.Fatalf("wrong password: %d", r.Status)
	}
	u.post("/inbox/login", url.Values{"username": {"nobody-here"}, "password": {"wrong-password-1"}})
	// A complete log-in with the one-time password, then the forced change.
	r := u.post("/inbox/login", url.Values{"username": {a.AdminUser}, "password": {a.AdminPassword}})
	if r.URL != "/inbox/password" {
		t.Fatalf("log-in at %s", r.URL)
	}
	u.post("/inbox/password", url.Values{"new": {newPW}, "again": {newPW}})

	// The case is opened three times in a few minutes: recorded once;
	// again after AuditOpenedEvery: recorded again. The live fragment is
	// not a view.
	for range 3 {
		u.get("/inbox/tips/" + tip.TipUID)
		u.get("/inbox/tips/" + tip.TipUID + "/thread")
		e.clock.Add(time.Minute)
	}
	e.clock.Add(hotline.AuditOpenedEvery)
	u.get("/inbox/tips/" + tip.TipUID)

	es := auditOf(t, e, a.School.ID)
	for _, c := range []struct {
		kind hotline.AuditKind
		want int
	}{{hotline.AuditLoginFailed, 1}, {hotline.AuditLogin, 1}, {hotline.AuditPasswordChanged, 1}, {hotline.AuditCaseOpened, 2}} {
		if got := countKind(es, c.kind, admin.ID); got != c.want {
			t.Errorf("%s entries: got %d, want %d", c.kind, got, c.want)
		}
	}
	for _, x := range es {
		if x.Client != "Chrome/Android" {
			t.Errorf("%s: client %q, want Chrome/Android", x.Kind, x.Client)
		}
		if x.District != "海淀区" {
			t.Errorf("%s: district %q", x.Kind, x.District)
		}
		if x.Kind == hotline.AuditCaseOpened && (x.Alias.ZH == "" || x.TipID == 0) {
			t.Errorf("case view without its case: %+v", x)
		}
	}

	// Second factor: a wrong code is recorded, the right one completes
	// the log-in.
	page := u.get("/inbox/account")
	sm := regexp.MustCompile(`<code class="secret-text">([A-Z2-7]+)</code>`).FindStringSubmatch(page.Body)
	code := func() string {
		c, err := totp.GenerateCodeCustom(sm[1], e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	u.post("/inbox/account/totp", url.Values{"code": {code()}})
	u.post("/inbox/logout", nil)
	u.get("/inbox/login")
	u.post("/inbox/login", url.Values{"username": {a.AdminUser}, "password": {newPW}})
	if r := u.post("/inbox/totp", url.Values{"code": {"000000"}}); r.Status != 401 {
		t.Fatalf("wrong code: %d", r.Status)
	}
	e.clock.Add(time.Minute)
	if r := u.post("/inbox/totp", url.Values{"code": {code()}}); r.URL != "/inbox/" {
		t.Fatalf("right code: at %s", r.URL)
	}
	es = auditOf(t, e, a.School.ID)
	if got := countKind(es, hotline.AuditTOTPFailed, admin.ID); got != 1 {
		t.Errorf("totp_failed entries: %d, want 1", got)
	}
	if got := countKind(es, hotline.AuditLogin, admin.ID); got != 2 {
		t.Errorf("login entries after the second factor: %d, want 2", got)
	}

	// Key recovery: a wrong key, then the right one.
	anon := e.browser()
	anon.get("/inbox/recover")
	anon.post("/inbox/recover", url.Values{"school": {"s2"}, "key": {"wrong"}, "admin": {"s2-new"}})
	cs, err := e.st.CreateSchool(ctx, struct2school("s3"))
	if err != nil {
		t.Fatal(err)
	}
	rr := anon.post("/inbox/recover", url.Values{"school": {"s3"}, "key": {cs.RecoveryKey}, "admin": {"s3-new"}})
	if rm := regexp.MustCompile(`<code id="otp">([^<]+)</code>`).FindStringSubmatch(rr.Body); rm == nil {
		t.Fatalf("recover: %d", rr.Status)
	} else {
		e.login("s3-new", html.UnescapeString(rm[1]), newPW)
	}
	if got := countKind(auditOf(t, e, b.School.ID), hotline.AuditRecoveryFailed, 0); got != 1 {
		t.Errorf("recovery_failed entries of s2: %d, want 1", got)
	}
	es3 := auditOf(t, e, cs.School.ID)
	if countKind(es3, hotline.AuditRecovery, 0) != 1 || es3[0].Kind != hotline.AuditRecovery || es3[0].Username != "s3-new" {
		t.Errorf("recovery entry of s3: %+v", es3)
	}

	// The admin's page shows the school's entries in words, and nothing
	// of another school; a counselor may not see it.
	ap := u.get("/inbox/admin/audit")
	if ap.Status != 200 || !strings.Contains(ap.Body, "登录失败（密码错误）") || !strings.Contains(ap.Body, "查看案件") || !strings.Contains(ap.Body, "Chrome/Android") {
		t.Fatalf("audit page: %d %s", ap.Status, excerpt(ap.Body))
	}
	if strings.Contains(ap.Body, "s3-new") || strings.Contains(ap.Body, `class="k-recovery_failed"`) {
		t.Fatal("the audit page shows another school's entries")
	}
	pw := e.counselor(a, "li", hotline.RoleCounselor)
	uc := e.login("li", pw, newPW)
	if r := uc.get("/inbox/admin/audit"); r.Status != 403 && r.Status != 404 {
		t.Fatalf("a counselor's audit page: %d", r.Status)
	}

	// Guesses from a browser the account does not know lock its counter;
	// each refused attempt is recorded as such, each wrong one as failed.
	before := auditOf(t, e, a.School.ID)
	g := e.browser()
	g.get("/inbox/login")
	for range 4 {
		g.post("/inbox/login", url.Values{"username": {a.AdminUser}, "password": {"guess-guess-guess"}})
	}
	after := auditOf(t, e, a.School.ID)
	failed := countKind(after, hotline.AuditLoginFailed, admin.ID) - countKind(before, hotline.AuditLoginFailed, admin.ID)
	throttled := countKind(after, hotline.AuditLoginThrottled, admin.ID) - countKind(before, hotline.AuditLoginThrottled, admin.ID)
	if throttled < 1 || failed+throttled != 4 {
		t.Errorf("4 guesses recorded as %d failed and %d throttled", failed, throttled)
	}

	// Nothing in the table holds an address, a user agent or a typed
	// unknown username.
	var n int
	if err := e.db.Reader().Get(&n, `SELECT COUNT(*) FROM audit WHERE client LIKE '%Mozilla%' OR client LIKE '%127.0.0.1%' OR detail LIKE '%nobody-here%' OR detail LIKE '%127.0.0.1%'`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d audit rows hold an address, a user agent or a username typed", n)
	}
}
