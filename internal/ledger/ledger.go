// Package ledger is the hash chain of case events (台账): every event's hash
// covers the previous hash and the event, so an edited, deleted, reordered
// or inserted event breaks the chain at a place Verify names.
//
// Events carry the school, the case alias, the kind, a short machine detail
// and the time — never content. This package must never be handed content.
//
// Two formats share one chain. A version 1 event (no salt) hashes its
// fields directly:
//
//	hash = SHA-256(prev ‖ "hotline-ledger/v1" ‖ seq ‖ school ‖ tip ‖ alias ‖ kind ‖ detail ‖ actor ‖ at)
//
// A version 2 event (every event appended since; 16 random bytes of salt)
// hashes a leaf that names its case and commits to the rest through a
// salted digest:
//
//	body = SHA-256("hotline-ledger/body/v2" ‖ salt ‖ school ‖ alias ‖ kind ‖ detail ‖ actor ‖ at)
//	leaf = SHA-256("hotline-ledger/leaf/v2" ‖ tip ‖ body)
//	hash = SHA-256(prev ‖ "hotline-ledger/v2" ‖ seq ‖ leaf)
//
// so that a case's evidence bundle can carry, for the other cases' events
// between its own, only their case number and body digest: the chain still
// recomputes from the case's first event to a recorded head, and nothing
// of the other cases (school, alias, kind, time, who) can be read or
// guessed from a salted digest. Integers are 8 bytes big-endian, strings
// and the salt length-prefixed the same way.
package ledger

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"hotline/internal/hotline"
)

// Genesis is the previous hash of the first event.
var Genesis = make([]byte, sha256.Size)

// Canonical returns the event's canonical encoding: a version tag, then each
// field length-prefixed in a fixed order, so no two different events encode
// alike.
func Canonical(ev *hotline.Event) []byte {
	var b bytes.Buffer
	b.WriteString("hotline-ledger/v1")
	num := func(v int64) {
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		b.Write(buf[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		b.WriteString(s)
	}
	num(ev.Seq)
	num(ev.SchoolID)
	num(ev.TipID)
	str(ev.Alias)
	str(string(ev.Kind))
	str(ev.Detail)
	num(ev.ActorID)
	num(ev.At.UnixMicro())
	return b.Bytes()
}

// SaltSize is the length of a version 2 event's salt.
const SaltSize = 16

// NewSalt returns a fresh random salt for a version 2 event.
func NewSalt() []byte {
	salt := make([]byte, SaltSize)
	rand.Read(salt) // never fails (crypto/rand)
	return salt
}

// Version returns an event's format: 2 when it has a salt, else 1.
func Version(ev *hotline.Event) int {
	if len(ev.Salt) > 0 {
		return 2
	}
	return 1
}

// encoder writes integers and length-prefixed strings as Canonical does.
type encoder struct{ b bytes.Buffer }

func (e *encoder) num(v int64) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(v))
	e.b.Write(buf[:])
}

func (e *encoder) str(s string) {
	e.num(int64(len(s)))
	e.b.WriteString(s)
}

// Body returns a version 2 event's salted digest of every field but its
// sequence number and case: SHA-256("hotline-ledger/body/v2" ‖ salt ‖
// school ‖ alias ‖ kind ‖ detail ‖ actor ‖ at).
func Body(ev *hotline.Event) []byte {
	var e encoder
	e.b.WriteString("hotline-ledger/body/v2")
	e.str(string(ev.Salt))
	e.num(ev.SchoolID)
	e.str(ev.Alias)
	e.str(string(ev.Kind))
	e.str(ev.Detail)
	e.num(ev.ActorID)
	e.num(ev.At.UnixMicro())
	sum := sha256.Sum256(e.b.Bytes())
	return sum[:]
}

// Leaf returns a version 2 event's leaf: SHA-256("hotline-ledger/leaf/v2"
// ‖ tip ‖ body). The case number stays outside the salted body, so that a
// bundle can show that an event it does not open belongs to another case.
func Leaf(tipID int64, body []byte) []byte {
	var e encoder
	e.b.WriteString("hotline-ledger/leaf/v2")
	e.num(tipID)
	e.b.Write(body)
	sum := sha256.Sum256(e.b.Bytes())
	return sum[:]
}

// Link returns the hash of a version 2 event: SHA-256(prev ‖
// "hotline-ledger/v2" ‖ seq ‖ leaf).
func Link(prev []byte, seq int64, leaf []byte) []byte {
	var e encoder
	e.b.Write(prev)
	e.b.WriteString("hotline-ledger/v2")
	e.num(seq)
	e.b.Write(leaf)
	sum := sha256.Sum256(e.b.Bytes())
	return sum[:]
}

// Hash returns the event's hash after prev: SHA-256(prev ‖ canonical
// event) for version 1, Link(prev, seq, Leaf(tip, Body(ev))) for version 2.
func Hash(prev []byte, ev *hotline.Event) []byte {
	if len(ev.Salt) > 0 {
		return Link(prev, ev.Seq, Leaf(ev.TipID, Body(ev)))
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(Canonical(ev))
	return h.Sum(nil)
}

// Seal sets the event's previous hash and its own hash (in its version:
// set Salt first for version 2).
func Seal(prev []byte, ev *hotline.Event) {
	ev.PrevHash = append([]byte(nil), prev...)
	ev.Hash = Hash(prev, ev)
}

// Break describes the first place where the chain does not hold.
type Break struct {
	Seq    int64  // the sequence number of the first bad or missing event
	Reason string // what is wrong there
}

// Error implements error.
func (b *Break) Error() string { return fmt.Sprintf("ledger broken at event %d: %s", b.Seq, b.Reason) }

// Verifier checks events one by one, in the order they are stored.
type Verifier struct {
	prev    []byte
	nextSeq int64
	count   int64
	broken  *Break
}

// NewVerifier starts a verification from the genesis.
func NewVerifier() *Verifier { return &Verifier{prev: Genesis, nextSeq: 1} }

// ResumeVerifier continues a verification after event seq, whose hash is
// hash, as if events 1 to seq had just been verified: new events are
// checked without walking the chain again from the genesis. Seq 0 with
// Genesis is NewVerifier.
func ResumeVerifier(seq int64, hash []byte) *Verifier {
	return &Verifier{prev: append([]byte(nil), hash...), nextSeq: seq + 1, count: seq}
}

// Last returns the sequence number and hash of the last good event (0 and
// Genesis before any).
func (v *Verifier) Last() (seq int64, hash []byte) { return v.nextSeq - 1, v.prev }

// Add checks the next stored event; once broken, it stays broken at the
// first break.
func (v *Verifier) Add(ev *hotline.Event) {
	if v.broken != nil {
		return
	}
	switch {
	case ev.Seq != v.nextSeq:
		if ev.Seq > v.nextSeq {
			v.broken = &Break{Seq: v.nextSeq, Reason: fmt.Sprintf("event %d is missing (next stored is %d)", v.nextSeq, ev.Seq)}
		} else {
			v.broken = &Break{Seq: ev.Seq, Reason: fmt.Sprintf("event %d is out of order (expected %d)", ev.Seq, v.nextSeq)}
		}
	case !bytes.Equal(ev.PrevHash, v.prev):
		v.broken = &Break{Seq: ev.Seq, Reason: "previous hash does not match the event before it"}
	case !bytes.Equal(ev.Hash, Hash(v.prev, ev)):
		v.broken = &Break{Seq: ev.Seq, Reason: "event was changed after it was written (hash mismatch)"}
	}
	if v.broken != nil {
		return
	}
	v.prev = ev.Hash
	v.nextSeq++
	v.count++
}

// Result is the outcome of a verification.
type Result struct {
	Count int64  // events verified
	Head  string // hex hash of the last good event
	Break *Break // nil when the chain holds
}

// OK reports whether the chain holds.
func (r *Result) OK() bool { return r.Break == nil }

// Result returns what the verification found so far.
func (v *Verifier) Result() *Result {
	return &Result{Count: v.count, Head: hex.EncodeToString(v.prev), Break: v.broken}
}

// CheckHead confirms that a recorded head (hash of event seq) is still part
// of the chain: a school that rewrote or truncated its history after a check
// is caught here even if it rebuilt a consistent chain.
func CheckHead(events map[int64][]byte, seq int64, hash []byte) *Break {
	got, ok := events[seq]
	if !ok {
		return &Break{Seq: seq, Reason: "a recorded head is no longer in the ledger (truncated)"}
	}
	if !bytes.Equal(got, hash) {
		return &Break{Seq: seq, Reason: "a recorded head no longer matches (history rewritten)"}
	}
	return nil
}

// ShortLen is how many hex digits of a hash its short form keeps: 80 bits,
// few enough to copy into a paper register by hand, far too many for
// anyone to forge a history whose head starts with them.
const ShortLen = 20

// Short returns the short form of a head's hash, to write down: its first
// ShortLen hex digits in groups of four ("3f2a-9c1b-77e0-d4aa-0b5c").
func Short(hash []byte) string {
	h := hex.EncodeToString(hash)
	if len(h) > ShortLen {
		h = h[:ShortLen]
	}
	var b bytes.Buffer
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}
