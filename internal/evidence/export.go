package evidence

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"hotline/internal/history"
	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// Service exports evidence bundles. It reads a case only through triage,
// which lets a school's staff open their school's cases and a district
// officer the escalated cases of their district, and nothing else.
type Service struct {
	DB     *store.DB
	Triage *triage.Service
	Logger *slog.Logger
}

// New returns the evidence service.
func New(db *store.DB, tr *triage.Service, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{DB: db, Triage: tr, Logger: logger}
}

// Request is what the person exporting decides.
type Request struct {
	Reason hotline.ExportReason
	// Reference says who asked or which document calls for it (a police
	// notice's number): no names of pupils, nothing of what happened.
	Reference string
	// IncludeNotes puts the staff's internal notes in the thread.
	IncludeNotes bool
}

// MaxReference bounds the reference, in characters.
const MaxReference = 200

// Errors of a request, safe to show.
var (
	ErrReason    = hotline.Errorf(hotline.EINVALID, "请选择导出原因。", "Please choose why the case is exported.")
	ErrReference = hotline.Errorf(hotline.EINVALID, fmt.Sprintf("说明最多 %d 个字，不能有控制字符；选择“其他”时必须填写。", MaxReference),
		fmt.Sprintf("The reference has at most %d characters and no control characters; it is required for “other”.", MaxReference))
)

// check validates the request and tidies its reference.
func (r *Request) check() error {
	if !r.Reason.Valid() {
		return ErrReason
	}
	r.Reference = strings.TrimSpace(r.Reference)
	if !utf8.ValidString(r.Reference) || utf8.RuneCountInString(r.Reference) > MaxReference || strings.IndexFunc(r.Reference, unicode.IsControl) >= 0 ||
		r.Reason == hotline.ExportOther && r.Reference == "" {
		return ErrReference
	}
	return nil
}

// Export is a bundle that has been recorded — in the ledger, as a ledger
// head and in the audit trail — and is ready to be written.
type Export struct {
	svc      *Service
	manifest Manifest
	content  []namedFile
	tipID    int64
}

type namedFile struct {
	name string
	data []byte
}

// ID returns the bundle's id ("EV-20260512-K3M9QX").
func (e *Export) ID() string { return e.manifest.Bundle }

// Filename is the name the bundle is downloaded under.
func (e *Export) Filename() string { return "hotline-evidence-" + e.manifest.Bundle + ".zip" }

// Head returns the bundle's head: its export event.
func (e *Export) Head() Head { return e.manifest.Ledger.Head }

// bundleAlphabet spells bundle ids: no 0/O, 1/I/L, U.
const bundleAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// errMoved says that the case gained an event while its bundle was being
// composed: the bundle must be composed again, or its case.json would miss
// an event its ledger span holds.
var errMoved = errors.New("evidence: the case changed while its bundle was composed")

// composeTries bounds how often Prepare composes again when the case keeps
// changing under it.
const composeTries = 5

// ErrBusy is Prepare's answer when the case changed under every try.
var ErrBusy = hotline.Errorf(hotline.ECONFLICT, "案件正在更新，请稍后再导出。", "The case is changing right now; please export it again in a moment.")

// Prepare opens the case as the session's staff member may (triage says
// who may: ErrNotFound for anyone else, as for a guess), composes the PDF
// and the JSON, and records the export: the ledger event naming the
// content's digest, recorded as a ledger head, and the audit entry with
// the reason. Only then may the bundle be written (WriteTo). The export
// event follows the newest event the bundle composed, in the same
// transaction that checks so: an event of the case in between (a reply, a
// missed deadline, another export) composes the bundle again.
func (s *Service) Prepare(ctx context.Context, sess *staff.Session, uid string, req Request) (*Export, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	for range composeTries {
		e, err := s.prepare(ctx, sess, uid, req)
		if !errors.Is(err, errMoved) {
			return e, err
		}
	}
	return nil, ErrBusy
}

func (s *Service) prepare(ctx context.Context, sess *staff.Session, uid string, req Request) (*Export, error) {
	tip, msgs, err := s.Triage.Thread(ctx, sess, uid)
	if err != nil {
		return nil, err
	}
	events, err := s.Triage.Timeline(ctx, sess.Actor(), uid)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 || events[0].Kind != hotline.EventReceived {
		// The ledger lost the case's opening: a broken ledger, not a
		// bundle anyone should hand over as whole.
		return nil, fmt.Errorf("evidence: case %d has no opening event in the ledger", tip.ID)
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return nil, err
	}
	misses, err := s.DB.DeadlineMisses(ctx, []int64{school.ID})
	if err != nil {
		return nil, err
	}
	misses = slices.DeleteFunc(misses, func(m *store.DeadlineMiss) bool { return m.TipID != tip.ID })
	names, err := s.names(ctx, msgs, events)
	if err != nil {
		return nil, err
	}
	code, err := vault.RandomCode(bundleAlphabet, 6)
	if err != nil {
		return nil, err
	}
	now := s.DB.Clock.Now().UTC().Truncate(time.Microsecond)
	c := sess.Counselor
	by := Person{Name: displayName(c.DisplayName, c.Username), Username: c.Username, Role: string(c.Role), District: c.District}
	if c.SchoolID != 0 {
		by.School = school.Name
		by.District = school.District
	}
	e := &Export{svc: s, tipID: tip.ID}
	e.manifest = Manifest{Format: FormatManifest, Bundle: "EV-" + now.In(hotline.ChinaTime).Format("20060102") + "-" + code, ExportedAt: now, ExportedBy: by,
		Reason: Reason{Kind: req.Reason, Label: words(req.Reason.Label()), Reference: req.Reference}, NotesIncluded: req.IncludeNotes,
		Case: CaseRef{ID: tip.UID, Tip: tip.ID, Alias: aliasWords(tip.Alias), School: school.Name, SchoolEN: school.Settings.NameEN, SchoolCode: school.Code, District: school.District}}

	doc, photos := compose(&e.manifest, tip, school, msgs, events, misses, names, now)
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	pdf, err := renderPDF(doc, photos)
	if err != nil {
		return nil, err
	}
	e.content = append(e.content, namedFile{FilePDF, pdf}, namedFile{FileJSON, append(js, '\n')})
	for _, p := range photos {
		e.content = append(e.content, namedFile{p.name, p.photo.Data})
	}
	for _, f := range e.content {
		sum := sha256.Sum256(f.data)
		e.manifest.Files = append(e.manifest.Files, File{Name: f.name, Role: RoleContent, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	e.manifest.ContentDigest = ContentDigest(e.manifest.Files)

	ev := &hotline.Event{SchoolID: tip.SchoolID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventEvidenceExported,
		Detail: exportDetail(e.manifest.Bundle, req.Reason, req.IncludeNotes, e.manifest.ContentDigest), ActorID: c.ID}
	audit := &hotline.AuditEntry{Kind: hotline.AuditEvidence, District: school.District, SchoolID: school.ID, CounselorID: c.ID, TipID: tip.ID,
		Client: staff.ClientOf(ctx), Detail: auditDetail(&e.manifest)}
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.TipByID(tip.ID); err != nil {
			return err
		}
		if last, err := tx.TipLastEventSeq(tip.ID); err != nil {
			return err
		} else if last != events[len(events)-1].Seq {
			return errMoved
		}
		if err := tx.AppendEvent(ev); err != nil {
			return err
		}
		// The export is a head: sent out of the server like every head,
		// so the bundle's chain ends where the district can check it.
		if err := tx.CheckpointNewest(); err != nil {
			return err
		}
		return tx.AppendAudit(audit)
	})
	if err != nil {
		return nil, err
	}
	e.manifest.Ledger = LedgerRef{File: FileLedger, First: events[0].Seq, Last: ev.Seq, StartPrevHash: hex.EncodeToString(events[0].PrevHash),
		ExportEvent: ev.Seq, Head: Head{Seq: ev.Seq, Hash: hex.EncodeToString(ev.Hash), Short: ledger.Short(ev.Hash)}}
	return e, nil
}

// auditDetail says in the audit trail what left and why.
func auditDetail(m *Manifest) string {
	d := m.Bundle + " reason=" + string(m.Reason.Kind)
	if m.NotesIncluded {
		d += " notes=true"
	}
	if m.Reason.Reference != "" {
		d += " ref=" + m.Reason.Reference
	}
	return d
}

// names returns the display names of the staff who wrote in the thread or
// acted on the case.
func (s *Service) names(ctx context.Context, msgs []*hotline.Message, events []*hotline.Event) (map[int64]string, error) {
	names := map[int64]string{}
	add := func(id int64) error {
		if _, ok := names[id]; ok || id == 0 {
			return nil
		}
		c, err := s.DB.CounselorByID(ctx, id)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			names[id] = fmt.Sprintf("#%d", id)
			return nil
		} else if err != nil {
			return err
		}
		names[id] = displayName(c.DisplayName, c.Username)
		return nil
	}
	for _, m := range msgs {
		if err := add(m.CounselorID); err != nil {
			return nil, err
		}
	}
	for _, e := range events {
		if err := add(e.ActorID); err != nil {
			return nil, err
		}
		if e.Kind == hotline.EventAssigned {
			var id int64
			fmt.Sscanf(detailValue(e.Detail, "counselor"), "%d", &id)
			if err := add(id); err != nil {
				return nil, err
			}
		}
	}
	return names, nil
}

func displayName(name, username string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return username
}

// WriteTo writes the bundle as a zip: the readme, the content files, the
// ledger's span (read page by page: a case open for months spans many
// events) and the manifest last, with every file's digest.
func (e *Export) WriteTo(ctx context.Context, w io.Writer) error {
	zw := zip.NewWriter(w)
	m := &e.manifest
	put := func(name, role string, write func(io.Writer) error) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: m.ExportedAt})
		if err != nil {
			return err
		}
		h := sha256.New()
		cw := &counter{w: io.MultiWriter(fw, h)}
		if err := write(cw); err != nil {
			return err
		}
		if role != RoleContent {
			m.Files = append(m.Files, File{Name: name, Role: role, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))})
		}
		return nil
	}
	if err := put(FileReadme, RoleReadme, func(w io.Writer) error { _, err := io.WriteString(w, readme(m)); return err }); err != nil {
		return err
	}
	for _, f := range e.content {
		if err := put(f.name, RoleContent, func(w io.Writer) error { _, err := w.Write(f.data); return err }); err != nil {
			return err
		}
	}
	if err := put(m.Ledger.File, RoleLedger, func(w io.Writer) error { return e.writeLedger(ctx, w) }); err != nil {
		return err
	}
	heads, err := e.recordedHeads(ctx)
	if err != nil {
		return err
	}
	m.Ledger.RecordedHeads = heads
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: FileManifest, Method: zip.Deflate, Modified: m.ExportedAt})
	if err != nil {
		return err
	}
	if _, err := fw.Write(append(mb, '\n')); err != nil {
		return err
	}
	return zw.Close()
}

// writeLedger writes ledger.jsonl: the events of the span, the case's (and
// other cases' version 1 events) whole, the others as digests.
func (e *Export) writeLedger(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	after, last := e.manifest.Ledger.First-1, e.manifest.Ledger.Last
	for after < last {
		evs, err := e.svc.DB.Events(ctx, after, int(min(1000, last-after)))
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return fmt.Errorf("evidence: the ledger ends at %d, before the export event %d", after, last)
		}
		for _, ev := range evs {
			if ev.Seq != after+1 {
				return fmt.Errorf("evidence: ledger event %d is missing", after+1)
			}
			entry := Entry{Seq: ev.Seq, TipID: ev.TipID, Body: hex.EncodeToString(ledger.Body(ev))}
			if ev.TipID == e.tipID || len(ev.Salt) == 0 {
				entry = wholeEntry(ev)
			}
			if err := enc.Encode(entry); err != nil {
				return err
			}
			after = ev.Seq
		}
	}
	return bw.Flush()
}

// recordedHeads lists the heads the server recorded inside the span.
func (e *Export) recordedHeads(ctx context.Context) ([]HeadRec, error) {
	daily, err := e.svc.DB.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := e.svc.DB.LedgerCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	lr := e.manifest.Ledger
	seen := map[int64]bool{}
	var out []HeadRec
	for _, h := range append(daily, cps...) {
		if h.Seq < lr.First || h.Seq > lr.Last || seen[h.Seq] {
			continue
		}
		seen[h.Seq] = true
		out = append(out, HeadRec{Seq: h.Seq, Hash: hex.EncodeToString(h.Hash), Day: h.Day, RecordedAt: time.UnixMicro(h.RecordedAt).UTC()})
	}
	slices.SortFunc(out, func(a, b HeadRec) int { return int(a.Seq - b.Seq) })
	return out, nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// describe says an event in words in both languages.
func describe(ev *hotline.Event, names map[int64]string) Words {
	return Words{ZH: history.Describe(ev, names, hotline.LangZH), EN: history.Describe(ev, names, hotline.LangEN)}
}
