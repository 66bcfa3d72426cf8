package vault

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// wrapSessionV1 marks a key wrapped under a browser session's secret.
const wrapSessionV1 = 0x03

// SessionSecretSize is the size of a session secret: 256 random bits that
// only the browser's cookie carries.
const SessionSecretSize = 32

// NewSessionSecret returns a random session secret.
func NewSessionSecret() []byte {
	b := make([]byte, SessionSecretSize)
	rand.Read(b) // never fails since Go 1.24
	return b
}

// sessionKEK derives the key that wraps (purpose "key") or seals (any
// other purpose) a session's secrets. bind (the session row's name) goes
// into the derivation, so a blob moved to another row does not open.
func sessionKEK(secret, bind []byte, purpose string) ([]byte, error) {
	if len(secret) != SessionSecretSize {
		return nil, fmt.Errorf("%w: %w: bad session secret", ErrWrongPassword, ErrWrappedFormat)
	}
	kek, err := hkdf.Key(sha256.New, secret, bind, "hotline/v1 session "+purpose, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("vault: derive session kek: %w", err)
	}
	return kek, nil
}

// WrapWithSessionSecret wraps k's private key under a key derived with
// HKDF-SHA256 from a session secret (no argon2: it is 256 random bits) and
// bind. The database keeps the blob; only the browser keeps the secret, so a
// stolen database opens no session's key.
func WrapWithSessionSecret(k *PrivateKey, secret, bind []byte) ([]byte, error) {
	kek, err := sessionKEK(secret, bind, "key")
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return wrapSeed(kek, []byte{wrapSessionV1}, k)
}

// UnwrapWithSessionSecret reverses WrapWithSessionSecret; a wrong secret or
// bind returns ErrWrongPassword.
func UnwrapWithSessionSecret(wrapped, secret, bind []byte) (*PrivateKey, error) {
	if len(wrapped) < 1 || wrapped[0] != wrapSessionV1 {
		return nil, fmt.Errorf("%w: %w: not a session-wrapped key", ErrWrongPassword, ErrWrappedFormat)
	}
	kek, err := sessionKEK(secret, bind, "key")
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return unwrapSeed(kek, wrapped, 1)
}

// SealWithSessionSecret encrypts a session's small secret (a TOTP key being
// enrolled) under the session secret, for purpose.
func SealWithSessionSecret(secret, bind []byte, purpose string, plaintext []byte) ([]byte, error) {
	kek, err := sessionKEK(secret, bind, "seal "+purpose)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("vault: session cipher: %w", err)
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = wrapSessionV1
	rand.Read(out[1:])
	return aead.Seal(out, out[1:], plaintext, out[:1]), nil
}

// OpenWithSessionSecret reverses SealWithSessionSecret; any failure
// returns ErrDecrypt.
func OpenWithSessionSecret(secret, bind []byte, purpose string, sealed []byte) ([]byte, error) {
	kek, err := sessionKEK(secret, bind, "seal "+purpose)
	if err != nil {
		return nil, ErrDecrypt
	}
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, ErrDecrypt
	}
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() || sealed[0] != wrapSessionV1 {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], sealed[:1])
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}
