package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Under systemd with LoadCredential=server-key:…, the key comes from
// $CREDENTIALS_DIRECTORY/server-key, raw or base64, and no key file is
// created in the data directory; without the credential the data
// directory's key is used as before.
func TestLoadOrCreateFromCredential(t *testing.T) {
	unsetenv(t, ServerKeyEnv)
	key := testKey(9)
	want, _ := New(key, cheap)
	for name, content := range map[string][]byte{
		"raw":    key,
		"base64": []byte(base64.StdEncoding.EncodeToString(key) + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			creds, data := t.TempDir(), t.TempDir()
			if err := os.WriteFile(filepath.Join(creds, ServerKeyCredential), content, 0o400); err != nil {
				t.Fatal(err)
			}
			t.Setenv(CredentialsDirEnv, creds)
			v, err := LoadOrCreate(data, cheap)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := v.MAC("x", nil), want.MAC("x", nil); !bytes.Equal(got, want) {
				t.Errorf("credential vault MAC = %x, want %x", got, want)
			}
			if _, err := os.Stat(filepath.Join(data, ServerKeyFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("key file stat error = %v, want not exist (the credential is the key)", err)
			}
		})
	}
	t.Run("malformed", func(t *testing.T) {
		creds := t.TempDir()
		if err := os.WriteFile(filepath.Join(creds, ServerKeyCredential), []byte("short"), 0o400); err != nil {
			t.Fatal(err)
		}
		t.Setenv(CredentialsDirEnv, creds)
		if _, err := LoadOrCreate(t.TempDir(), cheap); !errors.Is(err, ErrServerKey) {
			t.Errorf("error = %v, want %v", err, ErrServerKey)
		}
	})
	t.Run("other credentials only", func(t *testing.T) {
		t.Setenv(CredentialsDirEnv, t.TempDir())
		data := t.TempDir()
		v, err := LoadOrCreate(data, cheap)
		if err != nil || v == nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(data, ServerKeyFile)); err != nil {
			t.Errorf("no key file created without the credential: %v", err)
		}
	})
}
