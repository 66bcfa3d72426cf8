package vault

import (
	"bytes"
	"errors"
	"testing"
)

func TestSessionSecretWrap(t *testing.T) {
	k, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	secret, bind := NewSessionSecret(), []byte("row-1")
	wrapped, err := WrapWithSessionSecret(k, secret, bind)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnwrapWithSessionSecret(wrapped, secret, bind)
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	if !bytes.Equal(got.PublicKey(), k.PublicKey()) {
		t.Fatal("unwrapped another key")
	}
	for name, tc := range map[string]struct{ wrapped, secret, bind []byte }{
		"wrong secret": {wrapped, NewSessionSecret(), bind},
		"other row":    {wrapped, secret, []byte("row-2")},
		"short secret": {wrapped, secret[:16], bind},
		"truncated":    {wrapped[:len(wrapped)-1], secret, bind},
		"not session":  {append([]byte{wrapPasswordV1}, wrapped[1:]...), secret, bind},
	} {
		if k, err := UnwrapWithSessionSecret(tc.wrapped, tc.secret, tc.bind); !errors.Is(err, ErrWrongPassword) || k != nil {
			t.Errorf("%s: got %v, %v, want ErrWrongPassword", name, k, err)
		}
	}

	sealed, err := SealWithSessionSecret(secret, bind, "totp", []byte("otpauth://x"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := OpenWithSessionSecret(secret, bind, "totp", sealed); err != nil || string(pt) != "otpauth://x" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := OpenWithSessionSecret(secret, bind, "other", sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("other purpose opened: %v", err)
	}
	if _, err := OpenWithSessionSecret(NewSessionSecret(), bind, "totp", sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("other secret opened: %v", err)
	}
}
