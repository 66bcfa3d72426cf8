package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap are argon2id parameters that keep tests fast; only
// TestWrapDefaultParams and the benchmark use the real defaults.
var cheap = Options{Argon: Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, ServerKeySize) }

func newTestVault(t testing.TB, b byte) *Vault {
	t.Helper()
	v, err := New(testKey(b), cheap)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestNewRejectsBadKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			_, err := New(make([]byte, n), Options{})
			if !errors.Is(err, ErrServerKey) {
				t.Errorf("New(%d bytes) error = %v, want %v", n, err, ErrServerKey)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	v, err := New(testKey(1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.KDFStats().Concurrency, DefaultKDFConcurrency; got != want {
		t.Errorf("Concurrency = %d, want %d", got, want)
	}
	if got, want := v.argon, (Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}); got != want {
		t.Errorf("argon = %+v, want %+v", got, want)
	}
	if _, err := New(testKey(1), Options{Argon: Argon2Params{Time: 1000}}); err == nil {
		t.Errorf("New with Time 1000 succeeded, want error")
	}
}

// unsetenv unsets k for the test and restores it after.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	os.Unsetenv(k)
}

// Load never makes a key: without one it names every place it looked, and
// a blank HOTLINE_SERVER_KEY (an env file's "KEY=") is refused rather than
// read as unset.
func TestLoadNeverCreates(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	unsetenv(t, ServerKeyFileEnv)
	unsetenv(t, CredentialsDirEnv)
	dir := t.TempDir()
	_, _, err := Load(dir, cheap)
	var missing *MissingKeyError
	if !errors.As(err, &missing) || !errors.Is(err, ErrNoServerKey) {
		t.Fatalf("Load without a key = %v, want a MissingKeyError", err)
	}
	for _, want := range []string{ServerKeyEnv + ": not set", ServerKeyFileEnv + ": not set", CredentialsDirEnv + " not set", filepath.Join(dir, ServerKeyFile) + ": no such file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Load wrote %d files into the data directory, want none", len(entries))
	}
	creds := t.TempDir()
	t.Setenv(CredentialsDirEnv, creds)
	if _, _, err := Load(dir, cheap); err == nil || !strings.Contains(err.Error(), filepath.Join(creds, ServerKeyCredential)+": no such file") {
		t.Errorf("Load with an empty credentials directory = %v, want it named", err)
	}
	for _, blank := range []string{"", "  ", "\n"} {
		t.Setenv(ServerKeyEnv, blank)
		if _, _, err := Load(dir, cheap); !errors.Is(err, ErrServerKey) || !strings.Contains(err.Error(), "blank") {
			t.Errorf("Load with %s=%q: %v, want refused as blank", ServerKeyEnv, blank, err)
		}
	}
}

// The fingerprint is the same for the same key however it is given, differs
// between keys, and CreateServerKey never replaces a key file.
func TestFingerprint(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	unsetenv(t, ServerKeyFileEnv)
	unsetenv(t, CredentialsDirEnv)
	dir := t.TempDir()
	if created, err := CreateServerKey(dir); err != nil || !created {
		t.Fatalf("CreateServerKey = %v, %v, want true, nil", created, err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, ServerKeyFile))
	if created, err := CreateServerKey(dir); err != nil || created {
		t.Fatalf("CreateServerKey again = %v, %v, want false, nil", created, err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, ServerKeyFile)); !bytes.Equal(again, raw) {
		t.Fatal("CreateServerKey replaced an existing key")
	}
	v, source, err := Load(dir, cheap)
	if err != nil || source != filepath.Join(dir, ServerKeyFile) {
		t.Fatalf("Load = %q, %v", source, err)
	}
	fp := v.Fingerprint()
	if ok, _ := regexp.MatchString(`^[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}$`, fp); !ok {
		t.Errorf("fingerprint %q, want four groups of four hex digits", fp)
	}
	for name, given := range map[string][]byte{"raw": raw, "base64": []byte(base64.StdEncoding.EncodeToString(raw) + "\n")} {
		if got, err := KeyFingerprint(given); err != nil || got != fp {
			t.Errorf("KeyFingerprint(%s) = %q, %v, want %q", name, got, err, fp)
		}
	}
	t.Setenv(ServerKeyEnv, base64.StdEncoding.EncodeToString(raw))
	if v2, source, err := Load(t.TempDir(), cheap); err != nil || v2.Fingerprint() != fp || source != ServerKeyEnv {
		t.Errorf("Load from %s: %v %q, want fingerprint %q", ServerKeyEnv, err, source, fp)
	}
	other, _ := New(testKey(3), cheap)
	if other.Fingerprint() == fp {
		t.Error("two keys share a fingerprint")
	}
	if _, err := KeyFingerprint([]byte("short")); !errors.Is(err, ErrServerKey) {
		t.Errorf("KeyFingerprint(short) = %v, want %v", err, ErrServerKey)
	}
}

// HOTLINE_SERVER_KEY_FILE (a Docker secret) is the key when set: raw or
// base64; a missing file is a missing key, never replaced by the data
// directory's; blank is refused.
func TestLoadFromKeyFileEnv(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	unsetenv(t, CredentialsDirEnv)
	key := testKey(5)
	want, _ := New(key, cheap)
	dir := t.TempDir()
	if _, err := CreateServerKey(dir); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "server_key")
	if err := os.WriteFile(secret, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	t.Setenv(ServerKeyFileEnv, secret)
	v, source, err := Load(dir, cheap)
	if err != nil || source != secret || v.Fingerprint() != want.Fingerprint() {
		t.Fatalf("Load from %s = %q, %v, want the secret's key", ServerKeyFileEnv, source, err)
	}
	t.Setenv(ServerKeyFileEnv, secret+".gone")
	if _, _, err := Load(dir, cheap); !errors.Is(err, ErrNoServerKey) || !strings.Contains(err.Error(), secret+".gone: no such file") {
		t.Errorf("Load with a missing secret = %v, want it missing (not the data directory's key)", err)
	}
	t.Setenv(ServerKeyFileEnv, " ")
	if _, _, err := Load(dir, cheap); !errors.Is(err, ErrServerKey) || !strings.Contains(err.Error(), "blank") {
		t.Errorf("Load with a blank %s = %v, want refused", ServerKeyFileEnv, err)
	}
}

func TestLoadOrCreate(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	dir := filepath.Join(t.TempDir(), "data", "nested")

	v1, err := LoadOrCreate(dir, cheap)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	path := filepath.Join(dir, ServerKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if got, want := fi.Mode().Perm(), os.FileMode(0o600); got != want {
			t.Errorf("key file mode = %#o, want %#o", got, want)
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := di.Mode().Perm(), os.FileMode(0o700); got != want {
			t.Errorf("data dir mode = %#o, want %#o", got, want)
		}
	}
	if got, want := fi.Size(), int64(ServerKeySize); got != want {
		t.Errorf("key file size = %d, want %d", got, want)
	}
	entries, _ := os.ReadDir(dir)
	if got, want := len(entries), 1; got != want {
		t.Errorf("data dir has %d entries (temp file left?), want %d", got, want)
	}
	before, _ := os.ReadFile(path)

	v2, err := LoadOrCreate(dir, cheap)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, before) {
		t.Errorf("key file changed on reload")
	}
	if got, want := v2.MAC("x", []byte("y")), v1.MAC("x", []byte("y")); !bytes.Equal(got, want) {
		t.Errorf("reloaded vault MAC = %x, want %x", got, want)
	}
	sealed, err := v1.SealServer("p", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v2.OpenServer("p", sealed); err != nil || string(got) != "hello" {
		t.Errorf("reloaded vault OpenServer = %q, %v, want %q, nil", got, err, "hello")
	}
	// The file holds the key New would be given.
	v3, err := New(before, cheap)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v3.MAC("x", nil), v1.MAC("x", nil); !bytes.Equal(got, want) {
		t.Errorf("New(file bytes) MAC = %x, want %x", got, want)
	}
}

func TestLoadOrCreateConcurrent(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	dir := t.TempDir()
	const n = 8
	macs := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, err := LoadOrCreate(dir, cheap)
			if err != nil {
				t.Errorf("LoadOrCreate: %v", err)
				return
			}
			macs[i] = v.MAC("x", nil)
		})
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if !bytes.Equal(macs[i], macs[0]) {
			t.Errorf("vault %d MAC = %x, want %x (two keys created)", i, macs[i], macs[0])
		}
	}
}

func TestLoadOrCreateEnv(t *testing.T) {
	dir := t.TempDir()
	key := testKey(7)
	want, _ := New(key, cheap)

	t.Setenv(ServerKeyEnv, base64.StdEncoding.EncodeToString(key)+"\n")
	v, err := LoadOrCreate(dir, cheap)
	if err != nil {
		t.Fatalf("LoadOrCreate with env: %v", err)
	}
	if got, want := v.MAC("x", nil), want.MAC("x", nil); !bytes.Equal(got, want) {
		t.Errorf("env vault MAC = %x, want %x", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ServerKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file stat error = %v, want not exist (env must override)", err)
	}

	for name, val := range map[string]string{
		"not base64": "%%%not-base64%%%",
		"too short":  base64.StdEncoding.EncodeToString(make([]byte, 16)),
		"too long":   base64.StdEncoding.EncodeToString(make([]byte, 33)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(ServerKeyEnv, val)
			_, err := LoadOrCreate(dir, cheap)
			if !errors.Is(err, ErrServerKey) {
				t.Errorf("error = %v, want %v", err, ErrServerKey)
			}
		})
	}
}

func TestLoadOrCreateRefusesBadFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix permissions")
	}
	unsetenv(t, ServerKeyEnv)
	tests := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"world readable", testKey(1), 0o604},
		{"group readable", testKey(1), 0o640},
		{"world writable", testKey(1), 0o602},
		{"short", testKey(1)[:31], 0o600},
		{"long", append(testKey(1), 0), 0o600},
		{"empty", nil, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ServerKeyFile)
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			v, err := LoadOrCreate(dir, cheap)
			if !errors.Is(err, ErrServerKey) || v != nil {
				t.Errorf("LoadOrCreate = %v, %v, want nil, %v", v, err, ErrServerKey)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, tt.data) {
				t.Errorf("bad key file was modified")
			}
		})
	}
}

func TestSealServer(t *testing.T) {
	v := newTestVault(t, 1)
	other := newTestVault(t, 2)
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("chat"), 300)} {
		sealed, err := v.SealServer("purpose", pt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.OpenServer("purpose", sealed)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("round trip of %d bytes = %q, %v, want %q, nil", len(pt), got, err, pt)
		}
		again, _ := v.SealServer("purpose", pt)
		if bytes.Equal(again, sealed) {
			t.Errorf("two seals of the same plaintext are equal, want random nonces")
		}
	}

	sealed, err := v.SealServer("purpose", []byte("secret chat id"))
	if err != nil {
		t.Fatal(err)
	}
	type tc struct {
		name    string
		v       *Vault
		purpose string
		ct      []byte
	}
	tests := []tc{
		{"wrong purpose", v, "other", sealed},
		{"empty purpose", v, "", sealed},
		{"other vault", other, "purpose", sealed},
		{"empty", v, "purpose", nil},
	}
	for i := range sealed {
		flipped := bytes.Clone(sealed)
		flipped[i] ^= 0x01
		tests = append(tests, tc{fmt.Sprintf("flip byte %d", i), v, "purpose", flipped})
	}
	for n := 0; n < len(sealed); n++ {
		tests = append(tests, tc{fmt.Sprintf("truncated to %d", n), v, "purpose", sealed[:n]})
	}
	tests = append(tests, tc{"extended", v, "purpose", append(bytes.Clone(sealed), 0)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.OpenServer(tt.purpose, tt.ct)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Errorf("OpenServer = %q, %v, want nil, %v", got, err, ErrDecrypt)
			}
		})
	}
}

func TestMAC(t *testing.T) {
	v := newTestVault(t, 1)
	other := newTestVault(t, 2)
	base := v.MAC("receipt", []byte("abc"))
	if got, want := len(base), 32; got != want {
		t.Fatalf("MAC length = %d, want %d", got, want)
	}
	if got := v.MAC("receipt", []byte("abc")); !bytes.Equal(got, base) {
		t.Errorf("MAC not stable: %x, want %x", got, base)
	}
	for name, got := range map[string][]byte{
		"other data":     v.MAC("receipt", []byte("abd")),
		"other purpose":  v.MAC("telegram-chat", []byte("abc")),
		"shifted bytes":  v.MAC("receip", []byte("tabc")),
		"other vault":    other.MAC("receipt", []byte("abc")),
		"purpose empty":  v.MAC("", []byte("receiptabc")),
		"data appended":  v.MAC("receipt", []byte("abc\x00")),
		"receipt helper": v.ReceiptMAC("abc"),
	} {
		if bytes.Equal(got, base) {
			t.Errorf("%s: MAC = %x, want different from %x", name, got, base)
		}
	}
	if !EqualMAC(base, v.MAC("receipt", []byte("abc"))) || EqualMAC(base, other.MAC("receipt", []byte("abc"))) {
		t.Errorf("EqualMAC wrong")
	}
}

func TestChat(t *testing.T) {
	v := newTestVault(t, 1)
	other := newTestVault(t, 2)
	ids := []int64{0, 1, -1001234567890, 123456789, 1<<63 - 1, -1 << 63}
	seen := map[string]int64{}
	for _, id := range ids {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			m := v.ChatMAC(id)
			if got := v.ChatMAC(id); !bytes.Equal(got, m) {
				t.Errorf("ChatMAC not stable: %x, want %x", got, m)
			}
			if got, want := m, v.MAC("telegram-chat", []byte(fmt.Sprint(id))); !bytes.Equal(got, want) {
				t.Errorf("ChatMAC = %x, want MAC(telegram-chat, decimal) = %x", got, want)
			}
			if prev, dup := seen[string(m)]; dup {
				t.Errorf("ChatMAC(%d) equals ChatMAC(%d)", id, prev)
			}
			seen[string(m)] = id
			if bytes.Equal(other.ChatMAC(id), m) {
				t.Errorf("ChatMAC equal across vaults")
			}
			sealed, err := v.SealChat(id)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, []byte(fmt.Sprint(id))) && id > 1000 {
				t.Errorf("sealed chat contains the id in clear")
			}
			got, err := v.OpenChat(sealed)
			if err != nil || got != id {
				t.Errorf("OpenChat = %d, %v, want %d, nil", got, err, id)
			}
			if _, err := other.OpenChat(sealed); !errors.Is(err, ErrDecrypt) {
				t.Errorf("other vault OpenChat error = %v, want %v", err, ErrDecrypt)
			}
		})
	}
	wrongPurpose, _ := v.SealServer("other", []byte("42"))
	if _, err := v.OpenChat(wrongPurpose); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenChat(wrong purpose) error = %v, want %v", err, ErrDecrypt)
	}
	notNumber, _ := v.SealServer("telegram-chat", []byte("4x2"))
	if _, err := v.OpenChat(notNumber); !errors.Is(err, ErrDecrypt) {
		t.Errorf("OpenChat(non-number) error = %v, want %v", err, ErrDecrypt)
	}
}

func TestRedaction(t *testing.T) {
	v := newTestVault(t, 0x41)
	k, err := GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		if got, want := fmt.Sprintf(f, v), "vault.Vault{REDACTED}"; got != want {
			t.Errorf("Sprintf(%s, vault) = %q, want %q", f, got, want)
		}
		if got, want := fmt.Sprintf(f, k), "vault.PrivateKey{REDACTED}"; got != want {
			t.Errorf("Sprintf(%s, key) = %q, want %q", f, got, want)
		}
	}
	if got, want := k.LogValue().String(), "vault.PrivateKey{REDACTED}"; got != want {
		t.Errorf("LogValue = %q, want %q", got, want)
	}
}

func TestPoolBound(t *testing.T) {
	v, err := New(testKey(1), Options{KDFConcurrency: 2, Argon: cheap.Argon})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	wrapped, err := v.WrapWithPassword(context.Background(), k, "pw")
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	start := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			got, err := v.UnwrapWithPassword(context.Background(), wrapped, "pw")
			if err == nil && !bytes.Equal(got.PublicKey(), k.PublicKey()) {
				err = errors.New("wrong key unwrapped")
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent unwrap: %v", err)
		}
	}
	s := v.KDFStats()
	if s.MaxInFlight > 2 || s.MaxInFlight < 1 {
		t.Errorf("MaxInFlight = %d, want 1..2", s.MaxInFlight)
	}
	want := KDFStats{Concurrency: 2, InFlight: 0, MaxInFlight: s.MaxInFlight, Waiting: 0, Total: n + 1}
	if s != want {
		t.Errorf("KDFStats = %+v, want %+v", s, want)
	}
}

// TestPoolFirstGoesAhead: with the pool busy and a queue of ordinary
// derivations waiting, one marked First runs next; a cancelled waiter
// that had just been granted a slot passes it on.
func TestPoolFirstGoesAhead(t *testing.T) {
	v, err := New(testKey(1), Options{KDFConcurrency: 1, Argon: cheap.Argon})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	wrapped, err := v.WrapWithPassword(context.Background(), k, "pw")
	if err != nil {
		t.Fatal(err)
	}
	v.pool.acquire(context.Background(), false) // occupy the only slot
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		queued := func() int {
			v.pool.mu.Lock()
			defer v.pool.mu.Unlock()
			return len(v.pool.first) + len(v.pool.rest)
		}
		for queued() != n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting %d, want %d", queued(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// Each waiter records its turn while it holds the slot, then releases
	// it: the order is the order the pool granted the slot in (recording
	// after a whole derivation would race with the next holder's).
	run := func(name string, ctx context.Context) {
		wg.Go(func() {
			if err := v.pool.acquire(ctx, isFirst(ctx)); err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			v.pool.release()
		})
	}
	for i := range 5 {
		run(fmt.Sprint("guess", i), context.Background())
		waitFor(i + 1)
	}
	run("owner", First(context.Background()))
	waitFor(6)
	v.pool.release()
	wg.Wait()
	if want := []string{"owner", "guess0", "guess1", "guess2", "guess3", "guess4"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v: the owner's derivation first, then the others in turn", order, want)
	}
	// A first derivation through the vault itself takes the slot as well.
	if _, err := v.UnwrapWithPassword(First(context.Background()), wrapped, "wrong"); !errors.Is(err, ErrWrongPassword) {
		t.Fatal(err)
	}
	if s := v.KDFStats(); s.InFlight != 0 || s.Waiting != 0 || s.MaxInFlight != 1 {
		t.Fatalf("stats after %+v", s)
	}
}

func TestPoolContextCancel(t *testing.T) {
	v, err := New(testKey(1), Options{KDFConcurrency: 1, Argon: cheap.Argon})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKeyPair()
	wrapped, err := v.WrapWithPassword(context.Background(), k, "pw")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("while waiting", func(t *testing.T) {
		v.pool.acquire(context.Background(), false) // occupy the only slot
		defer v.pool.release()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			got, err := v.UnwrapWithPassword(ctx, wrapped, "pw")
			if got != nil {
				err = errors.New("got a key")
			}
			done <- err
		}()
		// Wait until the caller is queued, then cancel.
		deadline := time.Now().Add(5 * time.Second)
		for v.KDFStats().Waiting != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("caller never waited: %+v", v.KDFStats())
			}
			time.Sleep(time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want %v", err, context.Canceled)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("unwrap did not return after cancel")
		}
		if got := v.KDFStats(); got.Waiting != 0 || got.InFlight != 0 {
			t.Errorf("after cancel stats = %+v, want Waiting 0, InFlight 0", got)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		v.pool.acquire(context.Background(), false)
		defer v.pool.release()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := v.WrapWithPassword(ctx, k, "pw")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want %v", err, context.DeadlineExceeded)
		}
	})

	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := v.KDFStats().Total
		_, err := v.UnwrapWithPassword(ctx, wrapped, "pw")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want %v", err, context.Canceled)
		}
		if got := v.KDFStats().Total; got != before {
			t.Errorf("Total = %d, want %d (no derivation for a cancelled caller)", got, before)
		}
	})
}
