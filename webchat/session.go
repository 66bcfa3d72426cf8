package webchat

// A chat session as the transport knows it: sequence numbers, the replay
// buffer of frames the page has not confirmed, and the de-duplication of
// client message ids. It knows its connection only as a peer, so it is
// tested without sockets.

import (
	"encoding/json"
	"sync"
	"time"
)

// peer is what a session needs of its connection.
type peer interface {
	// enqueue passes a frame to the page, in order, without blocking.
	enqueue(b []byte)
	// replaced tells the page that another connection took the session
	// over, and hangs up.
	replaced()
}

// session is one chat page's conversation as the transport knows it: the
// ids of messages it applied, the frames the page has not confirmed, and
// the tip whose replies it waits for. It outlives connections, and holds
// no content beyond unconfirmed frames.
type session struct {
	token string
	// epoch names this incarnation of the session's numbering: a session
	// made anew (after a restart, or after it was forgotten idle) numbers
	// its frames from 1 again, and the page learns so from the welcome.
	epoch string
	// mac names the session in durable storage (Server.sessionMAC).
	mac []byte

	mu        sync.Mutex
	conn      peer
	seq       int64
	out       []sentFrame
	outBytes  int
	ids       map[string]*outcome
	order     []string // ids oldest first, for eviction
	tip       string
	receipt   string    // keyed MAC of the receipt this session opened (guess.go)
	idleSince time.Time // zero while a connection is attached
}

func newSession(token string, mac []byte, now time.Time) *session {
	return &session{token: token, epoch: newEpoch(), mac: mac, ids: map[string]*outcome{}, idleSince: now}
}

type sentFrame struct {
	seq int64
	b   []byte
}

// outcome is what became of a client message id. A resend gets the same
// answer without being applied again.
type outcome struct {
	done bool
	err  *outFrame // a refusal, resent as is
}

// Bounds on what a session remembers.
const (
	maxIDs      = 256
	maxOut      = 256
	maxOutBytes = 4 << 20
)

func (ss *session) idleFor(now time.Time) time.Duration {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != nil || ss.idleSince.IsZero() {
		return 0
	}
	return now.Sub(ss.idleSince)
}

// send numbers frames, keeps them until confirmed and passes them to the
// attached connection, all under one lock so their order holds.
func (ss *session) send(frames ...outFrame) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for i := range frames {
		ss.seq++
		f := frames[i]
		f.V, f.Seq = protocolVersion, ss.seq
		b, err := json.Marshal(f)
		if err != nil {
			continue
		}
		ss.out = append(ss.out, sentFrame{seq: f.Seq, b: b})
		ss.outBytes += len(b)
		for len(ss.out) > maxOut || ss.outBytes > maxOutBytes && len(ss.out) > 1 {
			ss.outBytes -= len(ss.out[0].b)
			ss.out[0] = sentFrame{}
			ss.out = ss.out[1:]
		}
		if ss.conn != nil {
			ss.conn.enqueue(b)
		}
	}
}

// confirm drops frames the page has shown.
func (ss *session) confirm(seq int64) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.confirmLocked(seq)
}

func (ss *session) confirmLocked(seq int64) {
	if seq > ss.seq {
		seq = ss.seq // a page cannot confirm what was never sent
	}
	i := 0
	for i < len(ss.out) && ss.out[i].seq <= seq {
		ss.outBytes -= len(ss.out[i].b)
		ss.out[i] = sentFrame{}
		i++
	}
	ss.out = ss.out[i:]
	if len(ss.out) == 0 {
		ss.out = nil
	}
}

// attach makes c the session's connection and replays what the page has
// not confirmed. It returns the previous connection (another tab, a
// half-dead socket), for the caller to tell and close outside the lock.
func (ss *session) attach(c peer, lastSeq int64) (old peer) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	old, ss.conn, ss.idleSince = ss.conn, c, time.Time{}
	ss.confirmLocked(lastSeq)
	for _, f := range ss.out {
		c.enqueue(f.b)
	}
	if old == c {
		old = nil
	}
	return old
}

func (ss *session) detach(c peer, now time.Time) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn == c {
		ss.conn, ss.idleSince = nil, now
	}
}

// begin claims a client id. It returns nil for a new id, or a copy of its
// outcome: a resend of a message in flight or done.
func (ss *session) begin(id string) *outcome {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if o := ss.ids[id]; o != nil {
		c := *o
		return &c
	}
	ss.ids[id] = &outcome{}
	ss.order = append(ss.order, id)
	if len(ss.order) > maxIDs {
		delete(ss.ids, ss.order[0])
		ss.order = ss.order[1:]
	}
	return nil
}

// finish records the outcome of an id and sends frames then the ack (or
// the refusal) in one go. A "busy" refusal is transient: the id is
// forgotten, so the page's retry is applied rather than refused again.
func (ss *session) finish(id string, refusal *outFrame, frames ...outFrame) {
	ss.finishAck(id, refusal, false, frames...)
}

// finishDup acknowledges an id that an earlier incarnation of the session
// applied: the page's resend after a restart.
func (ss *session) finishDup(id string) {
	ss.finishAck(id, nil, true)
}

func (ss *session) finishAck(id string, refusal *outFrame, dup bool, frames ...outFrame) {
	ss.mu.Lock()
	if o := ss.ids[id]; o != nil {
		o.done, o.err = true, refusal
		if refusal != nil && refusal.Code == codeBusy {
			delete(ss.ids, id) // its place in order goes with the next eviction
		}
	}
	ss.mu.Unlock()
	if refusal != nil {
		frames = append(frames, *refusal)
	} else {
		frames = append(frames, outFrame{Type: "ack", ID: id, Dup: dup})
	}
	ss.send(frames...)
}

func (ss *session) setTip(uid string) (changed bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	changed = ss.tip != uid
	ss.tip = uid
	return changed
}

func (ss *session) tipUID() string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.tip
}
