// Package ledger is the hash chain of case events (台账): every event's hash
// covers the previous hash and the event, so an edited, deleted, reordered
// or inserted event breaks the chain at a place Verify names.
//
// Events carry the school, the case alias, the kind, a short machine detail
// and the time — never content. This package must never be handed content.
package ledger

import (
	"bytes"
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

// Hash returns SHA-256(prev ‖ canonical event).
func Hash(prev []byte, ev *hotline.Event) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(Canonical(ev))
	return h.Sum(nil)
}

// Seal sets the event's previous hash and its own hash.
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
