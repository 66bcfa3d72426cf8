package inboxweb_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
)

var (
	linkCodeRE = regexp.MustCompile(`id="link-code"[^>]*>([A-Z0-9]{4}-[A-Z0-9]{4})<`)
	tagRE      = regexp.MustCompile(`<[^>]+>`)
)

// text is a page's visible text, roughly: tags dropped, entities decoded.
func text(body string) string { return html.UnescapeString(tagRE.ReplaceAllString(body, "")) }

func TestMyAlertsPage(t *testing.T) {
	ts := setupTwo(t)
	e := ts.e
	ctx := context.Background()

	r := ts.ua.get("/inbox/alerts")
	mustContain(t, "alerts page", r, "我的提醒", "未绑定", "提醒里永远不含报告内容", `action="/inbox/alerts/link"`)
	if strings.Contains(r.Body, `id="link-code"`) {
		t.Fatal("a code before asking for one")
	}
	// Every page links to it.
	mustContain(t, "nav", ts.ua.get("/inbox/"), `href="/inbox/alerts"`)

	// A code, with the plain instructions; the bot's /link takes it.
	r = ts.ua.post("/inbox/alerts/link", nil)
	m := linkCodeRE.FindStringSubmatch(r.Body)
	if r.Status != 200 || m == nil {
		t.Fatalf("link code: %d %s", r.Status, excerpt(r.Body))
	}
	code := m[1]
	if want := "在 Telegram 里给机器人发送 /link " + code + "，15 分钟内有效"; !strings.Contains(text(r.Body), want) {
		t.Fatalf("instructions lack %q", want)
	}
	if err := e.st.LinkTelegram(ctx, code, 777001); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "linked", ts.ua.get("/inbox/alerts"), "已绑定", `action="/inbox/alerts/unlink"`)
	// B sees its own state, not A's.
	mustContain(t, "B not linked", ts.ub.get("/inbox/alerts"), "未绑定")
	// Used once.
	if err := e.st.LinkTelegram(ctx, code, 777002); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("second use: %v", err)
	}

	// Unlink.
	r = ts.ua.post("/inbox/alerts/unlink", nil)
	mustContain(t, "unlinked", r, "已解除 Telegram 绑定", "未绑定")
	if rec, _ := e.db.CounselorByID(ctx, ts.adminA); rec.TelegramSealed != nil {
		t.Fatal("still linked in the database")
	}

	// E-mail: refused, set, cleared; sealed at rest.
	r = ts.ua.post("/inbox/alerts/email", url.Values{"email": {"not an address"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "电子邮件地址无效") || !strings.Contains(r.Body, `value="not an address"`) {
		t.Fatalf("bad address: %d %s", r.Status, excerpt(r.Body))
	}
	r = ts.ua.post("/inbox/alerts/email", url.Values{"email": {"wang@school.example.cn"}})
	mustContain(t, "address set", r, "提醒邮箱已保存", `value="wang@school.example.cn"`)
	rec, _ := e.db.CounselorByID(ctx, ts.adminA)
	if rec.EmailSealed == nil || strings.Contains(string(rec.EmailSealed), "wang@") {
		t.Fatal("address not stored sealed")
	}
	r = ts.ua.post("/inbox/alerts/email", url.Values{"email": {"wang@school.example.cn"}, "clear": {"1"}})
	mustContain(t, "address cleared", r, "提醒邮箱已删除")
	if rec, _ := e.db.CounselorByID(ctx, ts.adminA); rec.EmailSealed != nil {
		t.Fatal("address still stored")
	}

	// English.
	r = ts.ua.get("/inbox/alerts?lang=en")
	mustContain(t, "english", r, "My alerts", "Alerts never contain report content")
}

// escalationEnv is two schools of one district that exists (so cases can
// be escalated) and its officer.
func escalationEnv(t *testing.T) (*twoSchools, *staff.CreatedDistrict) {
	ts := setupTwo(t)
	d, err := ts.e.st.CreateDistrict(context.Background(), "海淀区", "officer")
	if err != nil {
		t.Fatal(err)
	}
	return ts, d
}

func TestEscalateAndFollowUp(t *testing.T) {
	ts, district := escalationEnv(t)
	e := ts.e
	ctx := context.Background()
	tipB := ts.tipB.TipUID
	page := "/inbox/tips/" + tipB

	// Not severe yet: escalation is offered, not demanded.
	r := ts.ub.get(page)
	mustContain(t, "case", r, `action="/inbox/tips/`+tipB+`/escalate"`, "上报区教育局")
	if strings.Contains(r.Body, `id="must-escalate"`) {
		t.Fatal("flagged before it is severe")
	}
	// Severe: the case page and the queue flag it.
	ts.ub.post(page+"/severity", url.Values{"severity": {"severe"}})
	r = ts.ub.get(page)
	mustContain(t, "must escalate", r, `id="must-escalate"`, "必须上报区教育局")
	mustContain(t, "queue flag", ts.ub.get("/inbox/"), "tag must-escalate")

	// School A cannot escalate B's case.
	if r := ts.ua.post(page+"/escalate", url.Values{"confirm": {"1"}}); r.Status != http.StatusNotFound {
		t.Fatalf("A escalates B's case: %d", r.Status)
	}
	// Without the confirmation box: refused, with the reason, nothing done.
	r = ts.ub.post(page+"/escalate", nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "上报前请勾选确认") {
		t.Fatalf("no confirmation: %d %s", r.Status, excerpt(r.Body))
	}
	// Without the CSRF token: refused.
	if r := ts.ub.post(page+"/escalate", url.Values{"confirm": {"1"}, "csrf": {""}}); r.Status != http.StatusForbidden {
		t.Fatalf("no token: %d", r.Status)
	}
	if tip, _ := e.db.TipByUID(ctx, tipB); tip.Escalated {
		t.Fatal("escalated by a refused request")
	}

	// Escalate.
	r = ts.ub.post(page+"/escalate", url.Values{"confirm": {"1"}})
	if r.Status != 200 || r.URL != page {
		t.Fatalf("escalate: %d at %s", r.Status, r.URL)
	}
	mustContain(t, "escalated", r, `id="escalated-state"`, "已上报区教育局")
	if strings.Contains(r.Body, `id="must-escalate"`) || strings.Contains(r.Body, `/escalate"`) {
		t.Fatal("still asks to escalate")
	}
	// The district officer reads it.
	officer, err := e.st.Authenticate(ctx, district.Officer.Username, district.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer officer.Wipe()
	_, msgs, err := e.tr.Thread(ctx, officer, tipB)
	if err != nil || len(msgs) == 0 || msgs[0].Body != "看这张照片" {
		t.Fatalf("officer's thread: %v %d", err, len(msgs))
	}

	// A change of the escalated case owes a follow-up report (续报).
	ts.ub.post(page+"/status", url.Values{"status": {"acknowledged"}})
	sc := &scheduler.Scheduler{DB: e.db, Vault: e.tr.Vault, Notifier: e.broker}
	if err := sc.ScanFollowups(ctx); err != nil {
		t.Fatal(err)
	}
	r = ts.ub.get(page)
	mustContain(t, "follow-up due", r, `id="followup-due"`, `action="/inbox/tips/`+tipB+`/district"`, "续报区教育局")
	if r := ts.ua.post(page+"/district", nil); r.Status != http.StatusNotFound {
		t.Fatalf("A reports B's case: %d", r.Status)
	}
	if r := ts.ub.post(page+"/district", url.Values{"csrf": {"x"}}); r.Status != http.StatusForbidden {
		t.Fatalf("follow-up without token: %d", r.Status)
	}
	r = ts.ub.post(page+"/district", nil)
	if r.Status != 200 || strings.Contains(r.Body, `id="followup-due"`) {
		t.Fatalf("follow-up: %d", r.Status)
	}
	tip, _ := e.db.TipByUID(ctx, tipB)
	if !tip.Steps[hotline.StepDistrictReport] {
		t.Fatal("district report step not done")
	}
	events, _ := e.db.TipEvents(ctx, tip.ID)
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.Kind))
	}
	if k := strings.Join(kinds, ","); !strings.Contains(k, string(hotline.EventEscalated)) || !strings.Contains(k, string(hotline.EventDistrictReport)) {
		t.Fatalf("ledger: %s", k)
	}
	if res, err := e.db.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger does not verify: %v %+v", err, res)
	}
}

func TestEscalateWithoutDistrictAccount(t *testing.T) {
	ts := setupTwo(t)
	page := "/inbox/tips/" + ts.tipB.TipUID
	r := ts.ub.post(page+"/escalate", url.Values{"confirm": {"1"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "还没有开通区教育局账户") {
		t.Fatalf("no district: %d %s", r.Status, excerpt(r.Body))
	}
}

func TestThreadFragment(t *testing.T) {
	ts := setupTwo(t)
	path := "/inbox/tips/" + ts.tipB.TipUID + "/thread"
	req, _ := http.NewRequest("GET", ts.e.hs.URL+path, nil)
	req.Header.Set("X-Requested-With", "fetch")
	r := ts.ub.do(req)
	mustContain(t, "fragment", r, `id="thread"`, `id="case-meta"`, `id="timeline"`, "看这张照片", `data-unread=`)
	if strings.Contains(r.Body, "<html") || strings.Contains(r.Body, `name="text"`) {
		t.Fatal("the fragment is a whole page or holds the reply box")
	}
	req, _ = http.NewRequest("GET", ts.e.hs.URL+path, nil)
	req.Header.Set("X-Requested-With", "fetch")
	r = ts.ua.do(req)
	if r.Status != http.StatusNotFound || strings.Contains(r.Body, "看这张照片") {
		t.Fatalf("A reads B's thread fragment: %d", r.Status)
	}
	anon := ts.e.browser()
	req, _ = http.NewRequest("GET", ts.e.hs.URL+path, nil)
	req.Header.Set("X-Requested-With", "fetch")
	if r := anon.do(req); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous fragment: %d", r.Status)
	}
}
