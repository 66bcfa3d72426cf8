package vault

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Wrapped key blob versions. The first byte tells which kind of KEK opened
// it, so a password blob never gets tried as a recovery blob.
const (
	wrapPasswordV1 = 0x01
	wrapRecoveryV1 = 0x02

	saltSize = 16

	// version, time, memory, threads, salt
	passwordHeaderSize = 1 + 4 + 4 + 1 + saltSize
	// version, salt
	recoveryHeaderSize = 1 + saltSize
)

// WrapWithPassword encrypts k's private key under a KEK derived from password
// with argon2id (the Vault's parameters, through the bounded pool) and a
// random 16-byte salt. The result is self-describing: version byte, argon2
// parameters, salt, nonce, XChaCha20-Poly1305 ciphertext; the associated
// data binds the version, parameters and salt.
func (v *Vault) WrapWithPassword(ctx context.Context, k *PrivateKey, password string) ([]byte, error) {
	p := v.argon
	header := make([]byte, passwordHeaderSize)
	header[0] = wrapPasswordV1
	binary.BigEndian.PutUint32(header[1:5], p.Time)
	binary.BigEndian.PutUint32(header[5:9], p.MemoryKiB)
	header[9] = p.Threads
	salt := header[10:passwordHeaderSize]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("vault: salt: %w", err)
	}
	kek, err := v.deriveKEK(ctx, password, salt, p)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return wrapSeed(kek, header, k)
}

// DecoyPasswordWrap returns a blob shaped like WrapWithPassword's (the
// Vault's parameters, a random salt, nonce and ciphertext) that no password
// opens: unwrapping it costs the same derivation as a real one and fails.
// It costs no derivation to make, so the first log-in at an unknown name
// after a start takes no longer than the next.
func (v *Vault) DecoyPasswordWrap() []byte {
	p := v.argon
	out := make([]byte, passwordHeaderSize+chacha20poly1305.NonceSizeX+PrivateKeySize+chacha20poly1305.Overhead)
	out[0] = wrapPasswordV1
	binary.BigEndian.PutUint32(out[1:5], p.Time)
	binary.BigEndian.PutUint32(out[5:9], p.MemoryKiB)
	out[9] = p.Threads
	rand.Read(out[10:]) // never fails since Go 1.24
	return out
}

// UnwrapWithPassword reverses WrapWithPassword using the parameters stored in
// the blob. A wrong password returns ErrWrongPassword and a nil key; a
// malformed blob returns an error matching both ErrWrappedFormat and
// ErrWrongPassword. If ctx ends while waiting for the pool, ctx.Err() is
// returned. A successful unwrap is the password check.
func (v *Vault) UnwrapWithPassword(ctx context.Context, wrapped []byte, password string) (*PrivateKey, error) {
	if len(wrapped) < passwordHeaderSize || wrapped[0] != wrapPasswordV1 {
		return nil, fmt.Errorf("%w: %w: not a password-wrapped key", ErrWrongPassword, ErrWrappedFormat)
	}
	p := Argon2Params{
		Time:      binary.BigEndian.Uint32(wrapped[1:5]),
		MemoryKiB: binary.BigEndian.Uint32(wrapped[5:9]),
		Threads:   wrapped[9],
	}
	// Refuse absurd parameters before allocating anything: the blob comes
	// from the database, which we assume may be tampered with.
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrWrongPassword, ErrWrappedFormat, err)
	}
	kek, err := v.deriveKEK(ctx, password, wrapped[10:passwordHeaderSize], p)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return unwrapSeed(kek, wrapped, passwordHeaderSize)
}

// Rewrap changes the password protecting a wrapped key: it unwraps with
// oldPassword and wraps again with newPassword and the Vault's current
// parameters (which also upgrades old parameters).
func (v *Vault) Rewrap(ctx context.Context, wrapped []byte, oldPassword, newPassword string) ([]byte, error) {
	k, err := v.UnwrapWithPassword(ctx, wrapped, oldPassword)
	if err != nil {
		return nil, err
	}
	defer k.Wipe()
	return v.WrapWithPassword(ctx, k, newPassword)
}

// WrapWithRecoveryKey encrypts k's private key under a KEK derived with
// HKDF-SHA256 from the recovery key (no argon2: it is 256 random bits) and a
// random salt. recoveryKey is parsed tolerantly (case, spaces, dashes).
func WrapWithRecoveryKey(k *PrivateKey, recoveryKey string) ([]byte, error) {
	secret, err := decodeRecoveryKey(recoveryKey)
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	header := make([]byte, recoveryHeaderSize)
	header[0] = wrapRecoveryV1
	if _, err := rand.Read(header[1:]); err != nil {
		return nil, fmt.Errorf("vault: salt: %w", err)
	}
	kek, err := recoveryKEK(secret, header[1:])
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return wrapSeed(kek, header, k)
}

// UnwrapWithRecoveryKey reverses WrapWithRecoveryKey. A wrong recovery key
// returns ErrWrongPassword; a mistyped one an error matching both
// ErrRecoveryKeyFormat and ErrWrongPassword.
func UnwrapWithRecoveryKey(wrapped []byte, recoveryKey string) (*PrivateKey, error) {
	secret, err := decodeRecoveryKey(recoveryKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongPassword, err)
	}
	defer clear(secret)
	if len(wrapped) < recoveryHeaderSize || wrapped[0] != wrapRecoveryV1 {
		return nil, fmt.Errorf("%w: %w: not a recovery-wrapped key", ErrWrongPassword, ErrWrappedFormat)
	}
	kek, err := recoveryKEK(secret, wrapped[1:recoveryHeaderSize])
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return unwrapSeed(kek, wrapped, recoveryHeaderSize)
}

func recoveryKEK(secret, salt []byte) ([]byte, error) {
	kek, err := hkdf.Key(sha256.New, secret, salt, "hotline/v1 recovery wrap", chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("vault: derive recovery kek: %w", err)
	}
	return kek, nil
}

// wrapSeed returns header || nonce || XChaCha20-Poly1305(kek, seed, ad=header).
func wrapSeed(kek, header []byte, k *PrivateKey) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("vault: wrap cipher: %w", err)
	}
	out := make([]byte, len(header)+aead.NonceSize(), len(header)+aead.NonceSize()+PrivateKeySize+aead.Overhead())
	copy(out, header)
	nonce := out[len(header):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	err = k.withSeed(func(seed []byte) error {
		out = aead.Seal(out, nonce, seed, header)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("vault: wrap: %w", err)
	}
	return out, nil
}

// unwrapSeed opens a blob made by wrapSeed and parses the private key,
// zeroing the temporary plaintext.
func unwrapSeed(kek, wrapped []byte, headerSize int) (*PrivateKey, error) {
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap cipher: %w", err)
	}
	ns := aead.NonceSize()
	if len(wrapped) != headerSize+ns+PrivateKeySize+aead.Overhead() {
		return nil, fmt.Errorf("%w: %w: bad length", ErrWrongPassword, ErrWrappedFormat)
	}
	header, nonce, ct := wrapped[:headerSize], wrapped[headerSize:headerSize+ns], wrapped[headerSize+ns:]
	seed, err := aead.Open(nil, nonce, ct, header)
	if err != nil {
		return nil, ErrWrongPassword
	}
	defer clear(seed)
	k, err := PrivateKeyFromBytes(seed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWrongPassword, err)
	}
	return k, nil
}
