package vault

import (
	"bytes"
	"crypto/hpke"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
)

// The HPKE suite is fixed: changing it makes every stored message unreadable.
// MLKEM768X25519 because reports about children must stay secret for decades.
var (
	kem      = hpke.MLKEM768X25519()
	kdf      = hpke.HKDFSHA256()
	aeadAlgo = hpke.ChaCha20Poly1305()
)

// PrivateKeySize is the size of a serialized private key (the hybrid KEM
// seed).
const PrivateKeySize = 32

// PrivateKey is an HPKE private key (a school's, the district's or a
// reporter's). It holds the serialized key bytes, so they can be zeroed by
// Wipe, and the parsed key. It is safe for concurrent use.
//
// Wipe is best effort: it zeroes every byte slice this package owns, but the
// expanded ML-KEM and X25519 keys inside crypto/hpke cannot be zeroed from
// outside and are only dropped for the garbage collector.
type PrivateKey struct {
	mu   sync.RWMutex
	seed []byte          // serialized private key; nil after Wipe
	key  hpke.PrivateKey // parsed key; nil after Wipe
	pub  []byte          // serialized public key; kept after Wipe
}

// GenerateKeyPair returns a fresh random key pair.
func GenerateKeyPair() (*PrivateKey, error) {
	k, err := kem.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("vault: generate key: %w", err)
	}
	return fromHPKE(k)
}

// PrivateKeyFromBytes parses a serialized private key. The caller keeps
// ownership of b (it is copied) and should clear it.
func PrivateKeyFromBytes(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return nil, fmt.Errorf("vault: private key must be %d bytes, got %d", PrivateKeySize, len(b))
	}
	k, err := kem.NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("vault: parse private key: %w", err)
	}
	return fromHPKE(k)
}

func fromHPKE(k hpke.PrivateKey) (*PrivateKey, error) {
	b, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("vault: serialize private key: %w", err)
	}
	return &PrivateKey{seed: bytes.Clone(b), key: k, pub: k.PublicKey().Bytes()}, nil
}

// PublicKey returns the serialized public key (a copy). It stays available
// after Wipe: it is not secret.
func (k *PrivateKey) PublicKey() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return bytes.Clone(k.pub)
}

// Wipe zeroes every byte slice holding private key material and drops the
// parsed key. It is safe to call twice; afterwards Open fails with
// ErrDecrypt (and ErrKeyWiped).
func (k *PrivateKey) Wipe() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	clear(k.seed)
	if k.key != nil {
		// crypto/hpke currently returns its internal seed here: zero it too.
		// If it returns a copy, this clears only that copy, which is harmless.
		if b, err := k.key.Bytes(); err == nil {
			clear(b)
		}
	}
	k.seed = nil
	k.key = nil
}

// Wiped reports whether Wipe was called.
func (k *PrivateKey) Wiped() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.key == nil
}

// withSeed calls f with the private key bytes under the read lock, so a
// concurrent Wipe cannot zero them halfway. f must not retain them.
func (k *PrivateKey) withSeed(f func(seed []byte) error) error {
	if k == nil {
		return ErrKeyWiped
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.key == nil {
		return ErrKeyWiped
	}
	return f(k.seed)
}

// Format prints a redacted placeholder, so the key can never end up in a log
// through %v or %+v.
func (k *PrivateKey) Format(f fmt.State, verb rune) { io.WriteString(f, "vault.PrivateKey{REDACTED}") }

// LogValue redacts the key in slog output.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue("vault.PrivateKey{REDACTED}") }

// Versions of the HPKE info label. A message stores the version it was
// sealed under, and opens only under that one.
const (
	// InfoV1 binds school, tip, message and part: the label of messages
	// sealed before authors were bound. The zero Version means InfoV1.
	InfoV1 = 1
	// InfoV2 also binds who wrote the message (author kind and counselor),
	// so that a note cannot be relabelled as the reporter's words, nor a
	// reply as another counselor's.
	InfoV2 = 2
)

// Info binds a ciphertext to its place, so a ciphertext moved to another row
// (another school, tip, message or part) does not open; from InfoV2 on also
// to its author.
type Info struct {
	// Version is the label's format: InfoV1 (or 0) or InfoV2.
	Version int
	School  int64
	Tip     string
	Msg     string
	// Part: "body", "attachment", "reporter-body", "reporter-attachment",
	// "district-body", ...
	Part string
	// Author is the message's author kind ("reporter", "counselor",
	// "note", "system"); InfoV2 only, where it is required.
	Author string
	// Counselor is the staff member who wrote a reply or note, 0 when none;
	// InfoV2 only.
	Counselor int64
}

// Bytes returns the HPKE info: "hotline/v1|<school>|<tip>|<msg>|<part>" for
// InfoV1, "hotline/v2|<school>|<tip>|<msg>|<part>|<author>|<counselor>" for
// InfoV2. Fields must not contain '|' (see Validate); Seal and Open refuse
// them.
func (i Info) Bytes() []byte {
	b := make([]byte, 0, 48+len(i.Tip)+len(i.Msg)+len(i.Part)+len(i.Author))
	if i.Version == InfoV2 {
		b = append(b, "hotline/v2|"...)
	} else {
		b = append(b, "hotline/v1|"...)
	}
	b = strconv.AppendInt(b, i.School, 10)
	b = append(b, '|')
	b = append(b, i.Tip...)
	b = append(b, '|')
	b = append(b, i.Msg...)
	b = append(b, '|')
	b = append(b, i.Part...)
	if i.Version == InfoV2 {
		b = append(b, '|')
		b = append(b, i.Author...)
		b = append(b, '|')
		b = strconv.AppendInt(b, i.Counselor, 10)
	}
	return b
}

// Validate reports an error wrapping ErrInfo if a field contains '|', which
// would make two different Infos encode to the same bytes, if the version
// is unknown, if an InfoV2 label has no author, or if an InfoV1 label sets
// fields it cannot bind (they would be silently ignored).
func (i Info) Validate() error {
	for _, f := range [...]struct{ name, v string }{{"tip", i.Tip}, {"msg", i.Msg}, {"part", i.Part}, {"author", i.Author}} {
		if strings.Contains(f.v, "|") {
			return fmt.Errorf("%w: %s contains '|'", ErrInfo, f.name)
		}
	}
	switch i.Version {
	case 0, InfoV1:
		if i.Author != "" || i.Counselor != 0 {
			return fmt.Errorf("%w: a version 1 label binds no author", ErrInfo)
		}
	case InfoV2:
		if i.Author == "" {
			return fmt.Errorf("%w: a version 2 label needs an author", ErrInfo)
		}
	default:
		return fmt.Errorf("%w: %w: label version %d", ErrInfo, ErrKeyVersion, i.Version)
	}
	return nil
}

// Seal encrypts plaintext to publicKey with HPKE single-shot mode, bound to
// info. Output: enc || ciphertext, as crypto/hpke.Seal returns it.
func Seal(publicKey []byte, info Info, plaintext []byte) ([]byte, error) {
	if err := info.Validate(); err != nil {
		return nil, err
	}
	pk, err := pubKeys.parse(publicKey)
	if err != nil {
		return nil, fmt.Errorf("vault: bad public key: %w", err)
	}
	ct, err := hpke.Seal(pk, kdf, aeadAlgo, info.Bytes(), plaintext)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	return ct, nil
}

// Open decrypts the output of Seal with k and the same info. Any failure
// (wrong key, wrong info, tampered, truncated, wiped key) returns an error
// matching ErrDecrypt.
func Open(k *PrivateKey, info Info, ciphertext []byte) ([]byte, error) {
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	if k == nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, ErrKeyWiped)
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.key == nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, ErrKeyWiped)
	}
	pt, err := hpke.Open(k.key, kdf, aeadAlgo, info.Bytes(), ciphertext)
	if err != nil {
		// The cause is deliberately not wrapped: it tells an attacker nothing
		// useful and the caller nothing actionable.
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Sealer is a single-shot HPKE seal prepared ahead of time: the key
// encapsulation — nearly all of a seal's cost — is done when it is made, so
// that sealing a reporter's words when they arrive takes microseconds. Its
// output is exactly Seal's; it seals once.
type Sealer struct {
	mu   sync.Mutex
	enc  []byte
	s    *hpke.Sender
	used bool
}

// PrepareSeal encapsulates a fresh key to publicKey for info.
func PrepareSeal(publicKey []byte, info Info) (*Sealer, error) {
	if err := info.Validate(); err != nil {
		return nil, err
	}
	pk, err := pubKeys.parse(publicKey)
	if err != nil {
		return nil, fmt.Errorf("vault: bad public key: %w", err)
	}
	enc, s, err := hpke.NewSender(pk, kdf, aeadAlgo, info.Bytes())
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	return &Sealer{enc: enc, s: s}, nil
}

// ErrSealerUsed is returned by a second Seal on one Sealer: reusing an
// encapsulation for another plaintext would break single-shot Open.
var ErrSealerUsed = fmt.Errorf("vault: sealer already used")

// Seal encrypts plaintext; the result opens with Open and the same info.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used {
		return nil, ErrSealerUsed
	}
	s.used = true
	ct, err := s.s.Seal(nil, plaintext)
	if err != nil {
		return nil, fmt.Errorf("vault: seal: %w", err)
	}
	s.s = nil
	return append(s.enc, ct...), nil
}
