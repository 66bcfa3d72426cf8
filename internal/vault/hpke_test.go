package vault

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

var testInfo = Info{School: 42, Tip: "0123456789abcdef0123456789abcdef", Msg: "fedcba9876543210fedcba9876543210", Part: "body"}

func TestInfoBytes(t *testing.T) {
	tests := []struct {
		info Info
		want string
	}{
		{testInfo, "hotline/v1|42|0123456789abcdef0123456789abcdef|fedcba9876543210fedcba9876543210|body"},
		{Info{School: -1, Part: "district-body"}, "hotline/v1|-1|||district-body"},
		{Info{}, "hotline/v1|0|||"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := string(tt.info.Bytes()); got != tt.want {
				t.Errorf("Bytes = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 1024, 100 << 10} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			pt := bytes.Repeat([]byte{0xA5}, n)
			ct, err := Seal(k.PublicKey(), testInfo, pt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Open(k, testInfo, ct)
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("Open = %d bytes, %v, want %d bytes, nil", len(got), err, n)
			}
		})
	}
}

func TestOpenFailures(t *testing.T) {
	k, _ := GenerateKeyPair()
	other, _ := GenerateKeyPair()
	pt := []byte("my teacher saw it and did nothing")
	ct, err := Seal(k.PublicKey(), testInfo, pt)
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name string
		key  *PrivateKey
		info Info
		ct   []byte
	}
	with := func(f func(*Info)) Info { i := testInfo; f(&i); return i }
	tests := []tc{
		{"wrong key", other, testInfo, ct},
		{"nil key", nil, testInfo, ct},
		{"wrong school", k, with(func(i *Info) { i.School = 43 }), ct},
		{"wrong tip", k, with(func(i *Info) { i.Tip = "x" }), ct},
		{"wrong msg", k, with(func(i *Info) { i.Msg = "x" }), ct},
		{"wrong part", k, with(func(i *Info) { i.Part = "reporter-body" }), ct},
		{"pipe in info", k, with(func(i *Info) { i.Part = "body|x" }), ct},
		{"empty", k, testInfo, nil},
		{"extended", k, testInfo, append(bytes.Clone(ct), 0)},
	}
	// Sample flips: the start and end of enc (ML-KEM then X25519 parts),
	// the AEAD ciphertext and the tag.
	encSize := len(ct) - len(pt) - 16
	for _, i := range []int{0, 1, 500, 1087, encSize - 32, encSize - 1, encSize, encSize + 5, len(ct) - 17, len(ct) - 16, len(ct) - 1} {
		flipped := bytes.Clone(ct)
		flipped[i] ^= 0x80
		tests = append(tests, tc{fmt.Sprintf("flip byte %d", i), k, testInfo, flipped})
	}
	for _, n := range []int{0, 1, encSize - 1, encSize, encSize + 1, len(ct) - 16, len(ct) - 1} {
		tests = append(tests, tc{fmt.Sprintf("truncated to %d", n), k, testInfo, ct[:n]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Open(tt.key, tt.info, tt.ct)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("Open = %q, %v, want nil, %v", got, err, ErrDecrypt)
			}
		})
	}
	// The original still opens: nothing above mutated it.
	if got, err := Open(k, testInfo, ct); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("Open(original) = %q, %v, want %q, nil", got, err, pt)
	}
}

func TestSealRejects(t *testing.T) {
	k, _ := GenerateKeyPair()
	for _, info := range []Info{{Tip: "a|b"}, {Msg: "|"}, {Part: "body|"}} {
		t.Run(fmt.Sprintf("%+v", info), func(t *testing.T) {
			if _, err := Seal(k.PublicKey(), info, []byte("x")); !errors.Is(err, ErrInfo) {
				t.Errorf("Seal error = %v, want %v", err, ErrInfo)
			}
		})
	}
	for _, pub := range [][]byte{nil, make([]byte, 10), k.PublicKey()[:100]} {
		if _, err := Seal(pub, testInfo, []byte("x")); err == nil {
			t.Errorf("Seal to %d-byte public key succeeded, want error", len(pub))
		}
	}
}

func TestWipe(t *testing.T) {
	k, _ := GenerateKeyPair()
	pub := k.PublicKey()
	ct, _ := Seal(pub, testInfo, []byte("x"))
	seed := k.seed // the slice Wipe must zero
	if bytes.Equal(seed, make([]byte, PrivateKeySize)) {
		t.Fatal("seed is already zero")
	}
	if k.Wiped() {
		t.Fatal("new key reports Wiped")
	}
	k.Wipe()
	if !bytes.Equal(seed, make([]byte, PrivateKeySize)) {
		t.Errorf("seed after Wipe = %x, want zeros", seed)
	}
	if k.seed != nil || k.key != nil {
		t.Errorf("Wipe kept references")
	}
	if !k.Wiped() {
		t.Errorf("Wiped() = false after Wipe, want true")
	}
	got, err := Open(k, testInfo, ct)
	if !errors.Is(err, ErrDecrypt) || !errors.Is(err, ErrKeyWiped) || got != nil {
		t.Errorf("Open after Wipe = %q, %v, want nil, %v", got, err, ErrKeyWiped)
	}
	k.Wipe() // twice is fine
	if got := k.PublicKey(); !bytes.Equal(got, pub) {
		t.Errorf("PublicKey after Wipe changed")
	}
	v := newTestVault(t, 1)
	if _, err := v.WrapWithPassword(t.Context(), k, "pw"); !errors.Is(err, ErrKeyWiped) {
		t.Errorf("WrapWithPassword(wiped) error = %v, want %v", err, ErrKeyWiped)
	}
	var nilKey *PrivateKey
	nilKey.Wipe() // must not panic
}

func TestPrivateKeyFromBytes(t *testing.T) {
	k, _ := GenerateKeyPair()
	k2, err := PrivateKeyFromBytes(k.seed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k2.PublicKey(), k.PublicKey()) {
		t.Errorf("parsed key has a different public key")
	}
	if _, err := PrivateKeyFromBytes(make([]byte, 31)); err == nil {
		t.Errorf("PrivateKeyFromBytes(31 bytes) succeeded, want error")
	}
	k3, _ := GenerateKeyPair()
	if bytes.Equal(k3.PublicKey(), k.PublicKey()) {
		t.Errorf("two generated keys are equal")
	}
}
