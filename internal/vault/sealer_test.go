package vault

import (
	"bytes"
	"errors"
	"testing"
)

func TestPrepareSealOpensLikeSeal(t *testing.T) {
	k, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	info := Info{School: 7, Tip: "t1", Msg: "m1", Part: "body"}
	s, err := PrepareSeal(k.PublicKey(), info)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal([]byte("他们在厕所打我"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(k, info, ct)
	if err != nil || !bytes.Equal(got, []byte("他们在厕所打我")) {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := Open(k, Info{School: 7, Tip: "t1", Msg: "m2", Part: "body"}, ct); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("other info: %v", err)
	}
	if _, err := s.Seal([]byte("again")); !errors.Is(err, ErrSealerUsed) {
		t.Fatalf("second seal: %v", err)
	}
	if _, err := PrepareSeal(k.PublicKey(), Info{Tip: "a|b"}); !errors.Is(err, ErrInfo) {
		t.Fatalf("bad info: %v", err)
	}
}
