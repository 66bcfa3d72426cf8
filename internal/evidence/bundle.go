// Package evidence is a case's evidence bundle (证据包): what a school
// hands the police, a court or a hearing when a person decides that a
// pupil's words must leave the school, and how anyone checks it later,
// offline, without the server, its database or a key.
//
// A bundle is one zip file:
//
//	README.txt     how to check it (zh, en)
//	case.pdf       the case for people: Chinese first, English second
//	case.json      the same, for machines (format "hotline-evidence-case/1")
//	photos/NN.jpg  the photos of the thread, as stored (EXIF already gone)
//	ledger.jsonl   the case's ledger events and the chain from its first one to the bundle's head
//	manifest.json  who exported it, when and why; each file's SHA-256; the ledger's span and head
//
// Exporting appends an evidence_exported event to the case in the ledger,
// whose detail holds the SHA-256 of the content files (the PDF, the JSON
// and the photos), and records that event as a ledger head, which is sent
// out of the server like every head (the district's webhook, its page and
// register). The export is also in the audit trail, with the reason and
// the reference the person gave. So the bytes handed over are vouched for
// by the ledger itself: changing one byte of the thread changes the
// content digest, which no longer matches the event, whose hash no longer
// chains to the head held outside.
//
// Between the case's own events the ledger holds other cases' events.
// ledger.jsonl carries each of those as its case number and its salted
// body digest only (see internal/ledger, version 2), enough to recompute
// the chain and to show that no event of this case is hidden among them,
// and nothing of the other cases' schools, aliases, kinds, times or staff.
// Events written before salts (version 1) cannot be recomputed from a
// digest: those few are carried whole, their content-free fields and all.
//
// A bundle never holds the reporter's receipt, chat id, reporter key or
// anything else that identifies them: the reporter appears as the case
// alias. Internal notes are in it only when the exporter ticks so.
package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"time"

	"hotline/internal/hotline"
)

// The formats of a bundle's files.
const (
	FormatManifest = "hotline-evidence/1"
	FormatCase     = "hotline-evidence-case/1"
	FormatLedger   = "hotline-evidence-ledger/1"
)

// The bundle's fixed file names.
const (
	FileManifest = "manifest.json"
	FileReadme   = "README.txt"
	FilePDF      = "case.pdf"
	FileJSON     = "case.json"
	FileLedger   = "ledger.jsonl"
	photoDir     = "photos/"
)

// File roles in the manifest: content files are what the export event's
// digest covers; the others explain or prove them.
const (
	RoleContent = "content"
	RoleLedger  = "ledger"
	RoleReadme  = "readme"
)

// Manifest is manifest.json.
type Manifest struct {
	Format     string    `json:"format"`
	Bundle     string    `json:"bundle"`
	ExportedAt time.Time `json:"exported_at"`
	ExportedBy Person    `json:"exported_by"`
	Reason     Reason    `json:"reason"`
	// NotesIncluded says whether the staff's internal notes are in the
	// thread (the exporter chose).
	NotesIncluded bool      `json:"notes_included"`
	Case          CaseRef   `json:"case"`
	Files         []File    `json:"files"`
	ContentDigest string    `json:"content_digest"`
	Ledger        LedgerRef `json:"ledger"`
}

// Person names a member of staff.
type Person struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	Role     string `json:"role"`
	School   string `json:"school,omitempty"`
	District string `json:"district,omitempty"`
}

// Reason is why the bundle was exported.
type Reason struct {
	Kind      hotline.ExportReason `json:"kind"`
	Label     Words                `json:"label"`
	Reference string               `json:"reference,omitempty"`
}

// CaseRef names the case of a bundle. Tip is the case's number in the
// ledger (its events' tip_id).
type CaseRef struct {
	ID         string `json:"id"`
	Tip        int64  `json:"tip"`
	Alias      Words  `json:"alias"`
	School     string `json:"school"`
	SchoolEN   string `json:"school_en,omitempty"`
	SchoolCode string `json:"school_code"`
	District   string `json:"district,omitempty"`
}

// File is one file of the bundle.
type File struct {
	Name   string `json:"name"`
	Role   string `json:"role"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// LedgerRef says which part of the ledger ledger.jsonl holds: events First
// to Last, the first chained to StartPrevHash; the case's export event,
// which is also the bundle's head; and the heads recorded inside the span.
type LedgerRef struct {
	File          string    `json:"file"`
	First         int64     `json:"first_seq"`
	Last          int64     `json:"last_seq"`
	StartPrevHash string    `json:"start_prev_hash"`
	ExportEvent   int64     `json:"export_event"`
	Head          Head      `json:"head"`
	RecordedHeads []HeadRec `json:"recorded_heads,omitempty"`
}

// Head is a ledger head: event Seq's hash, and its short form for a paper
// register.
type Head struct {
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	Short string `json:"short"`
}

// HeadRec is a head the server recorded inside the bundle's span (a daily
// head or a checkpoint), each also sent out of the server.
type HeadRec struct {
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"`
	Day        string    `json:"day,omitempty"` // a daily head's day
	RecordedAt time.Time `json:"recorded_at"`
}

// Entry is one line of ledger.jsonl: an event of the case (or a version 1
// event of another case) with every field, or a version 2 event of another
// case as its case number and salted body digest only.
type Entry struct {
	Seq     int64  `json:"seq"`
	Version int    `json:"v,omitempty"` // 1 or 2 for a whole event; 0 for a digest
	TipID   int64  `json:"tip_id"`
	Body    string `json:"body,omitempty"` // a digest's salted body (hex)

	SchoolID int64  `json:"school_id,omitempty"`
	Alias    string `json:"alias,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Detail   string `json:"detail,omitempty"`
	ActorID  int64  `json:"actor_id,omitempty"`
	At       string `json:"at,omitempty"` // RFC 3339, microseconds, UTC
	Salt     string `json:"salt,omitempty"`
	Hash     string `json:"hash,omitempty"`
}

// Words are a text in both languages, zh first.
type Words struct {
	ZH string `json:"zh"`
	EN string `json:"en"`
}

func words(l hotline.Label) Words { return Words{ZH: l.ZH, EN: l.EN} }

func aliasWords(a hotline.Alias) Words { return Words{ZH: a.ZH, EN: a.EN} }

// String is "zh / en".
func (w Words) String() string { return w.ZH + " / " + w.EN }

// Whole reports whether the entry carries every field of its event.
func (e *Entry) Whole() bool { return e.Version != 0 }

// atLayout keeps the microseconds the ledger hashes.
const atLayout = "2006-01-02T15:04:05.000000Z07:00"

// wholeEntry is an event with every field.
func wholeEntry(ev *hotline.Event) Entry {
	v := 1
	if len(ev.Salt) > 0 {
		v = 2
	}
	return Entry{Seq: ev.Seq, Version: v, TipID: ev.TipID, SchoolID: ev.SchoolID, Alias: ev.Alias, Kind: string(ev.Kind), Detail: ev.Detail,
		ActorID: ev.ActorID, At: ev.At.UTC().Format(atLayout), Salt: hex.EncodeToString(ev.Salt), Hash: hex.EncodeToString(ev.Hash)}
}

// event reads a whole entry back into an event (PrevHash and Hash unset).
func (e *Entry) event() (*hotline.Event, error) {
	at, err := time.Parse(time.RFC3339Nano, e.At)
	if err != nil {
		return nil, err
	}
	salt, err := hex.DecodeString(e.Salt)
	if err != nil {
		return nil, err
	}
	if e.Version == 2 && len(salt) == 0 || e.Version == 1 && len(salt) > 0 {
		return nil, errBadVersion
	}
	if len(salt) == 0 {
		salt = nil
	}
	return &hotline.Event{Seq: e.Seq, SchoolID: e.SchoolID, TipID: e.TipID, Alias: e.Alias, Kind: hotline.EventKind(e.Kind), Detail: e.Detail,
		ActorID: e.ActorID, At: at, Salt: salt}, nil
}

// ContentDigest is the SHA-256 that the export event names: over a line
// "SHA256  NAME" for each content file, sorted by name, after a format
// line. Anyone can recompute it from the manifest's files.
func ContentDigest(files []File) string {
	var lines []string
	for _, f := range files {
		if f.Role == RoleContent {
			lines = append(lines, f.SHA256+"  "+f.Name+"\n")
		}
	}
	sort.Strings(lines)
	h := sha256.New()
	h.Write([]byte("hotline-evidence-content/1\n"))
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// exportDetail is the ledger detail of the export event.
func exportDetail(bundle string, reason hotline.ExportReason, notes bool, digest string) string {
	n := "false"
	if notes {
		n = "true"
	}
	return "bundle=" + bundle + ";reason=" + string(reason) + ";notes=" + n + ";content=" + digest
}

// detailValue returns the value of key in a ledger detail ("k=v;k=v").
func detailValue(detail, key string) string {
	for _, part := range strings.Split(detail, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return v
		}
	}
	return ""
}
