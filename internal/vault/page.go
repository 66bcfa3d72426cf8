package vault

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// pageSealVersion is the format byte of SealForPage.
const pageSealVersion = 1

// SealForPage seals plaintext (a web receipt) to a secret that only a
// reporter's page holds, so that the server can store it without being
// able to read it: XChaCha20-Poly1305 under HKDF-SHA256(ikm = page secret,
// salt = a subkey of the server key, info "hotline/v1 page seal"), with
// the row (the tip it belongs to) as associated data. Without the server
// key a stolen copy cannot test guesses of the secret either. Output:
// version byte || nonce || ciphertext.
func (v *Vault) SealForPage(pageSecret, row string, plaintext []byte) ([]byte, error) {
	aead, err := v.pageAEAD(pageSecret)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+aead.Overhead())
	out[0] = pageSealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return aead.Seal(out, out[1:1+ns], plaintext, []byte(row)), nil
}

// OpenForPage opens the output of SealForPage with the same page secret
// and row. Any failure (another page's secret included) returns ErrDecrypt.
func (v *Vault) OpenForPage(pageSecret, row string, ciphertext []byte) ([]byte, error) {
	aead, err := v.pageAEAD(pageSecret)
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(ciphertext) < 1+ns+aead.Overhead() || ciphertext[0] != pageSealVersion {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], []byte(row))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

func (v *Vault) pageAEAD(pageSecret string) (cipher.AEAD, error) {
	if len(pageSecret) < 16 {
		return nil, fmt.Errorf("vault: page secret too short")
	}
	key, err := hkdf.Key(sha256.New, []byte(pageSecret), v.MAC("page seal salt", nil), "hotline/v1 page seal", chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("vault: page key: %w", err)
	}
	defer clear(key)
	return chacha20poly1305.NewX(key)
}
