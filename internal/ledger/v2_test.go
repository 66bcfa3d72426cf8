package ledger_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

// mixed builds a chain whose first half is version 1 (written before salts)
// and second half version 2, as a ledger upgraded in place holds.
func mixed(n int) []*hotline.Event {
	prev := ledger.Genesis
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var evs []*hotline.Event
	for i := 1; i <= n; i++ {
		ev := &hotline.Event{Seq: int64(i), SchoolID: int64(1 + i%3), TipID: int64(1 + i%4), Alias: fmt.Sprintf("蓝狐%d", i%4),
			Kind: hotline.EventReplied, Detail: "", ActorID: int64(i % 2), At: t0.Add(time.Duration(i) * time.Minute)}
		if i > n/2 {
			ev.Salt = ledger.NewSalt()
		}
		ledger.Seal(prev, ev)
		prev = ev.Hash
		evs = append(evs, ev)
	}
	return evs
}

func TestMixedChainVerifiesAndCatchesEdits(t *testing.T) {
	if res := verify(mixed(20)); !res.OK() || res.Count != 20 {
		t.Fatalf("mixed chain: %+v", res)
	}
	tamper := []struct {
		name string
		do   func(e []*hotline.Event)
	}{
		{"v2 school", func(e []*hotline.Event) { e[14].SchoolID++ }},
		{"v2 case", func(e []*hotline.Event) { e[14].TipID++ }},
		{"v2 alias", func(e []*hotline.Event) { e[14].Alias = "红狼" }},
		{"v2 kind", func(e []*hotline.Event) { e[14].Kind = hotline.EventClosed }},
		{"v2 detail", func(e []*hotline.Event) { e[14].Detail = "x=1" }},
		{"v2 actor", func(e []*hotline.Event) { e[14].ActorID = 99 }},
		{"v2 time", func(e []*hotline.Event) { e[14].At = e[14].At.Add(time.Microsecond) }},
		{"v2 salt", func(e []*hotline.Event) { e[14].Salt = ledger.NewSalt() }},
		{"v2 seq", func(e []*hotline.Event) { e[14].Seq, e[15].Seq = 16, 15; e[14], e[15] = e[15], e[14] }},
		// Dropping the salt turns the row into a version 1 event: its hash
		// no longer matches, so nobody can downgrade an event to rewrite it.
		{"v2 made v1", func(e []*hotline.Event) { e[14].Salt = nil }},
	}
	for _, tt := range tamper {
		t.Run(tt.name, func(t *testing.T) {
			evs := clone(mixed(20))
			tt.do(evs)
			if res := verify(evs); res.OK() || res.Break.Seq != 15 {
				t.Fatalf("got %+v, want a break at 15", res.Break)
			}
		})
	}
}

// TestLinkRecomputesFromDigests: the chain recomputes from the leaves of
// other cases' events alone (their case and salted body), which is what a
// bundle carries, and a forged leaf breaks it.
func TestLinkRecomputesFromDigests(t *testing.T) {
	evs := mixed(20)[10:] // version 2 only
	prev := evs[0].PrevHash
	for _, ev := range evs {
		prev = ledger.Link(prev, ev.Seq, ledger.Leaf(ev.TipID, ledger.Body(ev)))
		if !bytes.Equal(prev, ev.Hash) {
			t.Fatalf("event %d: link from digests differs from its hash", ev.Seq)
		}
	}
	body := ledger.Body(evs[3])
	body[0] ^= 1
	if bytes.Equal(ledger.Link(evs[3].PrevHash, evs[3].Seq, ledger.Leaf(evs[3].TipID, body)), evs[3].Hash) {
		t.Fatal("a changed body links the same")
	}
	if bytes.Equal(ledger.Link(evs[3].PrevHash, evs[3].Seq, ledger.Leaf(evs[3].TipID+1, ledger.Body(evs[3]))), evs[3].Hash) {
		t.Fatal("a digest moved to another case links the same")
	}
	// The salt hides the fields: two events equal but for their salt have
	// unrelated bodies.
	a, b := *evs[0], *evs[0]
	a.Salt, b.Salt = ledger.NewSalt(), ledger.NewSalt()
	if bytes.Equal(ledger.Body(&a), ledger.Body(&b)) {
		t.Fatal("salt does not change the body")
	}
}

func TestShortForm(t *testing.T) {
	h := bytes.Repeat([]byte{0x3f, 0x2a}, 16)
	if got, want := ledger.Short(h), "3f2a-3f2a-3f2a-3f2a-3f2a"; got != want {
		t.Fatalf("Short = %q, want %q", got, want)
	}
}

func TestParseAnchor(t *testing.T) {
	evs := mixed(12)
	hashes := map[int64][]byte{}
	for _, ev := range evs {
		hashes[ev.Seq] = ev.Hash
	}
	full := fmt.Sprintf("7:%x", evs[6].Hash)
	short := "7 " + ledger.Short(evs[6].Hash)
	for _, s := range []string{full, short, strings.ToUpper(full)} {
		a, err := ledger.ParseAnchor(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if b := a.Check(hashes, 12); b != nil {
			t.Fatalf("%q: %v", s, b)
		}
	}
	a, _ := ledger.ParseAnchor(full)
	if b := a.Check(hashes, 6); b == nil || b.Seq != 7 || !strings.Contains(b.Reason, "deleted from the end") {
		t.Fatalf("truncated before the anchor: %v", b)
	}
	hashes[7] = evs[7].Hash
	if b := a.Check(hashes, 12); b == nil || !strings.Contains(b.Reason, "rewritten") {
		t.Fatalf("rewritten: %v", b)
	}
	for _, bad := range []string{"", "7", "x:abc", "0:" + strings.Repeat("a", 64), "7:abc", "7:" + strings.Repeat("g", 20), "7:" + strings.Repeat("a", 65)} {
		if _, err := ledger.ParseAnchor(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	file := "# register\n\n" + full + "\n" + fmt.Sprintf(`{"id":"x","event":"case.opened","ledger":{"seq":3,"hash":"%x"}}`, evs[2].Hash) + "\n"
	as, err := ledger.ParseAnchors(strings.NewReader(file))
	if err != nil || len(as) != 2 || as[1].Seq != 3 {
		t.Fatalf("ParseAnchors = %v, %v", as, err)
	}
	if _, err := ledger.ParseAnchors(strings.NewReader("7:zz\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad file: %v", err)
	}
}
