package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/photo"
	"hotline/internal/staff"
	"hotline/internal/testsupport"
	"hotline/internal/vault"
)

// cheapArgon keeps password derivations fast in tests; production uses
// the defaults (t=3, 64 MiB, p=4).
var cheapArgon = vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

// foundationMain boots the real program on 127.0.0.1:0 with dir as its data
// directory, and closes it at the end of the test.
func foundationMain(tb testing.TB, dir string) *Main {
	tb.Helper()
	return MustRunMain(tb, withDataDir(dir))
}

func TestCLIInitSchoolAddAndCounselorAdd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	ctx := context.Background()
	if code := run(ctx, []string{"init", "--data", dir}, nil, &out, &errb); code != 0 {
		t.Fatalf("init exit %d: %s", code, errb.String())
	}
	if fi, err := os.Stat(filepath.Join(dir, "server.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("server key: %v %v", fi, err)
	}
	if code := run(ctx, []string{"district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"}, nil, &out, &errb); code != 0 {
		t.Fatalf("district add exit %d: %s", code, errb.String())
	}
	out.Reset()
	if code := run(ctx, []string{"school", "add", "--data", dir, "--name", "第三中学", "--code", "no3", "--district", "海淀区"}, nil, &out, &errb); code != 0 {
		t.Fatalf("school add exit %d: %s", code, errb.String())
	}
	recovery := lineAfter(t, out.String(), "Recovery key")
	otp := fieldAfter(t, out.String(), "one-time password:")
	if _, err := vault.ParseRecoveryKey(recovery); err != nil {
		t.Fatalf("printed recovery key %q: %v", recovery, err)
	}
	// The first admin logs in with the one-time password.
	m := MustOpenMain(t, withDataDir(dir))
	adminUser := fieldAfter(t, out.String(), "username:")
	if strings.Contains(adminUser, "no3") {
		t.Errorf("admin username %q is derived from the public school code", adminUser)
	}
	sess, err := m.Staff.Authenticate(ctx, adminUser, otp)
	if err != nil || !sess.Counselor.MustChangePassword || sess.Counselor.Role != hotline.RoleAdmin {
		t.Fatalf("admin log-in: %+v %v", sess, err)
	}
	sess.Wipe()
	m.Close()
	// counselor add needs the recovery key on stdin.
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"counselor", "add", "--data", dir, "--school", "no3", "--username", "wang"}, strings.NewReader("wrong-key\n"), &out, &errb); code == 0 {
		t.Fatal("counselor add with a wrong recovery key succeeded")
	}
	if code := run(ctx, []string{"counselor", "add", "--data", dir, "--school", "no3", "--username", "wang", "--name", "王老师"}, strings.NewReader(recovery+"\n"), &out, &errb); code != 0 {
		t.Fatalf("counselor add exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "wang") || !strings.Contains(out.String(), "one-time password") {
		t.Fatalf("counselor add printed %q", out.String())
	}
	// Usage errors exit 2 with help.
	if code := run(ctx, []string{"school", "add", "--data", dir}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("school add without flags: exit %d, want 2", code)
	}
	if code := run(ctx, []string{"nope"}, nil, io.Discard, io.Discard); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
	out.Reset()
	if code := run(ctx, []string{"help"}, nil, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "demo") {
		t.Fatalf("help: %d %q", code, out.String())
	}
}

func lineAfter(t *testing.T, s, marker string) string {
	t.Helper()
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, marker) {
			for _, next := range lines[i+1:] {
				if f := strings.TrimSpace(next); f != "" {
					return f
				}
			}
		}
	}
	t.Fatalf("no %q in output:\n%s", marker, s)
	return ""
}

func fieldAfter(t *testing.T, s, marker string) string {
	t.Helper()
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("no %q in output:\n%s", marker, s)
	}
	return strings.Fields(s[i+len(marker):])[0]
}

// Not parallel: the demo derives its log-ins' keys with the production
// argon2id cost, which beside the package's other tests took more than a
// minute under -race to print the address; the three minutes are a hang
// guard, not a speed bound.
func TestDemoServesHealthz(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "error"}, nil, &out, io.Discard)
	}()
	var base string
	deadline := time.Now().Add(3 * time.Minute)
	for base == "" {
		if time.Now().After(deadline) {
			t.Fatalf("demo printed no address:\n%s", out.String())
		}
		if s := out.String(); strings.Contains(s, "/healthz") {
			i := strings.Index(s, "http://")
			base = strings.Fields(s[i:])[0]
			base = strings.TrimSuffix(base, "/inbox/")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"demo", demoPassword, "/c/demo", "/m/demo", "/demo/phones"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	// The demo serves the simulated phones, both of them.
	resp, err = http.Get(base + "/demo/phones")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `id="tg-start"`) || !strings.Contains(string(body), `id="wx-follow"`) {
		t.Fatalf("/demo/phones: %d\n%s", resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exit %d", code)
	}
	// The demo counselor's log-in works, and sample tips are in the queue.
	m := MustOpenMain(t, withDataDir(dir))
	sess, err := m.Staff.Authenticate(context.Background(), demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Wipe()
	tips, _, err := m.Triage.Queue(context.Background(), sess.Actor(), hotline.TipFilter{})
	if err != nil || len(tips) != len(demoTips) {
		t.Fatalf("demo queue: %d tips, %v", len(tips), err)
	}
	if !tips[0].Urgent {
		t.Error("the urgent sample tip is not first in the queue")
	}
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer = testsupport.SyncBuffer

// TestNothingReadableAtRest submits tips whose content, receipts, chat ids
// and photos are random canaries, closes everything, and scans every file of
// the data directory byte by byte: none may appear. Then it reopens and
// reads every tip with the school key, unwrapped once by a counselor's
// password and once by the recovery key.
func TestNothingReadableAtRest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := foundationMain(t, dir)
	ctx := context.Background()
	created, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "海淀区"})
	if err != nil {
		t.Fatal(err)
	}
	canary := func(prefix string) string { return fmt.Sprintf("%s-%016x", prefix, rand.Uint64()) }
	var canaries [][]byte
	want := map[string][]string{} // tip uid → bodies
	add := func(b []byte) { canaries = append(canaries, b) }
	for i := 0; i < 12; i++ {
		text := canary("内容CANARY") + " 他们在厕所打我"
		sub := hotline.Submission{SchoolCode: "no3", Channel: []hotline.Channel{hotline.ChannelWebchat, hotline.ChannelTelegram, hotline.ChannelMailbox}[i%3], Texts: []string{text}}
		if sub.Channel == hotline.ChannelTelegram {
			sub.ChatID = 5_000_000_000 + rand.Int64N(1_000_000_000)
			add([]byte(strconv.FormatInt(sub.ChatID, 10)))
			add(binary.LittleEndian.AppendUint64(nil, uint64(sub.ChatID)))
			add(binary.BigEndian.AppendUint64(nil, uint64(sub.ChatID)))
		}
		if i%4 == 0 {
			p, err := photo.Clean(canaryPNG(t, i))
			if err != nil {
				t.Fatal(err)
			}
			sub.Photos = []hotline.Photo{*p}
			add(p.Data[len(p.Data)/2 : len(p.Data)/2+24])
		}
		res, err := m.Intake.Submit(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		add([]byte(text))
		add([]byte(strings.SplitN(text, " ", 2)[0]))
		if res.Receipt != "" {
			add([]byte(res.Receipt))
			add([]byte(strings.ReplaceAll(res.Receipt, "-", "")))
			follow := canary("FOLLOWUP")
			if _, err := m.Intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: res.Receipt}, follow, nil); err != nil {
				t.Fatal(err)
			}
			add([]byte(follow))
			want[res.TipUID] = append(want[res.TipUID], text, follow)
		} else {
			want[res.TipUID] = append(want[res.TipUID], text)
		}
	}
	admin, err := m.Staff.Authenticate(ctx, created.Admin.Username, created.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	for uid := range want {
		reply := canary("REPLY")
		if _, err := m.Triage.Reply(ctx, admin.Actor(), uid, reply, nil); err != nil {
			t.Fatal(err)
		}
		note := canary("NOTE")
		if _, err := m.Triage.Note(ctx, admin.Actor(), uid, note); err != nil {
			t.Fatal(err)
		}
		add([]byte(reply))
		add([]byte(note))
		want[uid] = append(want[uid], reply, note)
	}
	const password = "a long counselor password"
	if err := m.Staff.ChangePassword(ctx, admin, password); err != nil {
		t.Fatal(err)
	}
	add([]byte(password))
	add([]byte(created.RecoveryKey))
	admin.Wipe()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	scanDataDir(t, dir, canaries)

	// Reopen: every tip opens with the key from the password and from the
	// recovery key.
	m2 := foundationMain(t, dir)
	byPassword, err := m2.Staff.Authenticate(ctx, created.Admin.Username, password)
	if err != nil {
		t.Fatal(err)
	}
	defer byPassword.Wipe()
	wrapped, err := m2.DB.SchoolRecoveryWrapped(ctx, created.School.ID)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := vault.UnwrapWithRecoveryKey(wrapped, created.RecoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	byRecovery := &staff.Session{Counselor: byPassword.Counselor, Key: rk}
	defer byRecovery.Wipe()
	for name, sess := range map[string]*staff.Session{"password": byPassword, "recovery key": byRecovery} {
		for uid, bodies := range want {
			_, msgs, err := m2.Triage.Thread(ctx, sess, uid)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []string
			for _, msg := range msgs {
				if msg.Body != "" {
					got = append(got, msg.Body)
				}
			}
			if strings.Join(got, "|") != strings.Join(bodies, "|") {
				t.Fatalf("%s: thread %s\n got %q\nwant %q", name, uid, got, bodies)
			}
		}
	}
	// A wrong password is a clear error and leaves no session.
	if s, err := m2.Staff.Authenticate(ctx, created.Admin.Username, "wrong password"); err == nil || s != nil || hotline.ErrorMessage(err, hotline.LangEN) != "Wrong username or password." {
		t.Fatalf("wrong password: %v %v", s, err)
	}
}

// canaryPNG is a small noisy PNG, different per n.
func canaryPNG(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	writeNoisePNG(&buf, 80, 60, uint64(n))
	return buf.Bytes()
}

// TestCrashSafety runs intake under load in a child process and kills it
// with SIGKILL at random moments: every tip whose submission returned
// before the kill must be there afterwards, and the database must be intact.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash rounds take a few seconds")
	}
	dir := t.TempDir()
	{
		m := MustOpenMain(t, withDataDir(dir))
		if _, err := m.Staff.CreateSchool(context.Background(), staff.NewSchool{Code: "crash", Name: "崩溃测试中学"}); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	acked := map[string]bool{}
	for round := 0; round < 12; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v=false")
		cmd.Env = append(childEnv(dir), "HOTLINE_CRASH_CHILD="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait until the child is submitting, then kill it at a random moment.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("round %d: child printed nothing", round)
		}
		time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		got := append([]string{first}, drain(lines)...)
		cmd.Wait()
		n := 0
		for _, l := range got {
			if uid, ok := strings.CutPrefix(l, "ACK "); ok {
				acked[uid] = true
				n++
			}
		}
		if n == 0 {
			t.Fatalf("round %d: no submission acknowledged", round)
		}
	}
	m := MustOpenMain(t, withDataDir(dir))
	ctx := context.Background()
	if ok, err := m.DB.IntegrityCheck(ctx); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	for uid := range acked {
		if _, err := m.DB.TipByUID(ctx, uid); err != nil {
			t.Fatalf("acknowledged tip %s lost: %v", uid, err)
		}
	}
	if res, err := m.DB.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("ledger after crashes: %+v %v", res, err)
	}
	t.Logf("%d acknowledged tips survived 12 SIGKILLs", len(acked))
}

func drain(c chan string) []string {
	var out []string
	for l := range c {
		out = append(out, l)
	}
	return out
}

// TestCrashChild is the child of TestCrashSafety: it submits tips from
// several goroutines and prints each UID only after Submit returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("HOTLINE_CRASH_CHILD")
	if dir == "" {
		t.Skip("only runs as TestCrashSafety's child")
	}
	m := NewMain()
	m.Config.DataDir = dir
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	out := os.Stdout
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := m.Intake.Submit(context.Background(), hotline.Submission{SchoolCode: "crash", Channel: hotline.ChannelWebchat, Texts: []string{"崩溃测试 crash test"}})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					continue
				}
				mu.Lock()
				// One write per line, straight to the pipe: what the parent
				// reads was acknowledged before the kill.
				out.WriteString("ACK " + res.TipUID + "\n")
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestDemoDistrictSeesOnlyTheEscalatedCase: the demo's district officer
// reads the one escalated sample case and no other.
func TestDemoDistrictSeesOnlyTheEscalatedCase(t *testing.T) {
	t.Parallel()
	m := foundationMain(t, t.TempDir())
	ctx := context.Background()
	if err := seedDemo(ctx, m, io.Discard); err != nil {
		t.Fatal(err)
	}
	officer, err := m.Staff.Authenticate(ctx, demoOfficer, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer officer.Wipe()
	admin, err := m.Staff.Authenticate(ctx, demoUser, demoPassword)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Wipe()
	tips, _, err := m.Triage.Queue(ctx, admin.Actor(), hotline.TipFilter{})
	if err != nil {
		t.Fatal(err)
	}
	readable := 0
	for _, tip := range tips {
		_, msgs, err := m.Triage.Thread(ctx, officer, tip.UID)
		if tip.Escalated {
			if err != nil || len(msgs) == 0 || msgs[0].Body == "" {
				t.Fatalf("escalated case unreadable by the district: %v", err)
			}
			readable++
		} else if hotline.ErrorCode(err) != hotline.ENOTFOUND {
			t.Fatalf("district reads a case that was not escalated: %v", err)
		}
	}
	if readable != 1 {
		t.Fatalf("district reads %d demo cases, want 1", readable)
	}
}
