package vault

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// opens checks that got is the same key pair as want by opening a message.
func opens(t *testing.T, got, want *PrivateKey) {
	t.Helper()
	if got == nil {
		t.Fatal("key is nil")
	}
	if !bytes.Equal(got.PublicKey(), want.PublicKey()) {
		t.Errorf("unwrapped public key differs")
	}
	ct, err := Seal(want.PublicKey(), testInfo, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := Open(got, testInfo, ct); err != nil || string(pt) != "hello" {
		t.Errorf("Open with unwrapped key = %q, %v, want %q, nil", pt, err, "hello")
	}
}

func TestWrapWithPassword(t *testing.T) {
	ctx := context.Background()
	v := newTestVault(t, 1)
	k, _ := GenerateKeyPair()
	wrapped, err := v.WrapWithPassword(ctx, k, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(wrapped), passwordHeaderSize+24+PrivateKeySize+16; got != want {
		t.Errorf("wrapped length = %d, want %d", got, want)
	}
	if bytes.Contains(wrapped, k.seed) {
		t.Errorf("wrapped blob contains the private key")
	}
	again, _ := v.WrapWithPassword(ctx, k, "correct horse")
	if bytes.Equal(again, wrapped) {
		t.Errorf("two wraps are equal, want random salt and nonce")
	}

	got, err := v.UnwrapWithPassword(ctx, wrapped, "correct horse")
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	opens(t, got, k)

	// A Vault with another server key and other defaults still unwraps: the
	// blob carries its parameters and does not depend on the server key.
	other, _ := New(testKey(9), Options{Argon: Argon2Params{Time: 2, MemoryKiB: 128, Threads: 2}})
	got, err = other.UnwrapWithPassword(ctx, wrapped, "correct horse")
	if err != nil {
		t.Fatalf("unwrap with other vault: %v", err)
	}
	opens(t, got, k)

	tests := []struct {
		name     string
		wrapped  []byte
		password string
	}{
		{"wrong password", wrapped, "correct horse "},
		{"empty password", wrapped, ""},
		{"empty blob", nil, "correct horse"},
		{"truncated", wrapped[:len(wrapped)-1], "correct horse"},
		{"header only", wrapped[:passwordHeaderSize], "correct horse"},
		{"extended", append(bytes.Clone(wrapped), 0), "correct horse"},
		{"recovery blob", func() []byte {
			rk, _ := NewRecoveryKey()
			b, _ := WrapWithRecoveryKey(k, rk)
			return b
		}(), "correct horse"},
	}
	for i := range wrapped {
		flipped := bytes.Clone(wrapped)
		flipped[i] ^= 0x01
		tests = append(tests, struct {
			name     string
			wrapped  []byte
			password string
		}{fmt.Sprintf("flip byte %d", i), flipped, "correct horse"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.UnwrapWithPassword(ctx, tt.wrapped, tt.password)
			if !errors.Is(err, ErrWrongPassword) || got != nil {
				t.Errorf("Unwrap = %v, %v, want nil, %v", got, err, ErrWrongPassword)
			}
		})
	}
}

func TestUnwrapRefusesCostlyParams(t *testing.T) {
	v := newTestVault(t, 1)
	k, _ := GenerateKeyPair()
	wrapped, _ := v.WrapWithPassword(context.Background(), k, "pw")
	tests := []struct {
		name string
		edit func(b []byte)
	}{
		{"memory 4 GiB", func(b []byte) { binary.BigEndian.PutUint32(b[5:9], 4<<20) }},
		{"time 1e6", func(b []byte) { binary.BigEndian.PutUint32(b[1:5], 1e6) }},
		{"time 0", func(b []byte) { binary.BigEndian.PutUint32(b[1:5], 0) }},
		{"threads 0", func(b []byte) { b[9] = 0 }},
		{"version 9", func(b []byte) { b[0] = 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(wrapped)
			tt.edit(b)
			got, err := v.UnwrapWithPassword(context.Background(), b, "pw")
			if !errors.Is(err, ErrWrappedFormat) || !errors.Is(err, ErrWrongPassword) || got != nil {
				t.Errorf("Unwrap = %v, %v, want nil, %v", got, err, ErrWrappedFormat)
			}
		})
	}
	if got := v.KDFStats().Total; got != 1 {
		t.Errorf("Total derivations = %d, want 1 (refusals must not derive)", got)
	}
}

func TestWrapDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB argon2id")
	}
	v, err := New(testKey(1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	wrapped, err := v.WrapWithPassword(context.Background(), k, "pässwörd")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := binary.BigEndian.Uint32(wrapped[5:9]), uint32(64*1024); got != want {
		t.Errorf("stored memory = %d KiB, want %d", got, want)
	}
	if got, want := binary.BigEndian.Uint32(wrapped[1:5]), uint32(3); got != want {
		t.Errorf("stored time = %d, want %d", got, want)
	}
	if got, want := wrapped[9], uint8(4); got != want {
		t.Errorf("stored threads = %d, want %d", got, want)
	}
	got, err := v.UnwrapWithPassword(context.Background(), wrapped, "pässwörd")
	if err != nil {
		t.Fatal(err)
	}
	opens(t, got, k)
	if got, err := v.UnwrapWithPassword(context.Background(), wrapped, "passwörd"); !errors.Is(err, ErrWrongPassword) || got != nil {
		t.Errorf("wrong password: %v, %v, want nil, %v", got, err, ErrWrongPassword)
	}
}

func TestRewrap(t *testing.T) {
	ctx := context.Background()
	v := newTestVault(t, 1)
	k, _ := GenerateKeyPair()
	wrapped, _ := v.WrapWithPassword(ctx, k, "old")

	if got, err := v.Rewrap(ctx, wrapped, "wrong", "new"); !errors.Is(err, ErrWrongPassword) || got != nil {
		t.Errorf("Rewrap(wrong old) = %x, %v, want nil, %v", got, err, ErrWrongPassword)
	}
	rewrapped, err := v.Rewrap(ctx, wrapped, "old", "new")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.UnwrapWithPassword(ctx, rewrapped, "old"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("old password on rewrapped = %v, want %v", err, ErrWrongPassword)
	}
	got, err := v.UnwrapWithPassword(ctx, rewrapped, "new")
	if err != nil {
		t.Fatal(err)
	}
	opens(t, got, k)
}

func TestRecoveryKey(t *testing.T) {
	rk, err := NewRecoveryKey()
	if err != nil {
		t.Fatal(err)
	}
	groups := strings.Split(rk, "-")
	if got, want := len(groups), 11; got != want {
		t.Fatalf("recovery key %q has %d groups, want %d", rk, got, want)
	}
	for i, g := range groups {
		want := 5
		if i == len(groups)-1 {
			want = 3
		}
		if len(g) != want || strings.Trim(g, crockford) != "" {
			t.Errorf("group %d = %q, want %d Crockford characters", i, g, want)
		}
	}
	secret, err := decodeRecoveryKey(rk)
	if err != nil || len(secret) != 32 {
		t.Fatalf("decode = %d bytes, %v, want 32, nil", len(secret), err)
	}
	if rk2, _ := NewRecoveryKey(); rk2 == rk {
		t.Errorf("two recovery keys are equal")
	}

	k, _ := GenerateKeyPair()
	wrapped, err := WrapWithRecoveryKey(k, rk)
	if err != nil {
		t.Fatal(err)
	}
	lookAlike := strings.NewReplacer("0", "o", "1", "l").Replace(rk)
	spellings := map[string]string{
		"canonical":  rk,
		"lower":      strings.ToLower(rk),
		"spaces":     strings.ReplaceAll(rk, "-", " "),
		"no dashes":  strings.ReplaceAll(rk, "-", ""),
		"look-alike": lookAlike,
		"padded":     "  " + strings.ReplaceAll(rk, "-", " - ") + "\n",
	}
	for name, s := range spellings {
		t.Run(name, func(t *testing.T) {
			got, err := UnwrapWithRecoveryKey(wrapped, s)
			if err != nil {
				t.Fatalf("unwrap with %q: %v", s, err)
			}
			opens(t, got, k)
			if canon, err := ParseRecoveryKey(s); err != nil || canon != rk {
				t.Errorf("ParseRecoveryKey(%q) = %q, %v, want %q, nil", s, canon, err, rk)
			}
		})
	}
	// Wrapping with a rewritten key gives a blob the canonical one opens.
	w2, err := WrapWithRecoveryKey(k, strings.ToLower(strings.ReplaceAll(rk, "-", "")))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnwrapWithRecoveryKey(w2, rk); err != nil {
		t.Errorf("unwrap of tolerant wrap: %v", err)
	} else {
		opens(t, got, k)
	}

	otherKey, _ := NewRecoveryKey()
	typo := []byte(rk)
	typo[7] = crockford[(strings.IndexByte(crockford, typo[7])+1)%32]
	v := newTestVault(t, 1)
	pwBlob, _ := v.WrapWithPassword(context.Background(), k, "pw")
	tests := []struct {
		name       string
		wrapped    []byte
		key        string
		formatErr  bool
		wrappedErr bool
	}{
		{"other recovery key", wrapped, otherKey, false, false},
		{"typo", wrapped, string(typo), true, false},
		{"too short", wrapped, rk[:len(rk)-1], true, false},
		{"bad character", wrapped, "U" + rk[1:], true, false},
		{"empty", wrapped, "", true, false},
		{"password blob", pwBlob, rk, false, true},
		{"truncated", wrapped[:len(wrapped)-1], rk, false, true},
		{"flipped", func() []byte { b := bytes.Clone(wrapped); b[len(b)-1] ^= 1; return b }(), rk, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnwrapWithRecoveryKey(tt.wrapped, tt.key)
			if !errors.Is(err, ErrWrongPassword) || got != nil {
				t.Fatalf("Unwrap = %v, %v, want nil, %v", got, err, ErrWrongPassword)
			}
			if g := errors.Is(err, ErrRecoveryKeyFormat); g != tt.formatErr {
				t.Errorf("errors.Is(%v, ErrRecoveryKeyFormat) = %v, want %v", err, g, tt.formatErr)
			}
			if g := errors.Is(err, ErrWrappedFormat); g != tt.wrappedErr {
				t.Errorf("errors.Is(%v, ErrWrappedFormat) = %v, want %v", err, g, tt.wrappedErr)
			}
		})
	}
	if _, err := WrapWithRecoveryKey(k, string(typo)); !errors.Is(err, ErrRecoveryKeyFormat) {
		t.Errorf("WrapWithRecoveryKey(typo) error = %v, want %v", err, ErrRecoveryKeyFormat)
	}
}

func TestRecoveryKeyNonCanonicalPadding(t *testing.T) {
	rk, _ := NewRecoveryKey()
	vals, _ := decodeCode(rk)
	vals[recoveryDataChars-1] ^= 0x01 // a padding bit
	vals[recoveryDataChars] = dammCheck(vals[:recoveryDataChars])
	if _, err := ParseRecoveryKey(group(vals)); !errors.Is(err, ErrRecoveryKeyFormat) {
		t.Errorf("non-canonical padding error = %v, want %v", err, ErrRecoveryKeyFormat)
	}
}

// A decoy is shaped like a password wrap of the Vault's parameters: no
// password opens it, and trying one costs the same derivation.
func TestDecoyPasswordWrap(t *testing.T) {
	v, err := New(testKey(1), cheap)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	real, err := v.WrapWithPassword(context.Background(), k, "pw")
	if err != nil {
		t.Fatal(err)
	}
	d := v.DecoyPasswordWrap()
	if len(d) != len(real) || !bytes.Equal(d[:10], real[:10]) {
		t.Fatalf("decoy %x… (%d bytes), real %x… (%d bytes)", d[:10], len(d), real[:10], len(real))
	}
	before := v.KDFStats().Total
	if _, err := v.UnwrapWithPassword(context.Background(), d, "pw"); !errors.Is(err, ErrWrongPassword) || errors.Is(err, ErrWrappedFormat) {
		t.Fatalf("unwrapping a decoy: %v, want a plain wrong password", err)
	}
	if got := v.KDFStats().Total - before; got != 1 {
		t.Fatalf("%d derivations for a decoy, want 1", got)
	}
}
