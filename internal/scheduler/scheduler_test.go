package scheduler_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/pgtest"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// ovClock is a fake clock safe to read from the writer goroutine.
type ovClock = testsupport.Clock

// ovEnv is a school in a district with an admin, a counselor and a
// district officer, on a database that tests can close and reopen.
type ovEnv struct {
	tb       testing.TB
	path     string
	key      []byte
	clock    *ovClock
	t0       time.Time
	db       *store.DB
	vault    *vault.Vault
	staff    *staff.Service
	svc      *triage.Service
	intake   *intake.Service
	sched    *scheduler.Scheduler
	alerter  *ovAlerter
	school   *hotline.School
	admin    *staff.Session
	wang     *staff.Session
	officer  *staff.Session
	district string
}

var ovArgon = vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// ovAlerter is a Telegram channel that records alerts in memory, by chat.
type ovAlerter struct {
	mu   sync.Mutex
	sent map[int64][]string
}

func (a *ovAlerter) Kind() alert.Kind { return alert.Telegram }

func (a *ovAlerter) Send(_ context.Context, to alert.Target, m alert.Message) error {
	chatID, err := strconv.ParseInt(to.Address, 10, 64)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sent == nil {
		a.sent = map[int64][]string{}
	}
	a.sent[chatID] = append(a.sent[chatID], m.Text)
	return nil
}

func (a *ovAlerter) Texts(chatID int64) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.sent[chatID]...)
}

func newOvEnv(tb testing.TB, settings *hotline.SchoolSettings) *ovEnv {
	tb.Helper()
	ctx := context.Background()
	e := &ovEnv{tb: tb, path: pgtest.DB(tb, filepath.Join(tb.TempDir(), "h.db")), key: make([]byte, 32), district: "海淀区",
		t0: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), alerter: &ovAlerter{}}
	e.key[0] = 7
	e.clock = testsupport.NewClock(e.t0)
	e.open()
	tb.Cleanup(func() { e.db.Close() })
	d, err := e.staff.CreateDistrict(ctx, e.district, "officer1")
	if err != nil {
		tb.Fatal(err)
	}
	e.officer = e.login("officer1", d.OfficerPassword)
	if settings == nil {
		settings = &hotline.SchoolSettings{}
	}
	cs, err := e.staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", NameEN: "No. 3 Middle School", District: e.district, AdminUsername: "admin3", Settings: settings})
	if err != nil {
		tb.Fatal(err)
	}
	e.school = cs.School
	e.admin = e.login("admin3", cs.AdminPassword)
	_, otp, err := e.staff.AddCounselor(ctx, e.admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		tb.Fatal(err)
	}
	e.wang = e.login("wang", otp)
	return e
}

func (e *ovEnv) open() {
	e.tb.Helper()
	db, err := store.Open(e.path)
	if err != nil {
		e.tb.Fatal(err)
	}
	db.Clock = e.clock
	v, err := vault.New(e.key, vault.Options{Argon: ovArgon})
	if err != nil {
		e.tb.Fatal(err)
	}
	e.db, e.vault = db, v
	e.staff = staff.New(db, v, nil)
	e.svc = triage.New(db, v, nil, nil)
	e.intake = intake.New(db, v, nil, nil)
	e.staff.AlertKinds = map[alert.Kind]bool{alert.Telegram: true}
	e.sched = &scheduler.Scheduler{DB: db, Vault: v, Staff: e.staff, Channels: alert.Set{alert.Telegram: e.alerter}, BaseURL: "https://hotline.example.cn"}
}

// restart closes the database and opens it again, as a server restart.
func (e *ovEnv) restart() {
	e.tb.Helper()
	if err := e.db.Close(); err != nil {
		e.tb.Fatal(err)
	}
	e.open()
}

func (e *ovEnv) login(user, password string) *staff.Session {
	e.tb.Helper()
	sess, err := e.staff.Authenticate(context.Background(), user, password)
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(sess.Wipe)
	return sess
}

func (e *ovEnv) at(d time.Duration) { e.clock.Set(e.t0.Add(d)) }

func (e *ovEnv) tick() {
	e.tb.Helper()
	if err := e.sched.Tick(context.Background()); err != nil {
		e.tb.Fatal(err)
	}
}

func (e *ovEnv) submit(texts []string, danger bool) *hotline.Submitted {
	e.tb.Helper()
	out, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterVictim,
		Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: texts, DangerNow: danger})
	if err != nil {
		e.tb.Fatal(err)
	}
	return out
}

func (e *ovEnv) tip(uid string) *hotline.Tip {
	e.tb.Helper()
	t, err := e.db.TipByUID(context.Background(), uid)
	if err != nil {
		e.tb.Fatal(err)
	}
	return t
}

// misses returns the "deadline=…" details of a tip's deadline_missed events.
func (e *ovEnv) misses(uid string) []string {
	e.tb.Helper()
	evs, err := e.db.TipEvents(context.Background(), e.tip(uid).ID)
	if err != nil {
		e.tb.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		if ev.Kind == hotline.EventDeadlineMissed {
			out = append(out, ev.Detail)
		}
	}
	return out
}

func (e *ovEnv) linkTelegram(sess *staff.Session, chatID int64) {
	e.tb.Helper()
	ctx := context.Background()
	code, _, err := e.staff.NewLinkCode(ctx, sess)
	if err != nil {
		e.tb.Fatal(err)
	}
	if err := e.staff.LinkTelegram(ctx, strings.ToLower(code), chatID); err != nil {
		e.tb.Fatal(err)
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEveryDeadlineFiresOnceAtItsTimeAcrossRestarts(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	admin := e.admin.Actor()

	plain := e.submit([]string{"他们每天在走廊里推我。"}, false)    // ack 24 h, reply 24 h
	urgent := e.submit([]string{"他说放学后要打我。"}, true)      // ack 1 h
	severe := e.submit([]string{"有人抢了我的手机还打了我。"}, false) // district 24 h
	if _, err := e.svc.Reply(ctx, admin, severe.TipUID, "我们收到了。", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetSeverity(ctx, admin, severe.TipUID, hotline.SeverityCriminal); err != nil {
		t.Fatal(err)
	}
	followed := e.submit([]string{"初二有人勒索低年级同学。"}, false) // escalated, then changed → follow-up
	if _, err := e.svc.Reply(ctx, admin, followed.TipUID, "谢谢你。", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetSeverity(ctx, admin, followed.TipUID, hotline.SeveritySevere); err != nil {
		t.Fatal(err)
	}
	if !triage.NeedsEscalation(e.tip(followed.TipUID)) {
		t.Fatal("a severe case that is not escalated is not flagged")
	}
	if err := e.svc.Escalate(ctx, e.admin, followed.TipUID); err != nil {
		t.Fatal(err)
	}
	if triage.NeedsEscalation(e.tip(followed.TipUID)) {
		t.Fatal("an escalated case is still flagged")
	}

	// At the urgent deadline nothing has fired; just after it, it has.
	e.at(time.Hour)
	e.tick()
	for _, uid := range []string{plain.TipUID, urgent.TipUID, severe.TipUID, followed.TipUID} {
		if got := e.misses(uid); len(got) != 0 {
			t.Fatalf("misses before any deadline: %v", got)
		}
	}
	e.at(time.Hour + time.Microsecond)
	e.tick()
	if got := e.misses(urgent.TipUID); !sameStrings(got, []string{"deadline=ack"}) {
		t.Fatalf("urgent misses at 1h = %v, want [deadline=ack]", got)
	}
	// A restart and more passes do not fire it again.
	e.restart()
	e.tick()
	e.tick()
	if got := e.misses(urgent.TipUID); len(got) != 1 {
		t.Fatalf("urgent misses after restart = %v, want one", got)
	}
	// The queue shows it overdue.
	overdue, _, err := e.db.Queue(ctx, hotline.TipFilter{SchoolID: e.school.ID, Overdue: true}, e.clock.Now())
	if err != nil || len(overdue) != 1 || overdue[0].UID != urgent.TipUID {
		t.Fatalf("overdue queue = %d tips, %v; want the urgent tip", len(overdue), err)
	}

	// The escalated case changes status at 2 h: a follow-up is owed by 26 h.
	e.at(2 * time.Hour)
	if err := e.svc.SetStatus(ctx, admin, followed.TipUID, hotline.StatusInvestigating); err != nil {
		t.Fatal(err)
	}
	e.tick()
	ft := e.tip(followed.TipUID)
	if ft.Steps[hotline.StepDistrictReport] || !ft.DistrictDue.Equal(e.t0.Add(26*time.Hour)) {
		t.Fatalf("follow-up: step %v, due %v; want open and due at 26h", ft.Steps[hotline.StepDistrictReport], ft.DistrictDue)
	}

	e.at(24 * time.Hour)
	e.tick()
	if got := e.misses(plain.TipUID); len(got) != 0 {
		t.Fatalf("plain misses before 24h = %v", got)
	}
	e.at(24*time.Hour + time.Microsecond)
	e.tick()
	e.restart()
	e.at(25 * time.Hour)
	e.tick()
	for _, c := range []struct {
		uid  string
		want []string
	}{
		{plain.TipUID, []string{"deadline=ack", "deadline=reply"}},
		{urgent.TipUID, []string{"deadline=ack", "deadline=reply"}},
		{severe.TipUID, []string{"deadline=district"}},
		{followed.TipUID, nil},
	} {
		if got := e.misses(c.uid); !sameStrings(got, c.want) {
			t.Errorf("misses at 25h = %v, want %v", got, c.want)
		}
	}
	e.at(26 * time.Hour)
	e.tick()
	if got := e.misses(followed.TipUID); len(got) != 0 {
		t.Fatalf("follow-up fired at its due time: %v", got)
	}
	e.at(26*time.Hour + time.Microsecond)
	e.tick()
	e.restart()
	e.tick()
	if got := e.misses(followed.TipUID); !sameStrings(got, []string{"deadline=followup"}) {
		t.Fatalf("follow-up misses = %v, want [deadline=followup]", got)
	}
	// The follow-up report (续报) is recorded and meets the duty.
	if err := e.svc.ReportToDistrict(ctx, admin, followed.TipUID); err != nil {
		t.Fatal(err)
	}
	if e.tip(followed.TipUID).Overdue(e.clock.Now()) {
		t.Fatal("still overdue after the follow-up report")
	}
	e.tick()
	fs, err := e.db.Followups(ctx, e.tip(followed.TipUID).ID)
	if err != nil || len(fs) != 1 || fs[0].ReportedAt.IsZero() {
		t.Fatalf("follow-ups = %+v, %v; want one, reported", fs, err)
	}
	// Every miss is in a verified ledger.
	res, err := e.db.VerifyLedger(ctx)
	if err != nil || !res.OK() {
		t.Fatalf("ledger: %+v, %v", res, err)
	}
}

func TestUrgentTipClimbsTheLadderThenTheDeadlineAlertsTheDistrict(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	const adminChat, wangChat, officerChat = 1001, 1002, 1003
	e.linkTelegram(e.admin, adminChat)
	e.linkTelegram(e.wang, wangChat)
	e.linkTelegram(e.officer, officerChat)
	// The admin is the school-wide fallback; nobody is on the rota, there
	// is no head and no duty officer.
	if err := e.staff.SetOnCall(ctx, e.admin, e.admin.Counselor.ID, true); err != nil {
		t.Fatal(err)
	}
	secret := "他说放学后要带刀来找我"
	sub := e.submit([]string{secret}, true)
	count := func() [3]int {
		return [3]int{len(e.alerter.Texts(adminChat)), len(e.alerter.Texts(wangChat)), len(e.alerter.Texts(officerChat))}
	}
	for _, step := range []struct {
		at   time.Duration
		want [3]int
	}{
		{0, [3]int{1, 0, 0}},                       // rung 1: the fallback, the admin
		{4 * time.Minute, [3]int{1, 0, 0}},         // nothing new within the rung's minutes
		{5 * time.Minute, [3]int{2, 1, 0}},         // no second on call: rung 3, every counselor, at once
		{10 * time.Minute, [3]int{2, 1, 0}},        // no head, no duty officer: the ladder waits at the top
		{time.Hour + time.Second, [3]int{3, 2, 1}}, // deadline missed: school and district
		{3 * time.Hour, [3]int{3, 2, 1}},           // each once
	} {
		e.at(step.at)
		e.tick()
		if got := count(); got != step.want {
			t.Fatalf("alerts at %v = %v, want %v", step.at, got, step.want)
		}
	}
	alias := e.tip(sub.TipUID).Alias
	first := e.alerter.Texts(adminChat)[0]
	if !strings.Contains(first, "紧急报告「"+alias.ZH+"」— 第三中学") || !strings.Contains(first, "Urgent report "+alias.EN+" at No. 3 Middle School") ||
		!strings.Contains(first, "https://hotline.example.cn/inbox/ack/") {
		t.Errorf("alert text = %q", first)
	}
	for _, chat := range []int64{adminChat, wangChat, officerChat} {
		for _, text := range e.alerter.Texts(chat) {
			if strings.Contains(text, "刀") || strings.Contains(text, "放学") {
				t.Errorf("alert holds content: %q", text)
			}
		}
	}
	// The ladder's rungs are in the ledger, content-free.
	evs, err := e.db.TipEvents(ctx, e.tip(sub.TipUID).ID)
	if err != nil {
		t.Fatal(err)
	}
	var rungs []string
	for _, ev := range evs {
		if ev.Kind == hotline.EventPaged {
			rungs = append(rungs, ev.Detail)
		}
	}
	if want := []string{"rung=1", "rung=2", "rung=3", "rung=4", "rung=5"}; !sameStrings(rungs, want) {
		t.Errorf("paged events = %v, want %v", rungs, want)
	}
	// Acknowledging before the first pass: no alert at all.
	sub2 := e.submit([]string{"有人在厕所打人"}, true)
	if err := e.svc.SetStatus(ctx, e.wang.Actor(), sub2.TipUID, hotline.StatusAcknowledged); err != nil {
		t.Fatal(err)
	}
	e.tick()
	as, err := e.db.AlertsByTip(ctx, e.tip(sub2.TipUID).ID)
	if err != nil || len(as) != 0 {
		t.Fatalf("alerts for an acknowledged urgent tip = %d, %v", len(as), err)
	}
	if sends, err := e.db.SendsOfTip(ctx, e.tip(sub2.TipUID).ID); err != nil || len(sends) != 0 {
		t.Fatalf("ladder sends for an acknowledged urgent tip = %d, %v", len(sends), err)
	}
}

func TestRetentionPurgesContentKeepsCaseAndLedger(t *testing.T) {
	e := newOvEnv(t, &hotline.SchoolSettings{RetentionDays: 30})
	ctx := context.Background()
	admin := e.admin.Actor()
	done := e.submit([]string{"他们把我的作业撕了。"}, false)
	open := e.submit([]string{"有人在群里骂我。"}, false)
	if err := e.svc.SetStatus(ctx, admin, done.TipUID, hotline.StatusClosed); err != nil {
		t.Fatal(err)
	}
	e.at(30*24*time.Hour - time.Minute)
	e.tick()
	if e.tip(done.TipUID).Purged {
		t.Fatal("purged before the retention period")
	}
	e.at(31 * 24 * time.Hour)
	e.tick()
	e.tick()
	tip := e.tip(done.TipUID)
	if !tip.Purged || tip.Status != hotline.StatusClosed {
		t.Fatalf("purged %v status %v", tip.Purged, tip.Status)
	}
	if e.tip(open.TipUID).Purged {
		t.Fatal("an open case was purged")
	}
	ms, _ := e.db.Messages(ctx, tip.ID)
	for _, m := range ms {
		if m.BodySealed != nil || m.ReporterSealed != nil {
			t.Fatal("sealed content left after purge")
		}
	}
	evs, _ := e.db.TipEvents(ctx, tip.ID)
	n := 0
	for _, ev := range evs {
		if ev.Kind == hotline.EventPurged {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d purge events, want 1", n)
	}
	if res, err := e.db.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger after purge: %+v %v", res, err)
	}
}

func TestDailyHeadRecordedOncePerDay(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	e.submit([]string{"测试"}, false)
	h, err := e.sched.RecordDailyHead(ctx)
	if err != nil || h == nil {
		t.Fatalf("first head: %v %v", h, err)
	}
	if h2, err := e.sched.RecordDailyHead(ctx); err != nil || h2 != nil {
		t.Fatalf("second head the same day: %v %v", h2, err)
	}
	e.at(24 * time.Hour)
	if h3, err := e.sched.RecordDailyHead(ctx); err != nil || h3 == nil || h3.Seq <= h.Seq {
		t.Fatalf("next day's head: %v %v", h3, err)
	}
	heads, _ := e.db.LedgerHeads(ctx)
	if len(heads) != 2 {
		t.Fatalf("%d heads", len(heads))
	}
}

// TestSealedReceiptsExpireInAPass: a web page's receipt, kept sealed to
// the page for a day so that a lost answer can be claimed, is claimable
// within the day and gone from the database after the first pass past it.
func TestSealedReceiptsExpireInAPass(t *testing.T) {
	e := newOvEnv(t, nil)
	ctx := context.Background()
	const page = "page-secret-aaaaaaaaaaaaaaaa"
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{"他们每天骂我"}, SubmissionID: "sub-expire-1", PageSecret: page})
	if err != nil {
		t.Fatal(err)
	}
	kept := func() int {
		t.Helper()
		var n int
		if err := e.db.Reader().Get(&n, `SELECT COUNT(*) FROM submissions WHERE receipt_sealed IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.at(intake.ReceiptKeep - time.Minute)
	e.tick()
	if kept() != 1 {
		t.Fatal("a receipt within its day was cleared")
	}
	if got, err := e.intake.ClaimReceipt(ctx, sub.TipUID, page); err != nil || got != sub.Receipt {
		t.Fatalf("claim within the day: %q, %v", got, err)
	}
	e.at(intake.ReceiptKeep + time.Minute)
	if _, err := e.intake.ClaimReceipt(ctx, sub.TipUID, page); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("claim past the day before a pass: %v, want not found", err)
	}
	e.tick()
	if n := kept(); n != 0 {
		t.Fatalf("%d sealed receipts left after a pass past their day", n)
	}
}
