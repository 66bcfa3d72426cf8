package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/platform"
	"hotline/internal/staff"
)

const (
	envWebhookDir = "HOTLINE_WHCRASH_DIR"
	// envWebhookPatient makes the child's deliveries wait a minute for
	// the platform before timing out.
	envWebhookPatient = "HOTLINE_WHCRASH_PATIENT"
	webhookSecret     = "bureau-platform-secret-2026-05"
)

// TestWebhookCrashChild is the server of TestWebhooksArriveOnceAcrossACrash:
// the real Main, its platform worker quick to retry and to take over a
// claim whose node died.
func TestWebhookCrashChild(t *testing.T) {
	dir := os.Getenv(envWebhookDir)
	if dir == "" {
		t.Skip("only runs as the child of TestWebhooksArriveOnceAcrossACrash")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	m := NewMain()
	m.Config.DataDir = dir
	m.Config.Addr = "127.0.0.1:0"
	m.Argon = cheapArgon
	w := m.PlatformWorker
	w.PollInterval, w.Timeout, w.Lease, w.BaseBackoff = 50*time.Millisecond, time.Second, 2*time.Second, 100*time.Millisecond
	if os.Getenv(envWebhookPatient) != "" {
		// A delivery held by the platform must finish, not time out,
		// however loaded the machine.
		w.Timeout, w.Lease = time.Minute, 2*time.Minute
	}
	if err := runServer(ctx, m, func() { os.Stdout.WriteString("READY\n") }); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}

// platformRx is the bureau's platform in the e2e tests: it checks every
// webhook's signature and keeps every body it took, by delivery id. When
// hold is set, the request of that delivery number (1-based, counting
// first arrivals) is kept waiting until release is closed.
type platformRx struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	bodies  map[string][][]byte
	order   []string
	bad     int
	hold    int
	held    chan string
	release chan struct{}
}

func newPlatformRx(t *testing.T) *platformRx {
	rx := &platformRx{t: t, bodies: map[string][][]byte{}, held: make(chan string, 1), release: make(chan struct{})}
	rx.srv = httptest.NewServer(http.HandlerFunc(rx.handle))
	t.Cleanup(func() {
		rx.mu.Lock()
		select {
		case <-rx.release:
		default:
			close(rx.release)
		}
		rx.mu.Unlock()
		rx.srv.CloseClientConnections()
		rx.srv.Close()
	})
	return rx
}

func (rx *platformRx) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts, err := strconv.ParseInt(r.Header.Get(alert.WebhookHeaderTimestamp), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute ||
		!hmac.Equal([]byte(alert.WebhookSignature(webhookSecret, ts, body)), []byte(r.Header.Get(alert.WebhookHeaderSignature))) {
		rx.mu.Lock()
		rx.bad++
		rx.mu.Unlock()
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(alert.WebhookHeaderID)
	rx.mu.Lock()
	if len(rx.bodies[id]) == 0 {
		rx.order = append(rx.order, id)
	}
	rx.bodies[id] = append(rx.bodies[id], body)
	hold := rx.hold > 0 && len(rx.order) == rx.hold && len(rx.bodies[id]) == 1
	rx.mu.Unlock()
	if hold {
		// The platform took it; its answer will never reach the node.
		rx.held <- id
		<-rx.release
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rx *platformRx) ids() map[string][][]byte {
	rx.mu.Lock()
	defer rx.mu.Unlock()
	out := make(map[string][][]byte, len(rx.bodies))
	for k, v := range rx.bodies {
		out[k] = append([][]byte(nil), v...)
	}
	return out
}

// platformDistrict makes a district with an officer, a school and the
// district's endpoint at rx, on m; it returns the officer's session.
func platformDistrict(t *testing.T, m *Main, rx *platformRx) *staff.Session {
	t.Helper()
	ctx := context.Background()
	d, err := m.Staff.CreateDistrict(ctx, "海淀区", "officer")
	if err != nil {
		t.Fatal(err)
	}
	officer, err := m.Staff.Authenticate(ctx, "officer", d.OfficerPassword)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(officer.Wipe)
	if _, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区", AdminUsername: "admin-no3"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Platform.AddEndpoint(ctx, officer, rx.srv.URL+"/hotline/events", webhookSecret); err != nil {
		t.Fatal(err)
	}
	return officer
}

// TestWebhooksArriveOnceAcrossACrash: the node is killed (SIGKILL) while
// the platform holds a webhook it already took; the next node sends it
// again under the same id once the dead node's claim runs out, and every
// event arrives. After dropping duplicates by id (as the signed headers
// say to), each event is there once, with the same bytes; every signature
// verifies; no payload carries content.
func TestWebhooksArriveOnceAcrossACrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rx := newPlatformRx(t)
	canary := "CANARY-他们在宿舍打我"
	var receipts []string
	{
		m := MustOpenMain(t, withDataDir(dir))
		platformDistrict(t, m, rx)
		for i := range 10 {
			sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterVictim,
				Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: []string{fmt.Sprintf("%s %d", canary, i)}})
			if err != nil {
				t.Fatal(err)
			}
			receipts = append(receipts, sub.Receipt)
		}
		m.Close()
	}
	rx.mu.Lock()
	rx.hold = 4
	rx.mu.Unlock()
	logs := &syncBuffer{}
	start := func() *exec.Cmd { return startWebhookChild(t, dir, logs) }
	first := start()
	var heldID string
	select {
	case heldID = <-rx.held:
	case <-time.After(60 * time.Second):
		first.Process.Kill()
		first.Wait()
		t.Fatalf("no delivery was held:\n%s", logs.String())
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	close(rx.release)

	second := start()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := rx.ids()
		opened := 0
		for _, b := range got {
			if bytes.Contains(b[0], []byte(`"event":"case.opened"`)) {
				opened++
			}
		}
		if opened >= 10 && len(got[heldID]) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			second.Process.Kill()
			second.Wait()
			t.Fatalf("%d events arrived, the held one %d times:\n%s", len(got), len(got[heldID]), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Fatalf("child after SIGTERM: %v\n%s", err, logs.String())
	}

	got := rx.ids()
	dups, opened := 0, 0
	for id, bodies := range got {
		for _, b := range bodies[1:] {
			if !bytes.Equal(b, bodies[0]) {
				t.Errorf("%s arrived twice with different bytes", id)
			}
		}
		if len(bodies) > 1 {
			dups++
		}
		// The reports' case.opened, and the heads the scheduler recorded.
		var p platform.Payload
		if err := json.Unmarshal(bodies[0], &p); err != nil || p.ID != id || p.Ledger == nil ||
			p.Event != platform.KindCaseOpened && p.Event != platform.KindLedgerHead {
			t.Errorf("%s: %s", id, bodies[0])
		}
		if p.Event == platform.KindCaseOpened {
			opened++
		}
		for _, c := range append(receipts, "CANARY", "宿舍") {
			if bytes.Contains(bodies[0], []byte(c)) {
				t.Errorf("%s carries %q", id, c)
			}
		}
	}
	// At most the deliveries in flight at the kill (one pass: 4) came twice.
	if opened != 10 || dups < 1 || dups > 4 {
		t.Fatalf("%d reports' events, %d events delivered twice; want 10 and 1..4", opened, dups)
	}
	rx.mu.Lock()
	bad := rx.bad
	rx.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d bad signatures", bad)
	}
	// Nothing waits any more.
	m := MustOpenMain(t, withDataDir(dir))
	if waiting, abandoned, err := m.DB.WebhookCounts(ctx, "海淀区"); err != nil || waiting != 0 || abandoned != 0 {
		t.Fatalf("outbox: %d waiting, %d abandoned, %v", waiting, abandoned, err)
	}
}

// startWebhookChild starts TestWebhookCrashChild on dir and waits until it
// serves; extra is added to its environment.
func startWebhookChild(t *testing.T, dir string, logs *syncBuffer, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWebhookCrashChild$", "-test.v=false")
	cmd.Env = append(append(childEnv(dir), envWebhookDir+"="+dir), extra...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("child did not start:\n%s", logs.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child did not start in a minute:\n%s", logs.String())
	}
	return cmd
}

// TestWebhooksArriveOnceAcrossARestart: the node is stopped (SIGTERM, as
// a deploy does) while the platform holds a webhook; the delivery under
// way finishes and is recorded before the node exits, the next node sends
// the rest, and every event arrives exactly once — no duplicate even
// before dropping by id — signed, and without content.
func TestWebhooksArriveOnceAcrossARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	rx := newPlatformRx(t)
	canary := "CANARY-他们在宿舍打我"
	var receipts []string
	{
		m := MustOpenMain(t, withDataDir(dir))
		platformDistrict(t, m, rx)
		for i := range 10 {
			sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Role: hotline.ReporterVictim,
				Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: []string{fmt.Sprintf("%s %d", canary, i)}})
			if err != nil {
				t.Fatal(err)
			}
			receipts = append(receipts, sub.Receipt)
		}
		m.Close()
	}
	rx.mu.Lock()
	rx.hold = 4
	rx.mu.Unlock()
	logs := &syncBuffer{}
	first := startWebhookChild(t, dir, logs, envWebhookPatient+"=1")
	var heldID string
	select {
	case heldID = <-rx.held:
	case <-time.After(60 * time.Second):
		first.Process.Kill()
		first.Wait()
		t.Fatalf("no delivery was held:\n%s", logs.String())
	}
	first.Process.Signal(syscall.SIGTERM)
	close(rx.release)
	if err := first.Wait(); err != nil {
		t.Fatalf("first node after SIGTERM: %v\n%s", err, logs.String())
	}
	before := len(rx.ids())

	second := startWebhookChild(t, dir, logs, envWebhookPatient+"=1")
	deadline := time.Now().Add(90 * time.Second)
	for {
		opened := 0
		for _, b := range rx.ids() {
			if bytes.Contains(b[0], []byte(`"event":"case.opened"`)) {
				opened++
			}
		}
		if opened >= 10 {
			break
		}
		if time.Now().After(deadline) {
			second.Process.Kill()
			second.Wait()
			t.Fatalf("%d reports' events arrived:\n%s", opened, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Fatalf("second node after SIGTERM: %v\n%s", err, logs.String())
	}

	got := rx.ids()
	if before >= len(got) {
		t.Fatalf("the first node sent %d of %d: the restart was not in the middle", before, len(got))
	}
	opened := 0
	for id, bodies := range got {
		if len(bodies) != 1 {
			t.Errorf("%s arrived %d times", id, len(bodies))
		}
		var p platform.Payload
		if err := json.Unmarshal(bodies[0], &p); err != nil || p.ID != id || p.Ledger == nil {
			t.Errorf("%s: %s", id, bodies[0])
		}
		if p.Event == platform.KindCaseOpened {
			opened++
		}
		for _, c := range append(receipts, "CANARY", "宿舍") {
			if bytes.Contains(bodies[0], []byte(c)) {
				t.Errorf("%s carries %q", id, c)
			}
		}
	}
	if opened != 10 || len(got[heldID]) != 1 {
		t.Fatalf("got %d reports' events, the held one %d times; want 10 and 1", opened, len(got[heldID]))
	}
	rx.mu.Lock()
	bad := rx.bad
	rx.mu.Unlock()
	if bad != 0 {
		t.Fatalf("%d bad signatures", bad)
	}
	// Nothing that arrived waits to be sent again. (A head the scheduler
	// recorded just before the stop may wait, not yet sent: it is no
	// duplicate.)
	m := MustOpenMain(t, withDataDir(dir))
	rows, err := m.DB.WebhookRows(ctx, "海淀区", 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		waiting := r.DeliveredAt.IsZero() && r.AbandonedAt.IsZero()
		if !r.AbandonedAt.IsZero() || waiting && (len(got[r.EventID]) > 0 || r.Kind != platform.KindLedgerHead) {
			t.Errorf("outbox row %s (%s): delivered %v, abandoned %v, attempts %d, arrived %d times", r.EventID, r.Kind, !r.DeliveredAt.IsZero(), !r.AbandonedAt.IsZero(), r.Attempts, len(got[r.EventID]))
		}
	}
}

// TestPlatformSettingsOverHTTP: the officer links the platform on the
// settings page (the secret made and shown once), tests it, makes a token
// (shown once) that reads the statistics endpoint, revokes it; the events
// of a report arrive; and a report erased after the newest head inside is
// proven by the heads the platform received (ledger verify --heads).
func TestPlatformSettingsOverHTTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rx := newPlatformRx(t)
	m := MustOpenMain(t)
	officer := platformDistrict(t, m, rx)
	if err := m.Staff.ChangePassword(ctx, officer, districtPassword); err != nil {
		t.Fatal(err)
	}
	m.PlatformWorker.PollInterval = 50 * time.Millisecond // before Run starts it
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	f := &districtFixture{m: m}
	c := f.login(t, "officer", districtPassword)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := c.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		_, page := get("/district/settings")
		form.Set("csrf", between(page, `name="csrf" value="`, `"`))
		resp, err := c.PostForm(m.URL()+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	code, page := get("/district/settings")
	if code != 200 || !strings.Contains(page, `id="platform"`) || !strings.Contains(page, rx.srv.URL+"/…") {
		t.Fatalf("settings %d:\n%s", code, page)
	}
	if strings.Contains(page, "/hotline/events") || strings.Contains(page, webhookSecret) {
		t.Fatal("the settings page shows the endpoint's path or secret")
	}
	// A second endpoint with a secret made for it: shown once.
	code, page = post("/district/platform/endpoints", url.Values{"url": {rx.srv.URL + "/second"}})
	made := between(page, `id="new-secret">`, `<`)
	if code != 200 || len(made) < 32 {
		t.Fatalf("add endpoint %d, secret %q", code, made)
	}
	if _, again := get("/district/settings"); strings.Contains(again, made) {
		t.Fatal("the made secret is shown again")
	}
	if code, page = post("/district/platform/endpoints", url.Values{"url": {"http://example.cn/x"}}); code != 400 || !strings.Contains(page, "https://") {
		t.Fatalf("an http URL: %d", code)
	}
	eps, _ := m.Platform.Endpoints(ctx, officer)
	if code, page = post(fmt.Sprintf("/district/platform/endpoints/%d/test", eps[0].ID), url.Values{}); code != 200 || !strings.Contains(page, `id="platform-test"`) || !strings.Contains(page, "测试事件已送达") {
		t.Fatalf("test %d:\n%s", code, between(page, `id="platform"`, `</section>`))
	}
	// The statistics endpoint, with a token shown once.
	code, page = post("/district/platform/tokens", url.Values{"label": {"平安校园平台"}})
	token := between(page, `id="new-token">`, `<`)
	if code != 200 || !strings.HasPrefix(token, "hls_") {
		t.Fatalf("token %d %q", code, token)
	}
	api := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", m.URL()+"/api/district/v1/stats", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	if code, body := api(token); code != 200 || !strings.Contains(body, `"district": "海淀区"`) || !strings.Contains(body, `"code": "no3"`) || strings.Contains(body, "CANARY") {
		t.Fatalf("stats %d:\n%s", code, body)
	}
	toks, _ := m.Platform.Tokens(ctx, officer)
	if code, _ := post(fmt.Sprintf("/district/platform/tokens/%d/revoke", toks[0].ID), url.Values{}); code != 200 {
		t.Fatalf("revoke %d", code)
	}
	if code, _ := api(token); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
	// The heads page lists what left; the overview links it. (Pages and the
	// statistics endpoint come before the report below: each checks the
	// ledger's new events, and the point it reaches would vouch for it.)
	if code, page := get("/district/"); code != 200 || !strings.Contains(page, `href="/district/ledger/heads"`) {
		t.Fatalf("overview %d", code)
	}
	if code, _ := get("/district/ledger/heads"); code != 200 {
		t.Fatalf("heads %d", code)
	}
	sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{"CANARY-要被删掉的报告"}})
	if err != nil {
		t.Fatal(err)
	}
	// The report's case.opened arrives with its head.
	var opened platform.Payload
	for deadline := time.Now().Add(30 * time.Second); opened.ID == ""; {
		for _, bodies := range rx.ids() {
			var p platform.Payload
			json.Unmarshal(bodies[0], &p)
			if p.Event == platform.KindCaseOpened && p.Case.ID == sub.TipUID {
				opened = p
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("case.opened did not arrive")
		}
		time.Sleep(50 * time.Millisecond)
	}
	dir := m.Config.DataDir
	m.Close()

	// Erase the report and its events, after the newest head inside: the
	// chain inside is whole, the platform's heads prove the cut.
	heads := filepath.Join(t.TempDir(), "platform.jsonl")
	var lines []string
	rx.mu.Lock()
	for _, id := range rx.order {
		lines = append(lines, string(rx.bodies[id][0]))
	}
	rx.mu.Unlock()
	os.WriteFile(heads, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	d := tailCopy(t, dir)
	db := tailDB(t, d)
	tip, err := db.TipByUID(ctx, sub.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM ledger WHERE seq >= ?`, `DELETE FROM messages WHERE tip_id = ?`, `DELETE FROM tips WHERE id = ?`} {
		arg := tip.ID
		if strings.Contains(q, "ledger") {
			arg = opened.Ledger.Seq
		}
		if _, err := db.Writer().Exec(db.Writer().Rebind(q), arg); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if code, out, errs := tailCLI(t, "ledger", "verify", "--data", d); code != 0 {
		t.Fatalf("inside alone: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := tailCLI(t, "ledger", "verify", "--data", d, "--heads", heads); code != 1 || !strings.Contains(out, "deleted from the end") {
		t.Fatalf("with the platform's heads: exit %d\n%s%s", code, out, errs)
	}
}
