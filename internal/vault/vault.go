// Package vault owns every key and cipher in Hotline; nothing else in Hotline
// touches cryptography.
//
// It holds the server key (lookup MACs, sealing Telegram chat ids), seals and
// opens messages with HPKE (MLKEM768X25519, HKDF-SHA256, ChaCha20Poly1305),
// wraps school and district private keys under argon2id-derived or recovery
// keys, and issues receipts, recovery keys, one-time passwords and ids.
//
// This package must never log key material or plaintext. Types holding
// secrets implement fmt.Formatter and slog.LogValuer so that an accidental
// %v or slog attribute prints a redacted placeholder.
package vault

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

var (
	// ErrDecrypt means a ciphertext did not open: wrong key, wrong info or
	// purpose, truncated or tampered.
	ErrDecrypt = errors.New("vault: cannot decrypt")
	// ErrWrongPassword means a wrapped private key did not unwrap: wrong
	// password or recovery key, or a damaged blob.
	ErrWrongPassword = errors.New("vault: wrong password or key")
	// ErrReceiptFormat means a receipt has bad characters, a bad length or a
	// check character mismatch, i.e. the reporter made a typo.
	ErrReceiptFormat = errors.New("vault: receipt has a typo")

	// ErrRecoveryKeyFormat means a recovery key has bad characters, a bad
	// length or a check character mismatch. Returned errors also match
	// ErrWrongPassword from UnwrapWithRecoveryKey.
	ErrRecoveryKeyFormat = errors.New("vault: recovery key has a typo")
	// ErrWrappedFormat means a wrapped key blob is malformed or of an unknown
	// version. Returned errors also match ErrWrongPassword.
	ErrWrappedFormat = errors.New("vault: wrapped key is malformed")
	// ErrKeyWiped means the private key was wiped and can no longer be used.
	ErrKeyWiped = errors.New("vault: private key was wiped")
	// ErrInfo means an Info field contains the '|' separator.
	ErrInfo = errors.New("vault: invalid info")
	// ErrServerKey means the server key is missing, malformed or unsafely
	// stored.
	ErrServerKey = errors.New("vault: bad server key")
)

const (
	// ServerKeySize is the size of the server key in bytes.
	ServerKeySize = 32
	// ServerKeyEnv is the environment variable that overrides the key file.
	ServerKeyEnv = "HOTLINE_SERVER_KEY"
	// ServerKeyFileEnv names a file holding the key (raw or base64), such
	// as a Docker secret under /run/secrets; it comes after ServerKeyEnv.
	ServerKeyFileEnv = "HOTLINE_SERVER_KEY_FILE"
	// ServerKeyFile is the key file name inside the data directory.
	ServerKeyFile = "server.key"

	// DefaultKDFConcurrency is the default number of concurrent argon2id
	// derivations.
	DefaultKDFConcurrency = 2

	serverSealVersion = 1
)

// DefaultArgon2Params are the argon2id parameters used when Options.Argon is
// zero: t=3, 64 MiB, p=4 (the DESIGN.md values).
var DefaultArgon2Params = Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// Limits accepted when unwrapping, so a forged blob cannot make the server
// allocate gigabytes or spin for minutes.
const (
	maxArgonTime      = 64
	maxArgonMemoryKiB = 1 << 20 // 1 GiB
)

func (p Argon2Params) withDefaults() Argon2Params {
	if p.Time == 0 {
		p.Time = DefaultArgon2Params.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = DefaultArgon2Params.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = DefaultArgon2Params.Threads
	}
	return p
}

func (p Argon2Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("argon2 time %d out of range [1,%d]", p.Time, maxArgonTime)
	case p.Threads < 1:
		return errors.New("argon2 threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxArgonMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of range [%d,%d]", p.MemoryKiB, 8*uint32(p.Threads), maxArgonMemoryKiB)
	}
	return nil
}

// Options configure a Vault.
type Options struct {
	// KDFConcurrency bounds concurrent argon2id derivations; <= 0 means
	// DefaultKDFConcurrency.
	KDFConcurrency int
	// Argon are the parameters for new password wraps; zero fields take
	// DefaultArgon2Params. Unwrapping uses the parameters stored in the blob.
	Argon Argon2Params
}

// KDFStats is a snapshot of the argon2id pool.
type KDFStats struct {
	Concurrency int    // pool size
	InFlight    int    // derivations running now
	MaxInFlight int    // highest InFlight ever seen
	Waiting     int    // callers waiting for a slot
	Total       uint64 // derivations completed
}

// Vault holds the server key (as derived subkeys) and the bounded argon2id
// pool. It is safe for concurrent use.
type Vault struct {
	macKey []byte // HMAC-SHA256 key for lookup indexes
	// reporterSalt is the HKDF salt of version 2 reporter keys: without it
	// a receipt guess cannot be checked against a stored public key.
	reporterSalt []byte
	seal         interface {
		Seal(dst, nonce, plaintext, additionalData []byte) []byte
		Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
		NonceSize() int
		Overhead() int
	}
	argon Argon2Params
	// fingerprint identifies the server key (Fingerprint).
	fingerprint string

	pool    *kdfPool
	statsMu sync.Mutex
	stats   KDFStats
}

// New returns a Vault for a 32-byte server key. The key bytes are not
// retained: only subkeys derived from them are.
func New(serverKey []byte, opt Options) (*Vault, error) {
	if len(serverKey) != ServerKeySize {
		return nil, fmt.Errorf("%w: need %d bytes, got %d", ErrServerKey, ServerKeySize, len(serverKey))
	}
	argon := opt.Argon.withDefaults()
	if err := argon.validate(); err != nil {
		return nil, fmt.Errorf("vault: options: %w", err)
	}
	n := opt.KDFConcurrency
	if n <= 0 {
		n = DefaultKDFConcurrency
	}
	// Separate subkeys per use, so a MAC can never be confused with a
	// ciphertext key and vice versa.
	macKey, err := hkdf.Key(sha256.New, serverKey, nil, "hotline/v1 server mac", 32)
	if err != nil {
		return nil, fmt.Errorf("vault: derive mac key: %w", err)
	}
	sealKey, err := hkdf.Key(sha256.New, serverKey, nil, "hotline/v1 server seal", chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("vault: derive seal key: %w", err)
	}
	reporterSalt, err := hkdf.Key(sha256.New, serverKey, nil, "hotline/v2 reporter key salt", 32)
	if err != nil {
		return nil, fmt.Errorf("vault: derive reporter salt: %w", err)
	}
	defer clear(sealKey) // the AEAD keeps its own copy
	aead, err := chacha20poly1305.NewX(sealKey)
	if err != nil {
		return nil, fmt.Errorf("vault: seal cipher: %w", err)
	}
	fp, err := fingerprint(serverKey)
	if err != nil {
		return nil, err
	}
	v := &Vault{macKey: macKey, reporterSalt: reporterSalt, seal: aead, argon: argon, pool: newKDFPool(n), fingerprint: fp}
	v.stats.Concurrency = n
	return v, nil
}

// ErrNoServerKey means none of the places a server key is read from holds
// one. It is returned wrapped in a *MissingKeyError naming those places.
var ErrNoServerKey = errors.New("vault: no server key")

// MissingKeyError says where a server key was looked for and not found.
type MissingKeyError struct {
	// Looked are the places in the order they are read, each with why it
	// held no key ("HOTLINE_SERVER_KEY: not set").
	Looked []string
	// File is the data directory's key file, where hotline init writes one.
	File string
}

func (e *MissingKeyError) Error() string {
	return "vault: no server key (looked in " + strings.Join(e.Looked, "; ") + ")"
}

func (e *MissingKeyError) Unwrap() error { return ErrNoServerKey }

// Load returns a Vault whose server key comes from the environment
// variable HOTLINE_SERVER_KEY (standard base64 of 32 bytes) if set, else
// from the file HOTLINE_SERVER_KEY_FILE names if set, else from the systemd
// credential server-key ($CREDENTIALS_DIRECTORY/server-key)
// if present, else from dataDir/server.key; source names the place. It
// never creates a key: without one it returns a *MissingKeyError (matching
// ErrNoServerKey). A variable set to blanks, a key file readable or
// writable by group or others, or a key of the wrong size is refused with
// ErrServerKey.
func Load(dataDir string, opt Options) (v *Vault, source string, err error) {
	key, source, err := ReadServerKey(dataDir)
	if err != nil {
		return nil, "", err
	}
	defer clear(key)
	v, err = New(key, opt)
	return v, source, err
}

// ReadServerKey returns the server key bytes and where they came from, as
// Load finds them. The caller clears the key after use.
func ReadServerKey(dataDir string) (key []byte, source string, err error) {
	var looked []string
	if env, ok := os.LookupEnv(ServerKeyEnv); ok {
		if strings.TrimSpace(env) == "" {
			// A blank line in an env file (KEY=) must not fall through to
			// another key, or to none: several nodes would part ways.
			return nil, "", fmt.Errorf("%w: %s is set but blank; give the key's base64 or remove the variable", ErrServerKey, ServerKeyEnv)
		}
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(env))
		if err != nil {
			// Do not include the value: it is the secret.
			return nil, "", fmt.Errorf("%w: %s is not standard base64", ErrServerKey, ServerKeyEnv)
		}
		if len(key) != ServerKeySize {
			clear(key)
			return nil, "", fmt.Errorf("%w: %s must decode to %d bytes, got %d", ErrServerKey, ServerKeyEnv, ServerKeySize, len(key))
		}
		return key, ServerKeyEnv, nil
	}
	looked = append(looked, ServerKeyEnv+": not set")
	if file, ok := os.LookupEnv(ServerKeyFileEnv); ok {
		// Named explicitly (a Docker secret): it is the key or there is
		// none; another place's key must not stand in for it.
		if strings.TrimSpace(file) == "" {
			return nil, "", fmt.Errorf("%w: %s is set but blank; name the key file or remove the variable", ErrServerKey, ServerKeyFileEnv)
		}
		key, err := readKeyFile(file)
		if errors.Is(err, os.ErrNotExist) {
			looked = append(looked, ServerKeyFileEnv+"="+file+": no such file")
			return nil, "", &MissingKeyError{Looked: looked, File: filepath.Join(dataDir, ServerKeyFile)}
		}
		if err != nil {
			return nil, "", err
		}
		return key, file, nil
	}
	looked = append(looked, ServerKeyFileEnv+": not set")
	key, credPath, err := credentialKey()
	switch {
	case err == nil:
		return key, credPath, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, "", err
	case credPath == "":
		looked = append(looked, "$"+CredentialsDirEnv+"/"+ServerKeyCredential+": "+CredentialsDirEnv+" not set")
	default:
		looked = append(looked, credPath+": no such file")
	}
	path := filepath.Join(dataDir, ServerKeyFile)
	key, err = readServerKey(path)
	if errors.Is(err, os.ErrNotExist) {
		looked = append(looked, path+": no such file")
		return nil, "", &MissingKeyError{Looked: looked, File: path}
	}
	if err != nil {
		return nil, "", err
	}
	return key, path, nil
}

// CreateServerKey writes a new random server key to dataDir/server.key
// (mode 0600, dataDir created 0700), for hotline init and demo only: a key
// made anywhere else would silently part a database from the key its
// receipts and chat ids were sealed under. When the file exists already it
// is kept, and created is false.
func CreateServerKey(dataDir string) (created bool, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return false, fmt.Errorf("vault: create data dir: %w", err)
	}
	path := filepath.Join(dataDir, ServerKeyFile)
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	}
	key, created, err := createServerKey(dataDir, path)
	clear(key)
	return created, err
}

// LoadOrCreate is Load, creating dataDir/server.key first when no key is
// found anywhere: for tests and tools that own their directory. The server
// makes a key only through CreateServerKey, after its database says it
// holds nothing (cmd/hotline).
func LoadOrCreate(dataDir string, opt Options) (*Vault, error) {
	v, _, err := Load(dataDir, opt)
	if errors.Is(err, ErrNoServerKey) {
		if _, err := CreateServerKey(dataDir); err != nil {
			return nil, err
		}
		v, _, err = Load(dataDir, opt)
	}
	return v, err
}

// Fingerprint returns the server key's fingerprint: 8 bytes of HKDF output
// in hex groups, e.g. "3f9a-12bc-07de-55a1". It identifies a key for
// comparison (the database records it) and reveals nothing of it.
func (v *Vault) Fingerprint() string { return v.fingerprint }

// KeyFingerprint returns the fingerprint of a server key given as raw
// bytes or their standard base64 (as a key file, a credential or
// HOTLINE_SERVER_KEY holds it).
func KeyFingerprint(keyFile []byte) (string, error) {
	key := keyFile
	if len(key) != ServerKeySize {
		var err error
		key, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(keyFile)))
		if err != nil || len(key) != ServerKeySize {
			return "", fmt.Errorf("%w: want %d bytes, raw or standard base64", ErrServerKey, ServerKeySize)
		}
		defer clear(key)
	}
	return fingerprint(key)
}

func fingerprint(key []byte) (string, error) {
	b, err := hkdf.Key(sha256.New, key, nil, "hotline/v1 server key fingerprint", 8)
	if err != nil {
		return "", fmt.Errorf("vault: derive fingerprint: %w", err)
	}
	h := hex.EncodeToString(b)
	return h[0:4] + "-" + h[4:8] + "-" + h[8:12] + "-" + h[12:16], nil
}

func readServerKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // may be ErrNotExist: the caller creates the key
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vault: stat server key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrServerKey, path)
	}
	// Windows has no meaningful Unix permission bits.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %#o, want 0600 (run: chmod 600 %s)", ErrServerKey, path, fi.Mode().Perm(), path)
	}
	// Read one byte more than needed to detect an oversized file.
	key := make([]byte, ServerKeySize+1)
	n, err := io.ReadFull(f, key)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		clear(key)
		return nil, fmt.Errorf("vault: read server key: %w", err)
	}
	if n != ServerKeySize {
		clear(key)
		return nil, fmt.Errorf("%w: %s must be exactly %d bytes", ErrServerKey, path, ServerKeySize)
	}
	return key[:ServerKeySize], nil
}

// createServerKey writes a fresh key to a temp file, fsyncs it and links it
// into place. A hard link (unlike rename) never replaces an existing file, so
// two processes starting at once cannot overwrite each other's key: losing
// the server key loses every lookup index.
func createServerKey(dir, path string) (key []byte, created bool, err error) {
	key = make([]byte, ServerKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("vault: generate server key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".server.key.*") // mode 0600
	if err != nil {
		clear(key)
		return nil, false, fmt.Errorf("vault: create server key: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	_, werr := tmp.Write(key)
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		clear(key)
		return nil, false, fmt.Errorf("vault: write server key: %w", werr)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Someone else won the race: use their key.
			clear(key)
			key, err = readServerKey(path)
			return key, false, err
		}
		// Filesystems without hard links: fall back to rename.
		if _, serr := os.Lstat(path); serr == nil {
			clear(key)
			key, err = readServerKey(path)
			return key, false, err
		}
		if rerr := os.Rename(tmpName, path); rerr != nil {
			clear(key)
			return nil, false, fmt.Errorf("vault: install server key: %w", rerr)
		}
	}
	syncDir(dir)
	return key, true, nil
}

// syncDir makes the new directory entry durable; best effort, as not every
// platform can fsync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Format prints a redacted placeholder, so the Vault's keys can never end up
// in a log through %v or %+v.
func (v *Vault) Format(f fmt.State, verb rune) { io.WriteString(f, "vault.Vault{REDACTED}") }

// LogValue redacts the Vault in slog output.
func (v *Vault) LogValue() slog.Value { return slog.StringValue("vault.Vault{REDACTED}") }

// MAC returns HMAC-SHA256 over data under a subkey of the server key,
// separated by purpose. It is deterministic and used as a lookup index
// (receipts, Telegram chat ids); purpose must be a constant.
func (v *Vault) MAC(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, v.macKey)
	// Length-prefix the purpose so ("ab","c") and ("a","bc") never collide.
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(purpose)))
	m.Write(n[:])
	m.Write([]byte(purpose))
	m.Write(data)
	return m.Sum(nil)
}

// EqualMAC compares two MACs in constant time.
func EqualMAC(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// SealServer encrypts plaintext with XChaCha20-Poly1305 under a key derived
// from the server key, with a random 24-byte nonce and purpose as associated
// data. Output: version byte || nonce || ciphertext.
func (v *Vault) SealServer(purpose string, plaintext []byte) ([]byte, error) {
	ns := v.seal.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+v.seal.Overhead())
	out[0] = serverSealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return v.seal.Seal(out, out[1:1+ns], plaintext, serverAD(purpose)), nil
}

// OpenServer decrypts the output of SealServer for the same purpose. Any
// failure returns ErrDecrypt.
func (v *Vault) OpenServer(purpose string, ciphertext []byte) ([]byte, error) {
	ns := v.seal.NonceSize()
	if len(ciphertext) < 1+ns+v.seal.Overhead() || ciphertext[0] != serverSealVersion {
		return nil, ErrDecrypt
	}
	pt, err := v.seal.Open(nil, ciphertext[1:1+ns], ciphertext[1+ns:], serverAD(purpose))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// serverAD binds the format version as well as the purpose.
func serverAD(purpose string) []byte {
	return append([]byte{serverSealVersion}, purpose...)
}

// KDFStats returns a snapshot of the argon2id pool.
func (v *Vault) KDFStats() KDFStats {
	v.statsMu.Lock()
	defer v.statsMu.Unlock()
	return v.stats
}

// deriveKEK runs argon2id in the bounded pool: at most KDFConcurrency
// derivations (each allocating MemoryKiB) run at once, so a burst of log-ins
// queues instead of exhausting memory. Waiting honours ctx; a ctx marked
// First goes ahead of the queue.
func (v *Vault) deriveKEK(ctx context.Context, password string, salt []byte, p Argon2Params) ([]byte, error) {
	v.statsMu.Lock()
	v.stats.Waiting++
	v.statsMu.Unlock()
	if err := v.pool.acquire(ctx, isFirst(ctx)); err != nil {
		v.statsMu.Lock()
		v.stats.Waiting--
		v.statsMu.Unlock()
		return nil, err
	}
	v.statsMu.Lock()
	v.stats.Waiting--
	v.stats.InFlight++
	v.stats.MaxInFlight = max(v.stats.MaxInFlight, v.stats.InFlight)
	v.statsMu.Unlock()
	derived := false
	defer func() {
		v.statsMu.Lock()
		v.stats.InFlight--
		if derived {
			v.stats.Total++
		}
		v.statsMu.Unlock()
		v.pool.release()
	}()
	// The select may pick the slot even if ctx was cancelled meanwhile; do
	// not burn 64 MiB for a caller who has gone.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pw := []byte(password) // a string cannot be zeroed, this copy can
	defer clear(pw)
	kek := argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
	derived = true
	return kek, nil
}
