package evidence

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

var errBadVersion = errors.New("version and salt disagree")

// Limits of what Verify reads, so that a hostile file cannot exhaust the
// machine checking it.
const (
	maxFiles     = 10_000
	maxFileBytes = 256 << 20 // one file, uncompressed
	maxEntries   = 10_000_000
	maxLineBytes = 1 << 20
)

// Report is what a bundle's check found.
type Report struct {
	Manifest *Manifest
	// Files is how many files matched their SHA-256.
	Files int
	// CaseEvents counts the case's own events (the export's included);
	// Digests the other cases' events carried as digests; WholeOthers the
	// other cases' version 1 events carried whole.
	CaseEvents, Digests, WholeOthers int
	// HeadsChecked counts the heads recorded inside the span that matched.
	HeadsChecked int
	// Anchors are the heads held outside (given to Verify) that matched.
	Anchors []ledger.Anchor
}

// Failure is a check that did not hold: what, and where.
type Failure struct {
	Where  string // a file, or "ledger event N"
	Reason string
}

func (f *Failure) Error() string { return f.Where + ": " + f.Reason }

func fail(where, format string, args ...any) error {
	return &Failure{Where: where, Reason: fmt.Sprintf(format, args...)}
}

// Verify checks a bundle offline: every file against the manifest's
// SHA-256 (and no file more or less), the content digest against the
// export event, the chain from the case's first event through every event
// after it to the bundle's head, that every event of the case in the span
// is carried whole, that case.json's events are the ledger's, the heads
// recorded inside the span, and any heads held outside that are given
// (each must fall inside the span). It needs no database and no key. The
// first check that fails is returned as a *Failure.
func Verify(r io.ReaderAt, size int64, outside []ledger.Anchor) (*Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fail("bundle", "not a zip file: %v", err)
	}
	if len(zr.File) > maxFiles {
		return nil, fail("bundle", "%d files: too many", len(zr.File))
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		name := f.Name
		if name != path.Clean(name) || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.HasSuffix(name, "/") {
			return nil, fail(name, "a file name a bundle never has")
		}
		if _, dup := files[name]; dup {
			return nil, fail(name, "the file is in the bundle twice")
		}
		files[name] = f
	}
	mf, ok := files[FileManifest]
	if !ok {
		return nil, fail(FileManifest, "missing")
	}
	mb, err := readAll(mf)
	if err != nil {
		return nil, fail(FileManifest, "%v", err)
	}
	var m Manifest
	if err := strictJSON(mb, &m); err != nil {
		return nil, fail(FileManifest, "not a manifest: %v", err)
	}
	if m.Format != FormatManifest {
		return nil, fail(FileManifest, "format %q, want %q", m.Format, FormatManifest)
	}
	rep := &Report{Manifest: &m}

	// Every file is named, exactly once, with its digest.
	named := map[string]File{}
	for _, f := range m.Files {
		if _, dup := named[f.Name]; dup || f.Name == FileManifest {
			return nil, fail(FileManifest, "names %s twice", f.Name)
		}
		named[f.Name] = f
	}
	for name := range files {
		if _, ok := named[name]; !ok && name != FileManifest {
			return nil, fail(name, "in the bundle but not in the manifest")
		}
	}
	var caseJSON []byte
	for _, f := range m.Files {
		zf, ok := files[f.Name]
		if !ok {
			return nil, fail(f.Name, "named in the manifest but missing")
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fail(f.Name, "%v", err)
		}
		h := sha256.New()
		var keep bytes.Buffer
		var w io.Writer = h
		if f.Name == FileJSON {
			w = io.MultiWriter(h, &keep)
		}
		n, err := io.Copy(w, io.LimitReader(rc, maxFileBytes+1))
		rc.Close()
		if err != nil {
			return nil, fail(f.Name, "%v", err)
		}
		if n > maxFileBytes {
			return nil, fail(f.Name, "larger than %d bytes", maxFileBytes)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 || n != f.Size {
			return nil, fail(f.Name, "its bytes are not the ones the manifest names (SHA-256 %s, %d bytes; the manifest says %s, %d bytes)", got, n, f.SHA256, f.Size)
		}
		if f.Name == FileJSON {
			caseJSON = keep.Bytes()
		}
		rep.Files++
	}
	if got := ContentDigest(m.Files); got != m.ContentDigest {
		return nil, fail(FileManifest, "the content digest %s is not the one its files give (%s)", m.ContentDigest, got)
	}
	if named[FilePDF].Role != RoleContent || named[FileJSON].Role != RoleContent || named[m.Ledger.File].Role != RoleLedger {
		return nil, fail(FileManifest, "the case's files are missing or have the wrong roles")
	}

	// The chain.
	lf := files[m.Ledger.File]
	caseEvents, hashes, err := verifyChain(lf, &m, rep)
	if err != nil {
		return nil, err
	}

	// case.json tells the same events as the ledger.
	var doc CaseDoc
	if err := json.Unmarshal(caseJSON, &doc); err != nil {
		return nil, fail(FileJSON, "not JSON: %v", err)
	}
	if doc.Format != FormatCase || doc.Bundle != m.Bundle || doc.Case.ID != m.Case.ID || doc.Case.Alias != m.Case.Alias {
		return nil, fail(FileJSON, "names another bundle or case than the manifest")
	}
	if len(doc.Events) != len(caseEvents)-1 {
		return nil, fail(FileJSON, "lists %d events; the ledger has %d before the export", len(doc.Events), len(caseEvents)-1)
	}
	for i, d := range doc.Events {
		e := caseEvents[i]
		if d.Seq != e.Seq || d.Kind != string(e.Kind) || d.Detail != e.Detail || !d.At.Equal(e.At) || d.Hash != hex.EncodeToString(e.Hash) {
			return nil, fail(FileJSON, "event %d differs from the ledger's", d.Seq)
		}
	}

	// Heads held outside.
	for _, a := range outside {
		if a.Seq < m.Ledger.First || a.Seq > m.Ledger.Last {
			return nil, fail("head "+a.String(), "outside this bundle's events %d to %d: it cannot be checked against this bundle", m.Ledger.First, m.Ledger.Last)
		}
		if b := a.Check(hashes, m.Ledger.Last); b != nil {
			return nil, fail("head "+a.String(), "%s", b.Reason)
		}
		rep.Anchors = append(rep.Anchors, a)
	}
	return rep, nil
}

// verifyChain recomputes ledger.jsonl's chain and returns the case's own
// events (whole, hashed) and every event's hash by seq.
func verifyChain(zf *zip.File, m *Manifest, rep *Report) ([]*hotline.Event, map[int64][]byte, error) {
	lr := m.Ledger
	name := lr.File
	prev, err := hex.DecodeString(lr.StartPrevHash)
	if err != nil || len(prev) != len(ledger.Genesis) {
		return nil, nil, fail(FileManifest, "the ledger's starting hash is not a hash")
	}
	if lr.First <= 0 || lr.Last < lr.First || lr.ExportEvent != lr.Last || lr.Head.Seq != lr.Last || lr.Last-lr.First >= maxEntries {
		return nil, nil, fail(FileManifest, "the ledger's span (%d to %d, export %d, head %d) is not a bundle's", lr.First, lr.Last, lr.ExportEvent, lr.Head.Seq)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, nil, fail(name, "%v", err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	hashes := make(map[int64][]byte, lr.Last-lr.First+1)
	var own []*hotline.Event
	next := lr.First
	for sc.Scan() {
		var e Entry
		if err := strictJSON(sc.Bytes(), &e); err != nil {
			return nil, nil, fail(name, "line for event %d: %v", next, err)
		}
		where := fmt.Sprintf("ledger event %d", e.Seq)
		if e.Seq != next {
			return nil, nil, fail(name, "event %d where %d should be: an event is missing or out of order", e.Seq, next)
		}
		var hash []byte
		switch {
		case e.Whole():
			ev, err := e.event()
			if err != nil {
				return nil, nil, fail(where, "malformed: %v", err)
			}
			hash = ledger.Hash(prev, ev)
			if e.Hash != hex.EncodeToString(hash) {
				return nil, nil, fail(where, "its hash does not follow from its fields and the event before it: the event was changed")
			}
			switch {
			case ev.TipID == m.Case.Tip:
				ev.PrevHash, ev.Hash = prev, hash
				own = append(own, ev)
				rep.CaseEvents++
			case e.Version == 2:
				// Another case's version 2 event travels as a digest.
				return nil, nil, fail(where, "another case's event is carried whole")
			default:
				rep.WholeOthers++
			}
		default:
			if e.TipID == m.Case.Tip {
				return nil, nil, fail(where, "an event of this case is hidden as a digest")
			}
			body, err := hex.DecodeString(e.Body)
			if err != nil || len(body) != sha256.Size || e.Kind != "" || e.Hash != "" || e.At != "" {
				return nil, nil, fail(where, "a malformed digest")
			}
			hash = ledger.Link(prev, e.Seq, ledger.Leaf(e.TipID, body))
			rep.Digests++
		}
		hashes[e.Seq] = hash
		prev = hash
		next++
		if next > lr.Last+1 {
			return nil, nil, fail(name, "events after the bundle's head (%d)", lr.Last)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fail(name, "%v", err)
	}
	if next != lr.Last+1 {
		return nil, nil, fail(name, "ends at event %d; the manifest says %d", next-1, lr.Last)
	}
	if len(own) == 0 || own[0].Seq != lr.First || own[0].Kind != hotline.EventReceived {
		return nil, nil, fail(name, "does not start with the event that opened the case")
	}
	// The export event: the last, the case's, naming this bundle and the
	// content's digest.
	exp := own[len(own)-1]
	if exp.Seq != lr.Last || exp.Kind != hotline.EventEvidenceExported || detailValue(exp.Detail, "bundle") != m.Bundle {
		return nil, nil, fail(name, "does not end with this bundle's export event")
	}
	if got := detailValue(exp.Detail, "content"); got != m.ContentDigest {
		return nil, nil, fail(fmt.Sprintf("ledger event %d", exp.Seq), "the export event names content %s, not this bundle's %s: the files were changed", got, m.ContentDigest)
	}
	if got := hex.EncodeToString(hashes[lr.Last]); got != lr.Head.Hash || lr.Head.Short != ledger.Short(hashes[lr.Last]) {
		return nil, nil, fail(FileManifest, "the head %s is not the chain's (%s)", lr.Head.Hash, got)
	}
	for _, h := range lr.RecordedHeads {
		got, ok := hashes[h.Seq]
		if !ok || hex.EncodeToString(got) != h.Hash {
			return nil, nil, fail(FileManifest, "the head recorded at event %d does not match the chain", h.Seq)
		}
		rep.HeadsChecked++
	}
	return own, hashes, nil
}

func readAll(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLineBytes*16+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLineBytes*16 {
		return nil, errors.New("too large")
	}
	return b, nil
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing
// data: a field a bundle never has is a file someone wrote by hand.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the value")
	}
	return nil
}
