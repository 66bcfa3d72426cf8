package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

// chain builds n sealed events as the store appends them.
func chain(n int) []*hotline.Event {
	prev := ledger.Genesis
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var evs []*hotline.Event
	for i := 1; i <= n; i++ {
		ev := &hotline.Event{Seq: int64(i), SchoolID: int64(1 + i%3), TipID: int64(i), Alias: fmt.Sprintf("蓝狐%d", i),
			Kind: hotline.EventReceived, Detail: "channel=webchat", ActorID: 0, At: t0.Add(time.Duration(i) * time.Minute)}
		ledger.Seal(prev, ev)
		prev = ev.Hash
		evs = append(evs, ev)
	}
	return evs
}

func verify(evs []*hotline.Event) *ledger.Result {
	v := ledger.NewVerifier()
	for _, ev := range evs {
		v.Add(ev)
	}
	return v.Result()
}

func clone(evs []*hotline.Event) []*hotline.Event {
	out := make([]*hotline.Event, len(evs))
	for i, ev := range evs {
		c := *ev
		out[i] = &c
	}
	return out
}

func TestVerifyIntactChain(t *testing.T) {
	res := verify(chain(50))
	if !res.OK() || res.Count != 50 {
		t.Fatalf("intact chain: %+v", res)
	}
	if got := verify(nil); !got.OK() || got.Count != 0 {
		t.Fatalf("empty chain: %+v", got)
	}
}

func TestVerifyNamesFirstBrokenLink(t *testing.T) {
	tamper := []struct {
		name string
		do   func([]*hotline.Event) []*hotline.Event
		seq  int64
	}{
		{"edit kind", func(e []*hotline.Event) []*hotline.Event { e[9].Kind = hotline.EventClosed; return e }, 10},
		{"edit alias", func(e []*hotline.Event) []*hotline.Event { e[3].Alias = "红狼"; return e }, 4},
		{"edit time", func(e []*hotline.Event) []*hotline.Event { e[20].At = e[20].At.Add(time.Hour); return e }, 21},
		{"edit detail", func(e []*hotline.Event) []*hotline.Event { e[0].Detail = "channel=staff"; return e }, 1},
		{"delete a row", func(e []*hotline.Event) []*hotline.Event { return append(e[:14], e[15:]...) }, 15},
		{"delete the first row", func(e []*hotline.Event) []*hotline.Event { return e[1:] }, 1},
		{"swap two rows", func(e []*hotline.Event) []*hotline.Event { e[5], e[6] = e[6], e[5]; return e }, 6},
		{"swap contents, keep seq", func(e []*hotline.Event) []*hotline.Event {
			e[5].Seq, e[6].Seq = e[6].Seq, e[5].Seq
			e[5], e[6] = e[6], e[5]
			return e
		}, 6},
		{"insert a forged row", func(e []*hotline.Event) []*hotline.Event {
			forged := &hotline.Event{Seq: 8, Kind: hotline.EventResolved, At: e[7].At}
			ledger.Seal(e[6].Hash, forged)
			out := append([]*hotline.Event{}, e[:7]...)
			out = append(out, forged)
			return append(out, e[7:]...)
		}, 8}, // the real event 8 now follows a forged 8
		{"rehash one row", func(e []*hotline.Event) []*hotline.Event {
			e[11].Kind = hotline.EventClosed
			ledger.Seal(e[11].PrevHash, e[11]) // consistent row, but the next link no longer matches
			return e
		}, 13},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			res := verify(tt.do(clone(chain(30))))
			if res.OK() {
				t.Fatal("tampering not detected")
			}
			if res.Break.Seq != tt.seq {
				t.Fatalf("broken at %d (%s), want %d", res.Break.Seq, res.Break.Reason, tt.seq)
			}
		})
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	a := &hotline.Event{Seq: 1, Alias: "ab", Detail: "c", At: time.Unix(0, 0)}
	b := &hotline.Event{Seq: 1, Alias: "a", Detail: "bc", At: time.Unix(0, 0)}
	if string(ledger.Canonical(a)) == string(ledger.Canonical(b)) {
		t.Fatal("different events encode alike")
	}
}

func TestCheckHeadCatchesTruncationAndRewrite(t *testing.T) {
	evs := chain(10)
	hashes := map[int64][]byte{}
	for _, ev := range evs[:6] { // truncated after event 6
		hashes[ev.Seq] = ev.Hash
	}
	if b := ledger.CheckHead(hashes, 8, evs[7].Hash); b == nil || b.Seq != 8 {
		t.Fatalf("truncation: %v", b)
	}
	if b := ledger.CheckHead(hashes, 5, evs[5].Hash); b == nil {
		t.Fatal("rewritten head not caught")
	}
	if b := ledger.CheckHead(hashes, 5, evs[4].Hash); b != nil {
		t.Fatalf("true head refused: %v", b)
	}
}

func TestResumeVerifierChecksOnlyNewEvents(t *testing.T) {
	evs := chain(30)
	full := verify(evs)
	v := ledger.ResumeVerifier(20, evs[19].Hash)
	for _, ev := range evs[20:] {
		v.Add(ev)
	}
	if res := v.Result(); !res.OK() || res.Count != 30 || res.Head != full.Head {
		t.Fatalf("resumed: %+v, full walk: %+v", res, full)
	}
	if seq, hash := v.Last(); seq != 30 || string(hash) != string(evs[29].Hash) {
		t.Fatalf("last = %d", seq)
	}
	// A new event that does not follow the remembered hash breaks at once.
	forged := clone(evs)
	ledger.Seal(forged[19].PrevHash, forged[20]) // chained to event 19, not 20
	v = ledger.ResumeVerifier(20, evs[19].Hash)
	v.Add(forged[20])
	if res := v.Result(); res.OK() || res.Break.Seq != 21 {
		t.Fatalf("forged new event: %+v", res)
	}
	// A gap after the remembered point is named.
	v = ledger.ResumeVerifier(20, evs[19].Hash)
	v.Add(evs[22])
	if res := v.Result(); res.OK() || res.Break.Seq != 21 {
		t.Fatalf("missing event 21: %+v", res)
	}
	if seq, _ := ledger.ResumeVerifier(0, ledger.Genesis).Last(); seq != 0 {
		t.Fatalf("resume at genesis: last %d", seq)
	}
}
