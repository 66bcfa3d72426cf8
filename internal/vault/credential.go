package vault

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const (
	// CredentialsDirEnv is set by systemd for a unit with LoadCredential=.
	CredentialsDirEnv = "CREDENTIALS_DIRECTORY"
	// ServerKeyCredential is the credential's name: LoadCredential=server-key:PATH.
	ServerKeyCredential = "server-key"
)

// credentialKey reads the server key that systemd passes as a credential
// (see readKeyFile) and returns the credential's path. It returns
// os.ErrNotExist when there is none (and path "" when CREDENTIALS_DIRECTORY
// is not set). systemd keeps the credentials directory private to the
// service, so the file's mode is not checked.
func credentialKey() (key []byte, path string, err error) {
	dir := os.Getenv(CredentialsDirEnv)
	if dir == "" {
		return nil, "", os.ErrNotExist
	}
	path = filepath.Join(dir, ServerKeyCredential)
	key, err = readKeyFile(path)
	return key, path, err
}

// readKeyFile reads a key file that the platform keeps private (a systemd
// credential, a Docker secret): the raw 32 bytes, or their standard
// base64. A missing file is os.ErrNotExist.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, os.ErrNotExist
		}
		return nil, fmt.Errorf("vault: read server key %s: %w", path, err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("vault: read server key %s: %w", path, err)
	}
	defer clear(buf)
	if len(buf) == ServerKeySize {
		return append([]byte(nil), buf...), nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(buf)))
	if err != nil || len(key) != ServerKeySize {
		clear(key)
		// Do not include the value: it is the secret.
		return nil, fmt.Errorf("%w: %s must hold %d bytes, raw or standard base64", ErrServerKey, path, ServerKeySize)
	}
	return key, nil
}
