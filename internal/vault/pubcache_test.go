package vault

import (
	"bytes"
	"testing"
)

func TestPubCacheKeepsRecentKeys(t *testing.T) {
	c := newPubCache(2)
	keys := make([][]byte, 3)
	for i := range keys {
		k, err := GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k.PublicKey()
	}
	for _, k := range keys[:2] {
		if _, err := c.parse(k); err != nil {
			t.Fatal(err)
		}
	}
	first, _ := c.parse(keys[0]) // used again: now the most recent
	if again, _ := c.parse(keys[0]); again != first {
		t.Fatal("a key used lately was parsed again")
	}
	if _, err := c.parse(keys[2]); err != nil { // evicts keys[1], the least recent
		t.Fatal(err)
	}
	if got := c.order.Len(); got != 2 {
		t.Fatalf("cache holds %d keys, want 2", got)
	}
	if _, ok := c.byKey[string(keys[1])]; ok {
		t.Fatal("the least recently used key was kept")
	}
	if _, ok := c.byKey[string(keys[0])]; !ok {
		t.Fatal("the most recently used key was evicted")
	}
}

func TestPubCacheRefusesBadKeys(t *testing.T) {
	c := newPubCache(4)
	bad := bytes.Repeat([]byte{1}, 7)
	for range 2 {
		if _, err := c.parse(bad); err == nil {
			t.Fatal("a malformed public key parsed")
		}
	}
	if c.order.Len() != 0 {
		t.Fatal("a malformed key was cached")
	}
}

// A key from the cache seals what its private key opens, many times over.
func TestSealWithCachedKeyOpens(t *testing.T) {
	k, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	info := Info{Tip: "t", Msg: "m", Part: "body"}
	for i := range 3 {
		ct, err := Seal(k.PublicKey(), info, []byte("今天放学后"))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := Open(k, info, ct)
		if err != nil || string(pt) != "今天放学后" {
			t.Fatalf("seal %d: got %q, %v", i, pt, err)
		}
	}
}
