package vault

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealForPage(t *testing.T) {
	v := newTestVault(t, 1)
	const secret = "page-secret-0123456789abcdef"
	sealed, err := v.SealForPage(secret, "tip-1", []byte("7KQ2M-9XFH3-DPWT8-NABCE"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("7KQ2M")) {
		t.Fatal("receipt readable in the sealed copy")
	}
	got, err := v.OpenForPage(secret, "tip-1", sealed)
	if err != nil || string(got) != "7KQ2M-9XFH3-DPWT8-NABCE" {
		t.Fatalf("open: got %q, %v", got, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"other secret": func() ([]byte, error) { return v.OpenForPage(secret+"x", "tip-1", sealed) },
		"other row":    func() ([]byte, error) { return v.OpenForPage(secret, "tip-2", sealed) },
		"other server": func() ([]byte, error) { return newTestVault(t, 2).OpenForPage(secret, "tip-1", sealed) },
	} {
		if _, err := open(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: got %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := v.SealForPage("short", "tip-1", []byte("x")); err == nil {
		t.Error("a short page secret was accepted")
	}
}
