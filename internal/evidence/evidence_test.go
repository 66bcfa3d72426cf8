package evidence_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/evidence"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/ledger"
	"hotline/internal/pgtest"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/testsupport"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// TestMain runs every test of the package on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Words of the fixture: the pupil's, a counselor's reply, a note, and what
// another school's case says (it must never appear in this case's bundle).
const (
	pupilWords = "初二三个男生在操场后面打人并抢走书包，我很害怕。"
	replyWords = "谢谢你告诉我们。王老师今天下午会去操场看看。"
	noteWords  = "内部备注：已联系班主任核实。"
	otherWords = "另一所学校的报告内容"
	reference  = "公安机关调取证据通知书 2026-117 号"
)

type env struct {
	t       *testing.T
	path    string // the database: a SQLite file, or the PostgreSQL database standing for it
	vault   *vault.Vault
	db      *store.DB
	clock   *testsupport.Clock
	staff   *staff.Service
	triage  *triage.Service
	intake  *intake.Service
	ev      *evidence.Service
	admin   *staff.Session // no3's admin
	wang    *staff.Session // no3's counselor
	admin7  *staff.Session // no7's admin (same district)
	officer *staff.Session
	tipUID  string
}

func newEnv(t *testing.T) *env { return buildEnv(t, false) }

// buildEnv builds the fixture; with upgraded, the server ran a release
// before version 2 events until just after the case was filed (its first
// event and the other school's around it are version 1), then was
// upgraded.
func buildEnv(t *testing.T, upgraded bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, path: filepath.Join(t.TempDir(), "h.db"), clock: testsupport.NewClock(time.Date(2026, 5, 11, 1, 0, 0, 0, time.UTC))}
	var err error
	e.vault, err = vault.New(make([]byte, 32), vault.Options{Argon: vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e.open()
	d, err := e.staff.CreateDistrict(ctx, "海淀区", "officer1")
	if err != nil {
		t.Fatal(err)
	}
	e.officer = e.login("officer1", d.OfficerPassword)
	for _, code := range []string{"no3", "no7"} {
		cs, err := e.staff.CreateSchool(ctx, staff.NewSchool{Code: code, Name: "第" + code[2:] + "中学", NameEN: "No. " + code[2:] + " Middle School", District: "海淀区", AdminUsername: "admin-" + code})
		if err != nil {
			t.Fatal(err)
		}
		sess := e.login("admin-"+code, cs.AdminPassword)
		if code == "no3" {
			e.admin = sess
		} else {
			e.admin7 = sess
		}
	}
	_, otp, err := e.staff.AddCounselor(ctx, e.admin, "wang", "王老师", hotline.RoleCounselor)
	if err != nil {
		t.Fatal(err)
	}
	e.wang = e.login("wang", otp)

	// The case: a report with a photo, other schools' reports around it,
	// a reply, a note, severity, a step, escalation.
	e.submit("no7", otherWords)
	sub := e.submit("no3", pupilWords, photo(t))
	e.tipUID = sub.TipUID
	e.submit("no7", otherWords)
	if upgraded {
		e.toVersion1()
		e.db.Close()
		e.open()
	}
	e.tick(time.Hour)
	if err := e.triage.SetStatus(ctx, e.wang.Actor(), e.tipUID, hotline.StatusAcknowledged); err != nil {
		t.Fatal(err)
	}
	if _, err := e.triage.Reply(ctx, e.wang.Actor(), e.tipUID, replyWords, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.triage.Note(ctx, e.wang.Actor(), e.tipUID, noteWords); err != nil {
		t.Fatal(err)
	}
	e.submit("no7", otherWords)
	if err := e.triage.SetSeverity(ctx, e.admin.Actor(), e.tipUID, hotline.SeveritySevere); err != nil {
		t.Fatal(err)
	}
	if err := e.triage.RecordStep(ctx, e.admin.Actor(), e.tipUID, hotline.StepParentsInformed, true); err != nil {
		t.Fatal(err)
	}
	if err := e.triage.Escalate(ctx, e.admin, e.tipUID); err != nil {
		t.Fatal(err)
	}
	e.tick(time.Hour)
	return e
}

// open opens the database and the services over it.
func (e *env) open() {
	e.t.Helper()
	db := testsupport.OpenStoreAt(e.t, e.path) // the same database again, as a restart opens it
	db.Clock = e.clock
	e.db = db
	e.staff, e.triage = staff.New(db, e.vault, nil), triage.New(db, e.vault, nil, nil)
	e.intake = intake.New(db, e.vault, nil, nil)
	e.t.Cleanup(e.intake.Close)
	e.ev = evidence.New(db, e.triage, nil)
}

// toVersion1 rewrites the whole ledger as a release before version 2
// wrote it: no salts, each hash over the fields directly, the heads
// recorded so far re-pointed at the new hashes. Close and reopen the
// database after (the store keeps its head in memory).
func (e *env) toVersion1() {
	e.t.Helper()
	ctx := context.Background()
	w := e.db.Writer()
	var rows []struct {
		Seq      int64  `db:"seq"`
		SchoolID int64  `db:"school_id"`
		TipID    int64  `db:"tip_id"`
		Alias    string `db:"alias"`
		Kind     string `db:"kind"`
		Detail   string `db:"detail"`
		ActorID  int64  `db:"actor_id"`
		At       int64  `db:"at"`
	}
	if err := w.SelectContext(ctx, &rows, `SELECT seq, school_id, tip_id, alias, kind, detail, actor_id, at FROM ledger ORDER BY seq`); err != nil {
		e.t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		e.t.Helper()
		if _, err := w.ExecContext(ctx, w.Rebind(q), args...); err != nil {
			e.t.Fatal(err)
		}
	}
	prev := ledger.Genesis
	for _, r := range rows {
		ev := &hotline.Event{Seq: r.Seq, SchoolID: r.SchoolID, TipID: r.TipID, Alias: r.Alias, Kind: hotline.EventKind(r.Kind), Detail: r.Detail,
			ActorID: r.ActorID, At: time.UnixMicro(r.At).UTC()}
		ledger.Seal(prev, ev)
		exec(`UPDATE ledger SET salt = NULL, prev_hash = ?, hash = ? WHERE seq = ?`, ev.PrevHash, ev.Hash, ev.Seq)
		exec(`UPDATE ledger_checkpoints SET hash = ? WHERE seq = ?`, ev.Hash, ev.Seq)
		exec(`UPDATE ledger_heads SET hash = ? WHERE seq = ?`, ev.Hash, ev.Seq)
		exec(`UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`, ev.Seq, ev.Hash)
		prev = ev.Hash
	}
	exec(`DELETE FROM ledger_verified`)
	if res, err := e.db.VerifyLedger(ctx); err != nil || !res.OK() {
		e.t.Fatalf("the ledger rewritten as version 1: %+v %v", res, err)
	}
}

func (e *env) tick(d time.Duration) { e.clock.Add(d) }

func (e *env) login(user, password string) *staff.Session {
	e.t.Helper()
	sess, err := e.staff.Authenticate(context.Background(), user, password)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(sess.Wipe)
	return sess
}

func (e *env) submit(code, text string, photos ...hotline.Photo) *hotline.Submitted {
	e.t.Helper()
	e.tick(time.Minute)
	sub, err := e.intake.Submit(context.Background(), hotline.Submission{SchoolCode: code, Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
		Category: hotline.CategoryPhysical, Lang: hotline.LangZH, Texts: []string{text}, Photos: photos})
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// photo is a small JPEG with a pattern (intake re-encodes it).
func photo(t *testing.T) hotline.Photo {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return hotline.Photo{Data: b.Bytes(), Type: "image/jpeg"}
}

// export prepares and writes a bundle as sess.
func (e *env) export(sess *staff.Session, req evidence.Request) ([]byte, *evidence.Export) {
	e.t.Helper()
	x, err := e.ev.Prepare(context.Background(), sess, e.tipUID, req)
	if err != nil {
		e.t.Fatal(err)
	}
	var b bytes.Buffer
	if err := x.WriteTo(context.Background(), &b); err != nil {
		e.t.Fatal(err)
	}
	return b.Bytes(), x
}

func verify(b []byte, heads ...ledger.Anchor) (*evidence.Report, error) {
	return evidence.Verify(bytes.NewReader(b), int64(len(b)), heads)
}

// unzip returns the bundle's files.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// rezip writes files back into a bundle, in the order names gives.
func rezip(t *testing.T, files map[string][]byte, names []string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func names(files map[string][]byte) []string {
	var out []string
	for n := range files {
		out = append(out, n)
	}
	return out
}

// TestFreshBundleVerifies: a counselor's bundle checks, holds the thread
// with who wrote what, the photo, the steps and deadlines, and nothing of
// another case, the receipt or the reporter's key; the export is in the
// ledger (as a head) and the audit trail with its reason.
func TestFreshBundleVerifies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, x := e.export(e.wang, evidence.Request{Reason: hotline.ExportPolice, Reference: reference})
	rep, err := verify(b)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Manifest
	if m.Bundle != x.ID() || m.ExportedBy.Name != "王老师" || m.Reason.Kind != hotline.ExportPolice || m.Reason.Reference != reference || m.NotesIncluded {
		t.Fatalf("manifest: %+v", m)
	}
	if rep.CaseEvents < 7 || rep.Digests < 2 || rep.WholeOthers != 0 {
		t.Fatalf("ledger: %d case events, %d digests, %d whole others", rep.CaseEvents, rep.Digests, rep.WholeOthers)
	}
	files := unzip(t, b)
	for _, n := range []string{"README.txt", "case.pdf", "case.json", "ledger.jsonl", "manifest.json", "photos/01.jpg"} {
		if len(files[n]) == 0 {
			t.Errorf("%s missing", n)
		}
	}
	var doc evidence.CaseDoc
	if err := json.Unmarshal(files["case.json"], &doc); err != nil {
		t.Fatal(err)
	}
	// The pupil's words, their photo (a message of its own), the reply.
	if len(doc.Thread) != 3 || doc.Thread[0].Text != pupilWords || doc.Thread[0].Name != doc.Case.Alias.String() || doc.Thread[1].Photo != "photos/01.jpg" ||
		doc.Thread[2].Text != replyWords || doc.Thread[2].Name != "王老师" || doc.Thread[2].Author != "counselor" || doc.NotesLeftOut != 1 {
		t.Fatalf("thread: %+v (notes left out %d)", doc.Thread, doc.NotesLeftOut)
	}
	if !bytes.HasPrefix(files["photos/01.jpg"], []byte{0xff, 0xd8}) {
		t.Fatal("the photo is not a JPEG")
	}
	var parents, replied bool
	for _, s := range doc.Steps {
		parents = parents || s.Step.Value == string(hotline.StepParentsInformed) && s.Done && s.At != nil
	}
	for _, d := range doc.Deadlines {
		replied = replied || d.Kind.Value == "reply" && d.Outcome == evidence.OutcomeMet
		if d.DoneAt != nil && (d.Outcome == evidence.OutcomeMet) != !d.DoneAt.After(d.Due) {
			t.Errorf("deadline %s: done %v, due %v, outcome %s", d.Kind.Value, d.DoneAt, d.Due, d.Outcome)
		}
	}
	if !parents || !replied || len(doc.StatusHistory) < 2 {
		t.Fatalf("steps %+v deadlines %+v history %+v", doc.Steps, doc.Deadlines, doc.StatusHistory)
	}
	// Nothing of the other school's cases, no receipt, no reporter key,
	// no note.
	tip, err := e.db.TipByUID(ctx, e.tipUID)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if strings.HasSuffix(name, ".pdf") || strings.HasPrefix(name, "photos/") {
			continue // compressed: their text is scanned in TestPDFHasTheChineseText
		}
		for _, bad := range []string{otherWords, noteWords, "第7中学", "no7"} {
			if bytes.Contains(data, []byte(bad)) {
				t.Errorf("%s holds %q", name, bad)
			}
		}
		if len(tip.ReporterKey) > 0 && (bytes.Contains(data, tip.ReporterKey) || bytes.Contains(data, []byte(hex.EncodeToString(tip.ReporterKey)))) {
			t.Errorf("%s holds the reporter's key", name)
		}
	}
	// The export is the case's last event, a recorded head, and audited.
	evs, _ := e.db.TipEvents(ctx, tip.ID)
	last := evs[len(evs)-1]
	if last.Kind != hotline.EventEvidenceExported || !strings.Contains(last.Detail, "bundle="+x.ID()) || !strings.Contains(last.Detail, "content="+m.ContentDigest) ||
		strings.Contains(last.Detail, reference) {
		t.Fatalf("export event %+v", last)
	}
	cps, _ := e.db.LedgerCheckpoints(ctx)
	if len(cps) == 0 || cps[len(cps)-1].Seq != last.Seq {
		t.Fatal("the export is not a recorded head")
	}
	audit, err := e.db.Audit(ctx, store.AuditFilter{District: "海淀区", Kind: hotline.AuditEvidence})
	if err != nil || len(audit) != 1 || !strings.Contains(audit[0].Detail, reference) || !strings.Contains(audit[0].Detail, x.ID()) || audit[0].TipID != tip.ID {
		t.Fatalf("audit %+v %v", audit, err)
	}
	// A head held outside inside the span checks; the bundle's own head
	// in short form too.
	hs := fmt.Sprintf("%d:%s", x.Head().Seq, x.Head().Short)
	a, _ := ledger.ParseAnchor(hs)
	if _, err := verify(b, a); err != nil {
		t.Fatalf("own head: %v", err)
	}
	a.Seq = m.Ledger.First - 1
	if _, err := verify(b, a); err == nil || !strings.Contains(err.Error(), "outside this bundle") {
		t.Fatalf("head before the span: %v", err)
	}
	// With notes: the note is in, and the PDF, JSON and digest change.
	b2, _ := e.export(e.wang, evidence.Request{Reason: hotline.ExportHearing, IncludeNotes: true})
	if _, err := verify(b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(unzip(t, b2)["case.json"], []byte(noteWords)) {
		t.Fatal("the note is missing when asked for")
	}
}

// TestTamperedBundleFails: any change to an event, a hash, a byte of the
// thread (PDF, JSON, photo) or the manifest fails the check, each with
// where.
func TestTamperedBundleFails(t *testing.T) {
	e := newEnv(t)
	b, _ := e.export(e.admin, evidence.Request{Reason: hotline.ExportPolice})
	clean := unzip(t, b)
	var m evidence.Manifest
	json.Unmarshal(clean["manifest.json"], &m)
	lines := strings.Split(strings.TrimSpace(string(clean["ledger.jsonl"])), "\n")
	// ledgerEdit edits one line of ledger.jsonl and fixes its digest in
	// the manifest: the forger's best effort.
	ledgerEdit := func(f func([]string) []string) func(map[string][]byte) {
		return func(files map[string][]byte) {
			ls := f(append([]string(nil), lines...))
			files["ledger.jsonl"] = []byte(strings.Join(ls, "\n") + "\n")
			fixDigest(files, "ledger.jsonl")
		}
	}
	edit := func(i int, from, to string) func([]string) []string {
		return func(ls []string) []string {
			if !strings.Contains(ls[i], from) {
				t.Fatalf("line %d has no %q: %s", i, from, ls[i])
			}
			ls[i] = strings.Replace(ls[i], from, to, 1)
			return ls
		}
	}
	firstDigest, secondOwn := -1, -1
	for i, l := range lines {
		if strings.Contains(l, `"body"`) && firstDigest < 0 {
			firstDigest = i
		}
		if i > 0 && strings.Contains(l, `"kind"`) && secondOwn < 0 {
			secondOwn = i
		}
	}
	for _, tc := range []struct {
		name  string
		do    func(map[string][]byte)
		where string
	}{
		{"a byte of the PDF", func(f map[string][]byte) { f["case.pdf"][len(f["case.pdf"])/2] ^= 1 }, "case.pdf"},
		{"a byte of the thread in case.json", func(f map[string][]byte) {
			f["case.json"] = bytes.Replace(f["case.json"], []byte("抢走书包"), []byte("拿走书包"), 1)
		}, "case.json"},
		{"the thread, digest fixed in the manifest", func(f map[string][]byte) {
			f["case.json"] = bytes.Replace(f["case.json"], []byte("抢走书包"), []byte("拿走书包"), 1)
			fixDigest(f, "case.json")
		}, "manifest.json"},
		{"the thread, digest and content digest fixed", func(f map[string][]byte) {
			f["case.json"] = bytes.Replace(f["case.json"], []byte("抢走书包"), []byte("拿走书包"), 1)
			fixDigest(f, "case.json")
			fixContentDigest(f)
		}, "ledger event"},
		{"a photo", func(f map[string][]byte) { f["photos/01.jpg"][100] ^= 0xff }, "photos/01.jpg"},
		{"an event's kind", ledgerEdit(edit(0, `"kind":"received"`, `"kind":"closed"`)), "ledger event"},
		{"an event's time", ledgerEdit(func(ls []string) []string { return edit(secondOwn, `"at":"2026`, `"at":"2025`)(ls) }), "ledger event"},
		{"an event's hash", ledgerEdit(func(ls []string) []string {
			i := strings.Index(ls[0], `"hash":"`) + len(`"hash":"`)
			c := "0"
			if ls[0][i] == '0' {
				c = "1"
			}
			ls[0] = ls[0][:i] + c + ls[0][i+1:]
			return ls
		}), "ledger event"},
		{"another case's digest", ledgerEdit(func(ls []string) []string {
			i := strings.Index(ls[firstDigest], `"body":"`) + len(`"body":"`)
			c := "a"
			if ls[firstDigest][i] == 'a' {
				c = "b"
			}
			ls[firstDigest] = ls[firstDigest][:i] + c + ls[firstDigest][i+1:]
			return ls
		}), "ledger event"}, // the next event of the case no longer follows
		{"an event deleted", ledgerEdit(func(ls []string) []string { return append(ls[:2], ls[3:]...) }), "ledger.jsonl"},
		{"two events swapped", ledgerEdit(func(ls []string) []string { ls[1], ls[2] = ls[2], ls[1]; return ls }), "ledger.jsonl"},
		{"the case's event hidden as a digest", ledgerEdit(func(ls []string) []string {
			var en evidence.Entry
			json.Unmarshal([]byte(ls[secondOwn]), &en)
			ls[secondOwn] = fmt.Sprintf(`{"seq":%d,"tip_id":%d,"body":"%s"}`, en.Seq, en.TipID+1000, strings.Repeat("ab", 32))
			return ls
		}), "ledger"},
		{"the head in the manifest", func(f map[string][]byte) {
			f["manifest.json"] = bytes.Replace(f["manifest.json"], []byte(m.Ledger.Head.Hash), []byte(strings.Repeat("0", 64)), 1)
		}, "manifest.json"},
		{"a file added", func(f map[string][]byte) { f["extra.txt"] = []byte("x") }, "extra.txt"},
		{"a file removed", func(f map[string][]byte) { delete(f, "photos/01.jpg") }, "photos/01.jpg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := unzip(t, b)
			tc.do(files)
			_, err := verify(rezip(t, files, names(files)))
			var f *evidence.Failure
			if !errors.As(err, &f) {
				t.Fatalf("got %v, want a failure", err)
			}
			if !strings.Contains(f.Where, tc.where) {
				t.Fatalf("failed at %q (%s), want %q", f.Where, f.Reason, tc.where)
			}
		})
	}
	// The untouched files, zipped again, still check: the test's rezip is
	// not what fails them.
	if _, err := verify(rezip(t, clean, names(clean))); err != nil {
		t.Fatalf("clean re-zip: %v", err)
	}
}

func fixDigest(files map[string][]byte, name string) {
	var m map[string]any
	json.Unmarshal(files["manifest.json"], &m)
	for _, f := range m["files"].([]any) {
		f := f.(map[string]any)
		if f["name"] == name {
			sum := sha256Hex(files[name])
			f["sha256"], f["size"] = sum, len(files[name])
		}
	}
	files["manifest.json"], _ = json.Marshal(m)
}

func fixContentDigest(files map[string][]byte) {
	var m evidence.Manifest
	json.Unmarshal(files["manifest.json"], &m)
	var raw map[string]any
	json.Unmarshal(files["manifest.json"], &raw)
	raw["content_digest"] = evidence.ContentDigest(m.Files)
	files["manifest.json"], _ = json.Marshal(raw)
}

// TestPDFHasTheChineseText: the PDF renders (pdftoppm draws its pages) and
// carries its text as text (pdftotext finds the pupil's words and the
// labels, Chinese first).
func TestPDFHasTheChineseText(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s missing (Debian's poppler-utils)", tool)
			}
			t.Skipf("%s missing (Debian's poppler-utils)", tool)
		}
	}
	e := newEnv(t)
	b, x := e.export(e.wang, evidence.Request{Reason: hotline.ExportPolice, Reference: reference})
	dir := t.TempDir()
	pdf := filepath.Join(dir, "case.pdf")
	if err := os.WriteFile(pdf, unzip(t, b)["case.pdf"], 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	squeezed := strings.Join(strings.Fields(text), "")
	for _, want := range []string{"案件证据包", "case evidence bundle", "对话记录", "王老师", "我很害怕", "抢走书包", "报告公安机关", "处理时限", "台账记录", x.ID()} {
		if !strings.Contains(squeezed, strings.ReplaceAll(want, " ", "")) {
			t.Errorf("pdftotext lacks %q", want)
		}
	}
	for _, bad := range []string{otherWords, noteWords, "第7中学", "no7"} {
		if strings.Contains(squeezed, bad) {
			t.Errorf("the PDF's text holds %q", bad)
		}
	}
	if strings.Index(text, "对话记录") > strings.Index(text, "Thread") {
		t.Error("English before Chinese")
	}
	if err := exec.Command("pdftoppm", "-r", "40", "-png", pdf, filepath.Join(dir, "page")).Run(); err != nil {
		t.Fatal(err)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) < 2 {
		t.Fatalf("%d pages drawn", len(pages))
	}
}

// TestWhoMayExport: a counselor of the school may; a counselor of another
// school and a district officer for a case not escalated may not (not
// found, as for a guess), and nothing is recorded for them; the officer may
// once it is escalated. A request without a reason is refused.
func TestWhoMayExport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	quiet := e.submit("no3", "没有上报的报告")
	before := func() int {
		n, _ := e.db.LastEventSeq(ctx)
		return int(n)
	}
	for _, tc := range []struct {
		name string
		sess *staff.Session
		uid  string
		req  evidence.Request
		code string
	}{
		{"another school's admin", e.admin7, e.tipUID, evidence.Request{Reason: hotline.ExportPolice}, hotline.ENOTFOUND},
		{"officer, case not escalated", e.officer, quiet.TipUID, evidence.Request{Reason: hotline.ExportDistrict}, hotline.ENOTFOUND},
		{"no reason", e.wang, e.tipUID, evidence.Request{}, hotline.EINVALID},
		{"other without a reference", e.wang, e.tipUID, evidence.Request{Reason: hotline.ExportOther}, hotline.EINVALID},
		{"a reference too long", e.wang, e.tipUID, evidence.Request{Reason: hotline.ExportPolice, Reference: strings.Repeat("字", evidence.MaxReference+1)}, hotline.EINVALID},
		{"a control character", e.wang, e.tipUID, evidence.Request{Reason: hotline.ExportPolice, Reference: "a\x00b"}, hotline.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := before()
			_, err := e.ev.Prepare(ctx, tc.sess, tc.uid, tc.req)
			if got := hotline.ErrorCode(err); got != tc.code {
				t.Fatalf("got %v (%s), want %s", err, got, tc.code)
			}
			if before() != n {
				t.Fatal("a refused export was recorded in the ledger")
			}
		})
	}
	b, _ := e.export(e.officer, evidence.Request{Reason: hotline.ExportDistrict})
	rep, err := verify(b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Manifest.ExportedBy.Role != string(hotline.RoleDistrict) || rep.Manifest.ExportedBy.District != "海淀区" {
		t.Fatalf("officer's bundle: %+v", rep.Manifest.ExportedBy)
	}
	var doc evidence.CaseDoc
	json.Unmarshal(unzip(t, b)["case.json"], &doc)
	if len(doc.Thread) == 0 || doc.Thread[0].Text != pupilWords {
		t.Fatalf("officer's thread: %+v", doc.Thread)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestNothingOfTheReporter: a Telegram reporter's chat id and a web
// reporter's receipt appear nowhere in their case's bundle.
func TestNothingOfTheReporter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const chat = 7700123456
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, Role: hotline.ReporterVictim,
		Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{"在Telegram上报告"}, ChatID: chat})
	if err != nil {
		t.Fatal(err)
	}
	web := e.submit("no3", "网页报告")
	for _, uid := range []string{sub.TipUID, web.TipUID} {
		e.tipUID = uid
		b, _ := e.export(e.wang, evidence.Request{Reason: hotline.ExportHearing})
		if _, err := verify(b); err != nil {
			t.Fatal(err)
		}
		files := unzip(t, b)
		text := ""
		for name, data := range files {
			if !strings.HasSuffix(name, ".pdf") && !strings.HasPrefix(name, "photos/") {
				text += string(data)
			}
		}
		pdf := filepath.Join(t.TempDir(), "case.pdf")
		os.WriteFile(pdf, files["case.pdf"], 0o600)
		if out, err := exec.Command("pdftotext", pdf, "-").Output(); err == nil {
			text += string(out)
		}
		for _, bad := range []string{fmt.Sprint(chat), web.Receipt, strings.ReplaceAll(web.Receipt, "-", "")} {
			if bad != "" && strings.Contains(text, bad) {
				t.Errorf("the bundle of %s holds %q", uid, bad)
			}
		}
	}
}

// TestResealedBundleNeedsTheHeadHeldOutside: a forger who changes the
// thread and then re-does every digest — the file's, the content digest,
// the export event's detail and every hash after it, the manifest's head —
// makes a file that checks on its own: nothing inside a bundle can tell.
// The head the district holds (sent out when the bundle was made) does:
// given with --head, the resealed bundle fails and the real one passes.
func TestResealedBundleNeedsTheHeadHeldOutside(t *testing.T) {
	e := newEnv(t)
	b, x := e.export(e.wang, evidence.Request{Reason: hotline.ExportPolice})
	real, err := ledger.ParseAnchor(fmt.Sprintf("%d:%s", x.Head().Seq, x.Head().Hash))
	if err != nil {
		t.Fatal(err)
	}
	files := unzip(t, b)
	files["case.json"] = bytes.Replace(files["case.json"], []byte("抢走书包"), []byte("拿走书包"), 1)
	fixDigest(files, "case.json")
	fixContentDigest(files)
	var m evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}

	// Re-seal the chain from the bundle's starting hash, the export
	// event naming the forged content.
	prev, _ := hex.DecodeString(m.Ledger.StartPrevHash)
	hashes := map[int64]string{}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(files["ledger.jsonl"])), "\n") {
		var en evidence.Entry
		if err := json.Unmarshal([]byte(line), &en); err != nil {
			t.Fatal(err)
		}
		var hash []byte
		if en.Whole() {
			at, err := time.Parse(time.RFC3339Nano, en.At)
			if err != nil {
				t.Fatal(err)
			}
			salt, _ := hex.DecodeString(en.Salt)
			if en.Seq == m.Ledger.ExportEvent {
				i := strings.Index(en.Detail, "content=")
				en.Detail = en.Detail[:i] + "content=" + m.ContentDigest
			}
			hash = ledger.Hash(prev, &hotline.Event{Seq: en.Seq, SchoolID: en.SchoolID, TipID: en.TipID, Alias: en.Alias,
				Kind: hotline.EventKind(en.Kind), Detail: en.Detail, ActorID: en.ActorID, At: at, Salt: salt})
			en.Hash = hex.EncodeToString(hash)
		} else {
			body, _ := hex.DecodeString(en.Body)
			hash = ledger.Link(prev, en.Seq, ledger.Leaf(en.TipID, body))
		}
		hashes[en.Seq] = hex.EncodeToString(hash)
		prev = hash
		l, _ := json.Marshal(en)
		out = append(out, string(l))
	}
	files["ledger.jsonl"] = []byte(strings.Join(out, "\n") + "\n")
	fixDigest(files, "ledger.jsonl")
	var raw map[string]any
	json.Unmarshal(files["manifest.json"], &raw)
	lr := raw["ledger"].(map[string]any)
	head := lr["head"].(map[string]any)
	head["hash"] = hashes[m.Ledger.Last]
	forged, _ := hex.DecodeString(hashes[m.Ledger.Last])
	head["short"] = ledger.Short(forged)
	if recs, ok := lr["recorded_heads"].([]any); ok {
		for _, r := range recs {
			r := r.(map[string]any)
			r["hash"] = hashes[int64(r["seq"].(float64))]
		}
	}
	files["manifest.json"], _ = json.Marshal(raw)
	resealed := rezip(t, files, names(files))

	if _, err := verify(resealed); err != nil {
		t.Fatalf("the forger's best effort should check on its own (or the test forged badly): %v", err)
	}
	_, err = verify(resealed, real)
	var f *evidence.Failure
	if !errors.As(err, &f) || !strings.Contains(f.Reason, "history was rewritten") {
		t.Fatalf("resealed bundle against the head held outside: got %v, want a rewritten history", err)
	}
	if _, err := verify(b, real); err != nil {
		t.Fatalf("the real bundle against its head: %v", err)
	}
}

// TestBundleAcrossTheUpgrade: a case filed before version 2 events, on a
// server upgraded since: its bundle checks, its own old events and the
// other cases' old events between them travel whole (content-free fields,
// never their words), the newer ones as digests; changing an old event of
// another case fails the check; the whole ledger still verifies.
func TestBundleAcrossTheUpgrade(t *testing.T) {
	e := buildEnv(t, true)
	ctx := context.Background()
	b, _ := e.export(e.wang, evidence.Request{Reason: hotline.ExportHearing})
	rep, err := verify(b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.WholeOthers < 1 || rep.Digests < 1 || rep.CaseEvents < 7 {
		t.Fatalf("got %d whole others, %d digests, %d case events; want ≥1, ≥1, ≥7", rep.WholeOthers, rep.Digests, rep.CaseEvents)
	}
	files := unzip(t, b)
	lines := strings.Split(strings.TrimSpace(string(files["ledger.jsonl"])), "\n")
	var first evidence.Entry
	json.Unmarshal([]byte(lines[0]), &first)
	if first.Version != 1 || first.Salt != "" {
		t.Fatalf("the case's first event: got version %d, want 1 (written before the upgrade)", first.Version)
	}
	other := -1
	for i, l := range lines {
		var en evidence.Entry
		json.Unmarshal([]byte(l), &en)
		if en.Whole() && en.TipID != first.TipID && other < 0 {
			other = i
		}
	}
	for name, data := range files {
		if bytes.Contains(data, []byte(otherWords)) {
			t.Errorf("%s holds another case's words", name)
		}
	}
	if other < 0 {
		t.Fatal("no older event of another case in ledger.jsonl")
	}
	var en evidence.Entry
	json.Unmarshal([]byte(lines[other]), &en)
	en.Alias += "X"
	l, _ := json.Marshal(en)
	lines[other] = string(l)
	files["ledger.jsonl"] = []byte(strings.Join(lines, "\n") + "\n")
	fixDigest(files, "ledger.jsonl")
	var f *evidence.Failure
	if _, err := verify(rezip(t, files, names(files))); !errors.As(err, &f) || !strings.Contains(f.Where, "ledger event") {
		t.Fatalf("an older event of another case changed: got %v, want a failure at a ledger event", err)
	}
	if res, err := e.db.VerifyLedger(ctx); err != nil || !res.OK() {
		t.Fatalf("the ledger, version 1 then 2: %+v %v", res, err)
	}
}

// TestExportsAtOnce: two bundles of one case made at the same moment (a
// counselor and the district) each check: the one recorded second saw the
// other's export event appear after it had composed, and composed again
// (before, its case.json missed an event its ledger span held). Under
// -race this also shows that the two PDFs share no font bytes
// (go-pdf/fpdf writes into the font it is given).
func TestExportsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := make([][]byte, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, sess := range []*staff.Session{e.wang, e.officer} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x, err := e.ev.Prepare(ctx, sess, e.tipUID, evidence.Request{Reason: hotline.ExportHearing})
			if err != nil {
				errs[i] = err
				return
			}
			var b bytes.Buffer
			errs[i] = x.WriteTo(ctx, &b)
			out[i] = b.Bytes()
		}()
	}
	wg.Wait()
	for i := range out {
		if errs[i] != nil {
			t.Fatalf("export %d: %v", i, errs[i])
		}
		if _, err := verify(out[i]); err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
	}
}
