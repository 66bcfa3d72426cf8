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

// credentialKey reads the server key that systemd passes as a credential:
// the raw 32 bytes of a server.key, or their standard base64. It returns
// os.ErrNotExist when there is none. systemd keeps the credentials
// directory private to the service, so the file's mode is not checked.
func credentialKey() ([]byte, error) {
	dir := os.Getenv(CredentialsDirEnv)
	if dir == "" {
		return nil, os.ErrNotExist
	}
	path := filepath.Join(dir, ServerKeyCredential)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, os.ErrNotExist
		}
		return nil, fmt.Errorf("vault: read credential %s: %w", ServerKeyCredential, err)
	}
	defer f.Close()
	buf, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("vault: read credential %s: %w", ServerKeyCredential, err)
	}
	defer clear(buf)
	if len(buf) == ServerKeySize {
		return append([]byte(nil), buf...), nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(buf)))
	if err != nil || len(key) != ServerKeySize {
		clear(key)
		// Do not include the value: it is the secret.
		return nil, fmt.Errorf("%w: credential %s must hold %d bytes, raw or standard base64", ErrServerKey, ServerKeyCredential, ServerKeySize)
	}
	return key, nil
}
