package webchat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakePeer records what a session passes to its connection.
type fakePeer struct {
	frames []outFrame
	ousted bool
}

func (p *fakePeer) enqueue(b []byte) {
	var f outFrame
	if err := json.Unmarshal(b, &f); err != nil {
		panic(err)
	}
	p.frames = append(p.frames, f)
}

func (p *fakePeer) replaced() { p.ousted = true }

func (p *fakePeer) seqs() []int64 {
	var out []int64
	for _, f := range p.frames {
		out = append(out, f.Seq)
	}
	return out
}

func TestSessionSequenceAndReplay(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	ss := newSession("tok", nil, t0)
	if d := ss.idleFor(t0.Add(time.Minute)); d != time.Minute {
		t.Fatalf("idle before any connection: got %v, want 1m", d)
	}
	// Frames sent with no connection wait for one.
	ss.send(outFrame{Type: "reply", Text: "a"}, outFrame{Type: "reply", Text: "b"})
	p1 := &fakePeer{}
	if old := ss.attach(p1, 0); old != nil {
		t.Fatalf("first attach: got old %v, want nil", old)
	}
	if got := p1.seqs(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("replayed seqs: got %v, want [1 2]", got)
	}
	if p1.frames[0].V != protocolVersion || p1.frames[0].Text != "a" {
		t.Fatalf("frame: got %+v, want v1 text a", p1.frames[0])
	}
	if d := ss.idleFor(t0.Add(time.Hour)); d != 0 {
		t.Fatalf("idle while attached: got %v, want 0", d)
	}
	ss.send(outFrame{Type: "reply", Text: "c"})
	if got := p1.seqs(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("live seqs: got %v, want [1 2 3]", got)
	}

	// The page saw up to 2; a new connection gets only 3 and ousts the first.
	ss.confirm(2)
	p2 := &fakePeer{}
	old := ss.attach(p2, 0)
	if old != p1 {
		t.Fatalf("second attach: got old %v, want the first peer", old)
	}
	if got := p2.seqs(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("replay after confirm 2: got %v, want [3]", got)
	}
	// last_seq in a hello confirms too; a page cannot confirm the future.
	p3 := &fakePeer{}
	ss.attach(p3, 99)
	if len(p3.frames) != 0 {
		t.Fatalf("replay after last_seq 99: got %v, want none", p3.seqs())
	}
	ss.send(outFrame{Type: "reply"})
	if got := p3.seqs(); !slices.Equal(got, []int64{4}) {
		t.Fatalf("after an over-confirm: got %v, want [4]", got)
	}

	// A stale connection's detach leaves the current one attached.
	ss.detach(p2, t0)
	if d := ss.idleFor(t0.Add(time.Hour)); d != 0 {
		t.Fatalf("stale detach made the session idle (%v)", d)
	}
	ss.detach(p3, t0)
	if d := ss.idleFor(t0.Add(time.Hour)); d != time.Hour {
		t.Fatalf("idle after detach: got %v, want 1h", d)
	}
	if old := ss.attach(p3, 4); old != nil {
		t.Fatalf("attach after detach: got old %v, want nil", old)
	}
}

func TestSessionReplayBufferBounded(t *testing.T) {
	ss := newSession("tok", nil, time.Time{})
	for i := 0; i < maxOut+10; i++ {
		ss.send(outFrame{Type: "reply", Text: fmt.Sprint(i)})
	}
	p := &fakePeer{}
	ss.attach(p, 0)
	if len(p.frames) != maxOut || p.frames[0].Seq != 11 || p.frames[len(p.frames)-1].Seq != maxOut+10 {
		t.Fatalf("replay: got %d frames from %d, want the last %d", len(p.frames), p.frames[0].Seq, maxOut)
	}
	// A few big frames are bounded by bytes, but the newest always stays.
	ss = newSession("tok", nil, time.Time{})
	big := strings.Repeat("a", maxOutBytes/3)
	for i := 0; i < 5; i++ {
		ss.send(outFrame{Type: "reply", Text: big})
	}
	p = &fakePeer{}
	ss.attach(p, 0)
	if got := p.seqs(); !slices.Equal(got, []int64{4, 5}) {
		t.Fatalf("byte bound: got %v, want [4 5]", got)
	}
}

func TestSessionClientIDsOnce(t *testing.T) {
	ss := newSession("tok", nil, time.Time{})
	p := &fakePeer{}
	ss.attach(p, 0)
	if o := ss.begin("m1"); o != nil {
		t.Fatalf("new id: got %+v, want nil", o)
	}
	// A resend while the first is in flight: not done, nothing to send.
	if o := ss.begin("m1"); o == nil || o.done {
		t.Fatalf("in flight: got %+v, want not done", o)
	}
	ss.finish("m1", nil, outFrame{Type: "reply", Text: "ok"})
	if len(p.frames) != 2 || p.frames[0].Type != "reply" || p.frames[1].Type != "ack" || p.frames[1].ID != "m1" {
		t.Fatalf("finish: got %+v, want the reply then the ack", p.frames)
	}
	if o := ss.begin("m1"); o == nil || !o.done || o.err != nil {
		t.Fatalf("done: got %+v, want done without refusal", o)
	}
	// A refusal is remembered as it was.
	ss.begin("m2")
	refusal := outFrame{Type: "error", ID: "m2", Code: codeBadReceipt}
	ss.finish("m2", &refusal)
	if o := ss.begin("m2"); o == nil || !o.done || o.err == nil || o.err.Code != codeBadReceipt {
		t.Fatalf("refused: got %+v, want the refusal", o)
	}
	// Only the newest maxIDs ids are remembered.
	for i := 0; i < maxIDs; i++ {
		ss.begin(fmt.Sprint("x", i))
	}
	if o := ss.begin("m1"); o != nil {
		t.Fatalf("evicted id: got %+v, want nil (forgotten)", o)
	}
	if o := ss.begin(fmt.Sprint("x", maxIDs-1)); o == nil {
		t.Fatalf("recent id forgotten")
	}
}
