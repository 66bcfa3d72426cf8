package platform_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/pgtest"
	"hotline/internal/platform"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// TestMain runs every test of the package on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// receiver is the bureau's platform: it checks each webhook's timestamp
// and signature (rejecting a bad one with 401), keeps the bodies by
// delivery id, and answers 500 to the next failNext deliveries.
type receiver struct {
	secret   string
	srv      *httptest.Server
	failNext atomic.Int32
	badSigs  atomic.Int32

	mu     sync.Mutex
	bodies map[string][][]byte
	order  []string
}

func newReceiver(t testing.TB, secret string) *receiver {
	rx := &receiver{secret: secret, bodies: map[string][][]byte{}}
	rx.srv = httptest.NewServer(http.HandlerFunc(rx.handle))
	t.Cleanup(rx.srv.Close)
	return rx
}

func (rx *receiver) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, err := strconv.ParseInt(r.Header.Get(alert.WebhookHeaderTimestamp), 10, 64)
	want := alert.WebhookSignature(rx.secret, ts, body)
	if err != nil || !hmac.Equal([]byte(want), []byte(r.Header.Get(alert.WebhookHeaderSignature))) {
		rx.badSigs.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p platform.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.ID != r.Header.Get(alert.WebhookHeaderID) || p.Event != r.Header.Get(platform.HeaderEvent) {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if rx.failNext.Load() > 0 {
		rx.failNext.Add(-1)
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	rx.mu.Lock()
	if len(rx.bodies[p.ID]) == 0 {
		rx.order = append(rx.order, p.ID)
	}
	rx.bodies[p.ID] = append(rx.bodies[p.ID], body)
	rx.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// payloads returns the payloads received, one per id, in arrival order.
func (rx *receiver) payloads() []platform.Payload {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	var out []platform.Payload
	for _, id := range rx.order {
		var p platform.Payload
		json.Unmarshal(rx.bodies[id][0], &p)
		out = append(out, p)
	}
	return out
}

type env struct {
	t       testing.TB
	db      *store.DB
	clock   *testsupport.Clock
	vault   *vault.Vault
	staff   *staff.Service
	triage  *triage.Service
	intake  *intake.Service
	surveys *survey.Service
	pf      *platform.Service
	w       *platform.Worker
	officer *staff.Session
	other   *staff.Session // another district's officer
	admin   *staff.Session // no3's admin
	rx      *receiver
}

const secret = "the-platform-shared-secret-2026"

func newEnv(t *testing.T) *env { return newEnvTB(t) }

func newEnvTB(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db := testsupport.OpenStore(t)
	e := &env{t: t, db: db, clock: testsupport.NewClock(time.Date(2026, 5, 11, 1, 0, 0, 0, time.UTC))}
	db.Clock = e.clock
	var err error
	if e.vault, err = vault.New(make([]byte, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}); err != nil {
		t.Fatal(err)
	}
	e.w = &platform.Worker{DB: db, Vault: e.vault, BaseBackoff: time.Second, MaxBackoff: time.Minute, Timeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	hooks := &platform.Hooks{Wake: e.w.Wake}
	db.SetLedgerHooks(hooks.Store())
	e.staff, e.triage = staff.New(db, e.vault, nil), triage.New(db, e.vault, nil, nil)
	e.intake = intake.New(db, e.vault, nil, nil)
	t.Cleanup(e.intake.Close)
	e.surveys = survey.New(db, e.vault, nil)
	e.w.Staff, e.w.Surveys = e.staff, e.surveys
	e.pf = &platform.Service{DB: db, Vault: e.vault, District: district.New(db), Worker: e.w}
	for _, d := range []string{"海淀区", "朝阳区"} {
		cd, err := e.staff.CreateDistrict(ctx, d, "officer-"+d)
		if err != nil {
			t.Fatal(err)
		}
		sess := e.login("officer-"+d, cd.OfficerPassword)
		if d == "海淀区" {
			e.officer = sess
		} else {
			e.other = sess
		}
	}
	for _, s := range []struct{ code, district string }{{"no3", "海淀区"}, {"no7", "海淀区"}, {"cy1", "朝阳区"}} {
		cs, err := e.staff.CreateSchool(ctx, staff.NewSchool{Code: s.code, Name: "学校" + s.code, District: s.district, AdminUsername: "admin-" + s.code})
		if err != nil {
			t.Fatal(err)
		}
		sess := e.login("admin-"+s.code, cs.AdminPassword)
		if s.code == "no3" {
			e.admin = sess
		}
	}
	e.rx = newReceiver(t, secret)
	if _, _, err := e.pf.AddEndpoint(ctx, e.officer, e.rx.srv.URL+"/hotline", secret); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) login(user, password string) *staff.Session {
	e.t.Helper()
	sess, err := e.staff.Authenticate(context.Background(), user, password)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(sess.Wipe)
	return sess
}

func (e *env) submit(code, text string) *hotline.Submitted {
	e.t.Helper()
	e.clock.Add(time.Minute)
	sub, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: code, Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
		Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{text}})
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// drain runs the worker's passes, moving the clock past each backoff,
// until nothing waits.
func (e *env) drain() {
	e.t.Helper()
	for range 50 {
		e.w.Pass(context.Background())
		waiting, _, err := e.db.WebhookCounts(context.Background(), "海淀区")
		if err != nil {
			e.t.Fatal(err)
		}
		if waiting == 0 {
			return
		}
		e.clock.Add(2 * time.Minute)
	}
	e.t.Fatal("the outbox did not drain")
}

// TestEventsArriveSignedOnceAndContentFree: a district's cases opened,
// escalated, closed, a missed deadline and a new head arrive at its
// platform, signed, each once under its id (after the platform was down
// for a while), each with the ledger head of its event; another district's
// cases do not; nothing in any payload is content.
func TestEventsArriveSignedOnceAndContentFree(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	canaries := []string{"CANARY-小明被三个人堵在厕所", "CANARY-王小红", "13812345678"}
	var receipts []string
	var uids []string
	for _, c := range canaries {
		sub := e.submit("no3", c)
		receipts, uids = append(receipts, sub.Receipt), append(uids, sub.TipUID)
	}
	e.submit("cy1", "CANARY-朝阳区的报告") // another district: its platform is not ours
	actor := e.admin.Actor()
	if err := e.triage.SetSeverity(ctx, actor, uids[0], hotline.SeveritySevere); err != nil {
		t.Fatal(err)
	}
	if err := e.triage.Escalate(ctx, e.admin, uids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.triage.Reply(ctx, actor, uids[1], "CANARY-老师的回复", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.triage.SetStatus(ctx, actor, uids[1], hotline.StatusClosed); err != nil {
		t.Fatal(err)
	}
	// A missed deadline: the third case waits past its day.
	e.clock.Add(30 * time.Hour)
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		t3, err := tx.TipByUID(uids[2])
		if err != nil {
			return err
		}
		if _, err := tx.RecordDeadlineMiss(t3.ID, "ack", t3.AckDue); err != nil {
			return err
		}
		return tx.AppendEvent(&hotline.Event{SchoolID: t3.SchoolID, TipID: t3.ID, Alias: t3.Alias.ZH, Kind: hotline.EventDeadlineMissed, Detail: "deadline=ack"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Update(ctx, func(tx *store.Tx) error { _, err := tx.RecordCheckpoint(); return err }); err != nil {
		t.Fatal(err)
	}
	e.rx.failNext.Store(3) // the platform is down for the first three
	e.drain()

	got := map[string][]platform.Payload{}
	for _, p := range e.rx.payloads() {
		got[p.Event] = append(got[p.Event], p)
		if p.District != "海淀区" {
			t.Errorf("%s for district %q", p.ID, p.District)
		}
		if p.Ledger == nil || p.Ledger.Seq == 0 || len(p.Ledger.Hash) != 64 {
			t.Errorf("%s carries no head", p.ID)
			continue
		}
		evs, err := e.db.Events(ctx, p.Ledger.Seq-1, 1)
		if err != nil || len(evs) != 1 || fmt.Sprintf("%x", evs[0].Hash) != p.Ledger.Hash {
			t.Errorf("%s: head %d:%s is not the ledger's", p.ID, p.Ledger.Seq, p.Ledger.Hash)
		}
	}
	for kind, n := range map[string]int{platform.KindCaseOpened: 3, platform.KindEscalated: 1, platform.KindClosed: 1, platform.KindDeadlineMissed: 1, platform.KindLedgerHead: 1} {
		if len(got[kind]) != n {
			t.Errorf("%s: got %d, want %d", kind, len(got[kind]), n)
		}
	}
	if p := got[platform.KindCaseOpened]; len(p) > 0 && (p[0].Case.Channel != "mailbox" || p[0].Case.Severity != "unassessed" || p[0].School.Code != "no3") {
		t.Errorf("case.opened: %+v %+v", p[0].Case, p[0].School)
	}
	if p := got[platform.KindEscalated]; len(p) == 1 && (p[0].Case.Severity != "severe" || !p[0].Case.Escalated || p[0].Case.ID != uids[0]) {
		t.Errorf("case.escalated: %+v", p[0].Case)
	}
	if p := got[platform.KindClosed]; len(p) == 1 && p[0].Case.Status != "closed" {
		t.Errorf("case.closed: %+v", p[0].Case)
	}
	if p := got[platform.KindDeadlineMissed]; len(p) == 1 && (p[0].Deadline == nil || p[0].Deadline.Kind != "ack" || p[0].Deadline.Due == nil) {
		t.Errorf("deadline: %+v", p[0].Deadline)
	}
	// Each id arrived once (the 500s were not kept), signed.
	e.rx.mu.Lock()
	for id, bs := range e.rx.bodies {
		if len(bs) != 1 {
			t.Errorf("%s arrived %d times", id, len(bs))
		}
		for _, b := range bs {
			for _, c := range append(canaries, append(receipts, "CANARY")...) {
				if strings.Contains(string(b), c) {
					t.Errorf("%s carries %q", id, c)
				}
			}
		}
	}
	e.rx.mu.Unlock()
	if e.rx.badSigs.Load() != 0 {
		t.Fatalf("%d bad signatures", e.rx.badSigs.Load())
	}
	// The endpoint's state says it works; the district sees the rows.
	eps, _ := e.pf.Endpoints(ctx, e.officer)
	if len(eps) != 1 || eps[0].OKAt.IsZero() || !eps[0].FailedAt.IsZero() {
		t.Fatalf("endpoint state %+v", eps[0])
	}
}

// TestQueuedWithItsEvent: the webhook row commits with its event or not
// at all.
func TestQueuedWithItsEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	before, _, _ := e.db.WebhookCounts(ctx, "海淀区")
	boom := errors.New("the case action fails after its event")
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		s, err := tx.SchoolByCode("no3")
		if err != nil {
			return err
		}
		tip := &hotline.Tip{UID: "rolled-back", SchoolID: s.ID, Alias: hotline.Alias{ZH: "回滚", EN: "Rollback"}, Channel: hotline.ChannelWebchat,
			Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal}
		if err := tx.InsertTip(tip, nil); err != nil {
			return err
		}
		if err := tx.AppendEvent(&hotline.Event{SchoolID: s.ID, TipID: tip.ID, Alias: "回滚", Kind: hotline.EventReceived}); err != nil {
			return err
		}
		if n, _, _ := e.db.WebhookCounts(ctx, "海淀区"); n != before {
			// Not visible outside the transaction yet.
			return fmt.Errorf("queued row visible before commit: %d", n)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if after, _, _ := e.db.WebhookCounts(ctx, "海淀区"); after != before {
		t.Fatalf("a rolled-back event left %d rows", after-before)
	}
	e.submit("no3", "报告")
	if after, _, _ := e.db.WebhookCounts(ctx, "海淀区"); after != before+1 {
		t.Fatalf("a committed event queued %d rows", after-before)
	}
}

// TestTwoNodesSendEachOnce: two workers claiming from one database (on
// PostgreSQL, two processes' connections) deliver every event once.
func TestTwoNodesSendEachOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 24 {
		e.submit("no3", fmt.Sprintf("报告 %d", i))
	}
	db2 := e.db
	if e.db.MultiNode() {
		var err error
		if db2, err = store.Open(e.db.DSN); err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		db2.Clock = e.clock
	}
	w2 := &platform.Worker{DB: db2, Vault: e.vault, Node: "node-2", Concurrency: 3}
	e.w.Node, e.w.Concurrency = "node-1", 3
	var wg sync.WaitGroup
	for _, w := range []*platform.Worker{e.w, w2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				w.Pass(ctx)
			}
		}()
	}
	wg.Wait()
	e.drain()
	e.rx.mu.Lock()
	defer e.rx.mu.Unlock()
	if len(e.rx.bodies) != 24 {
		t.Fatalf("%d events arrived, want 24", len(e.rx.bodies))
	}
	for id, bs := range e.rx.bodies {
		if len(bs) != 1 {
			t.Errorf("%s arrived %d times", id, len(bs))
		}
	}
}

// chanRecorder is an alert channel that keeps what it is asked to send.
type chanRecorder struct {
	kind alert.Kind
	mu   sync.Mutex
	sent []alert.Message
	to   []alert.Target
}

func (c *chanRecorder) Kind() alert.Kind { return c.kind }
func (c *chanRecorder) Send(_ context.Context, to alert.Target, m alert.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent, c.to = append(c.sent, m), append(c.to, to)
	return nil
}

// TestDailyHeadLeavesTheServer: the day's head goes to the district's
// platform and, through the alert channels, to its group robot and its
// officer's e-mail, with the short form to write in the register.
func TestDailyHeadLeavesTheServer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.staff.AlertKinds = map[alert.Kind]bool{alert.WeComRobot: true, alert.Email: true}
	if _, err := e.staff.LinkTargetOf(ctx, store.TargetOwner{District: "海淀区"}, alert.WeComRobot, "wecom-robot-key-0123456789", ""); err != nil {
		t.Fatal(err)
	}
	robot, mail := &chanRecorder{kind: alert.WeComRobot}, &chanRecorder{kind: alert.Email}
	e.w.Channels = alert.Set{alert.WeComRobot: robot, alert.Email: mail}
	e.w.BaseURL = "https://hotline.example.cn"
	e.submit("no3", "报告")
	var head *store.LedgerHead
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AppendEvent(&hotline.Event{Kind: hotline.EventHeadRecorded, Detail: "day=2026-05-11"}); err != nil {
			return err
		}
		var err error
		head, _, err = tx.RecordLedgerHead("2026-05-11")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.drain()
	short := fmt.Sprintf("%x", head.Hash)[:4]
	if len(robot.sent) != 1 || !strings.Contains(robot.sent[0].Text, "2026-05-11") || !strings.Contains(robot.sent[0].Text, short) ||
		!strings.Contains(robot.sent[0].Link, "/district/ledger/heads/2026-05-11") || robot.to[0].Address != "wecom-robot-key-0123456789" {
		t.Fatalf("robot got %+v", robot.sent)
	}
	var daily *platform.Payload
	for _, p := range e.rx.payloads() {
		if p.Event == platform.KindLedgerHead && p.Head.Kind == "daily" {
			daily = &p
		}
	}
	if daily == nil || daily.Ledger.Seq != head.Seq || daily.Head.Day != "2026-05-11" || daily.ID != "daily-2026-05-11" {
		t.Fatalf("platform's daily head: %+v", daily)
	}
}

// TestSurveyClosedCountsFiveOrMore: a district questionnaire's closed wave
// reaches the platform once, with the figures as the district sees them:
// no count of 1 to 4 pupils, and every cell the page hides hidden.
func TestSurveyClosedCountsFiveOrMore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.submit("no3", "报告") // a ledger to carry the head of
	now := e.clock.Now()
	if _, err := e.surveys.Create(ctx, e.officer.Counselor, survey.NewSurvey{BaselineOpens: now.Add(-time.Hour), BaselineCloses: now.Add(24 * time.Hour),
		FollowUpOpens: now.Add(48 * time.Hour), FollowUpCloses: now.Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	answer := func(code string, n int) {
		cs, err := e.db.SchoolByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		admin := &hotline.Counselor{Role: hotline.RoleAdmin, SchoolID: cs.ID, District: "海淀区"}
		list, err := e.surveys.List(ctx, admin)
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		codes, err := e.surveys.PrintCodes(ctx, admin, list[0].UID, 1, survey.Class{Grade: "初一", Class: "1"}, n)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range codes {
			tk, err := e.surveys.Open(ctx, c, []byte(c))
			if err != nil {
				t.Fatal(err)
			}
			often := "0" // two pupils of each school were bullied often: cells of 2
			if i < 2 {
				often = "3"
			}
			if err := e.surveys.Submit(ctx, tk, survey.Answers{survey.QVictim: {often}, survey.QSafe: {"1"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	answer("no3", 7)
	answer("no7", 6)
	if err := e.w.AnnounceWaves(ctx); err != nil {
		t.Fatal(err)
	}
	e.drain()
	for _, p := range e.rx.payloads() {
		if p.Event == platform.KindSurveyClosed {
			t.Fatal("survey.closed before the wave closed")
		}
	}
	e.clock.Add(25*time.Hour + survey.PublishAfter)
	for range 2 { // announced once, however often the scan runs
		if err := e.w.AnnounceWaves(ctx); err != nil {
			t.Fatal(err)
		}
		e.drain()
	}
	var got []platform.Payload
	for _, p := range e.rx.payloads() {
		if p.Event == platform.KindSurveyClosed {
			got = append(got, p)
		}
	}
	if len(got) != 1 || got[0].Survey.Wave != 1 || got[0].Ledger == nil {
		t.Fatalf("survey.closed: %+v", got)
	}
	units := map[string]platform.SurveyUnit{}
	for _, u := range got[0].Survey.Units {
		units[u.Level+":"+u.School] = u
	}
	if u := units["school:no3"]; u.Respondents == nil || *u.Respondents != 7 || len(u.Indicators) == 0 {
		t.Fatalf("no3: %+v", u)
	}
	if u := units["district:"]; u.Respondents == nil || *u.Respondents != 13 {
		t.Fatalf("district: %+v", u)
	}
	// The same figures the district's results show, cell by cell.
	list, err := e.surveys.List(ctx, e.officer.Counselor)
	if err != nil || len(list) == 0 || list[0].Series != got[0].Survey.ID {
		t.Fatalf("the district's surveys: %v %v", list, err)
	}
	res, err := e.surveys.Results(ctx, e.officer.Counselor, list[0].UID, nil)
	if err != nil {
		t.Fatal(err)
	}
	root := res.Waves[0].Root
	hidden := 0
	for _, u := range got[0].Survey.Units {
		page := root
		for _, c := range root.Children {
			if c.Name == u.Name {
				page = c
			}
		}
		for _, ind := range u.Indicators {
			cell := page.Cells[ind.Key]
			switch {
			case ind.Hidden != cell.Hidden:
				t.Errorf("%s %s: hidden %v, the page %v", u.Name, ind.Key, ind.Hidden, cell.Hidden)
			case ind.Count != nil && (*ind.Count != cell.K || *ind.Base != cell.Base):
				t.Errorf("%s %s: %d/%d, the page %d/%d", u.Name, ind.Key, *ind.Count, *ind.Base, cell.K, cell.Base)
			case ind.Count != nil && (*ind.Count > 0 && *ind.Count < 5 || *ind.Base > 0 && *ind.Base < 5):
				t.Errorf("%s %s: %d of %d pupils shown", u.Name, ind.Key, *ind.Count, *ind.Base)
			}
			if ind.Hidden {
				hidden++
			}
		}
	}
	if hidden == 0 {
		t.Error("no cell hidden: the test proves little")
	}
}

// TestSettingsBelongToTheDistrict: only an officer manages the district's
// endpoints and tokens; another district's officer finds none of them;
// the sealed URL does not open in another row.
func TestSettingsBelongToTheDistrict(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.pf.AddEndpoint(ctx, e.admin, "https://x.example.cn/hook", secret); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Fatalf("a school admin adds an endpoint: %v", err)
	}
	eps, _ := e.pf.Endpoints(ctx, e.officer)
	id := eps[0].ID
	if err := e.pf.DeleteEndpoint(ctx, e.other, id); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district deletes it: %v", err)
	}
	if _, err := e.pf.TestEndpoint(ctx, e.other, id); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district tests it: %v", err)
	}
	for _, bad := range []struct{ url, secret string }{{"http://example.cn/hook", secret}, {"not a url", secret}, {"https://x.example.cn/h", "short"}} {
		if _, _, err := e.pf.AddEndpoint(ctx, e.officer, bad.url, bad.secret); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("%v: %v", bad, err)
		}
	}
	// A secret made for it is returned once, and works.
	id2, made, err := e.pf.AddEndpoint(ctx, e.officer, e.rx.srv.URL+"/second", "")
	if err != nil || len(made) < 32 {
		t.Fatalf("made secret %q %v", made, err)
	}
	// The test button: signed with the endpoint's own secret (the
	// receiver knows only the first: the second's test is refused).
	if res, err := e.pf.TestEndpoint(ctx, e.officer, id); err != nil || !res.OK {
		t.Fatalf("test: %+v %v", res, err)
	}
	if res, err := e.pf.TestEndpoint(ctx, e.officer, id2); err != nil || res.OK || res.Code != "401" {
		t.Fatalf("test with another secret: %+v %v", res, err)
	}
	// A sealed URL copied into another endpoint's row does not open.
	if _, err := e.db.Writer().ExecContext(ctx, e.db.Writer().Rebind(`UPDATE webhook_endpoints SET sealed = (SELECT sealed FROM webhook_endpoints WHERE id = ?) WHERE id = ?`), id, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pf.TestEndpoint(ctx, e.officer, id2); err == nil {
		t.Fatal("a sealed URL opened in another row")
	}
}

// TestStatisticsEndpoint: a token (shown once, stored as a keyed hash)
// reads its own district's figures as the district page shows them; a
// revoked, unknown or missing token reads nothing.
func TestStatisticsEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 6 {
		e.submit("no3", fmt.Sprintf("报告 %d", i))
	}
	e.submit("no7", "一份报告")
	e.submit("cy1", "朝阳区的报告")
	token, err := e.pf.CreateToken(ctx, e.officer, "平安校园平台")
	if err != nil || !strings.HasPrefix(token, "hls_") {
		t.Fatalf("token %q %v", token, err)
	}
	if _, err := e.pf.CreateToken(ctx, e.admin, "x"); hotline.ErrorCode(err) != hotline.EFORBIDDEN {
		t.Fatalf("a school admin makes a token: %v", err)
	}
	// Only a keyed hash is stored.
	var stored int
	e.db.Reader().GetContext(ctx, &stored, e.db.Reader().Rebind(`SELECT COUNT(*) FROM stats_tokens WHERE token_mac = ?`), []byte(token))
	if stored != 0 {
		t.Fatal("the token is stored in the clear")
	}
	srv := httptest.NewServer(e.pf.StatsHandler())
	defer srv.Close()
	get := func(auth string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("Bearer " + token)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var doc struct {
		District string `json:"district"`
		Total    struct {
			Received json.RawMessage `json:"received"`
		} `json:"total"`
		Schools []struct {
			School   platform.School `json:"school"`
			Received json.RawMessage `json:"received"`
			Overdue  int             `json:"overdue"`
		} `json:"schools"`
		Ledger platform.LedgerState `json:"ledger"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	recv := map[string]string{}
	for _, s := range doc.Schools {
		recv[s.School.Code] = string(s.Received)
	}
	if doc.District != "海淀区" || recv["no3"] != "6" || recv["no7"] != `"\u003c5"` && recv["no7"] != `"<5"` || len(doc.Schools) != 2 || string(doc.Total.Received) != "7" || !doc.Ledger.OK {
		t.Fatalf("stats: %s", body)
	}
	if strings.Contains(body, "cy1") || strings.Contains(body, "报告") {
		t.Fatal("the figures carry another district or content")
	}
	toks, _ := e.pf.Tokens(ctx, e.officer)
	if len(toks) != 1 || toks[0].UsedAt.IsZero() || toks[0].Hint != token[len(token)-4:] {
		t.Fatalf("tokens %+v", toks)
	}
	for _, auth := range []string{"", "Bearer hls_" + strings.Repeat("a", 32), "Basic " + token, "Bearer " + token + "x"} {
		if code, _ := get(auth); code != 401 {
			t.Errorf("%q: %d", auth, code)
		}
	}
	if err := e.pf.RevokeToken(ctx, e.other, toks[0].ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another district revokes it: %v", err)
	}
	if err := e.pf.RevokeToken(ctx, e.officer, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("Bearer " + token); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	audit, _ := e.db.Audit(ctx, store.AuditFilter{District: "海淀区", Kind: hotline.AuditPlatform})
	if len(audit) < 3 {
		t.Fatalf("audit: %d entries", len(audit))
	}
}

// TestStatisticsAreRateLimited: a token reads the figures at most a burst
// at a time, then is asked to wait.
func TestStatisticsAreRateLimited(t *testing.T) {
	e := newEnv(t)
	token, err := e.pf.CreateToken(context.Background(), e.officer, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.pf.StatsHandler())
	defer srv.Close()
	codes := map[int]int{}
	for range 15 {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[200] < 10 || codes[429] == 0 {
		t.Fatalf("answers %v", codes)
	}
}
