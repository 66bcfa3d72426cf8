package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// A malformed or out-of-range value is refused with a message that names
// it, whether it comes from a flag or from the environment; a good one is
// taken.
func TestConfigRejectsMalformedValues(t *testing.T) {
	t.Parallel()
	parse := func(env map[string]string, args ...string) (Config, string, error) {
		var errb bytes.Buffer
		var c Config
		fs := newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
		fs.serverFlags(&c, "127.0.0.1:0")
		err := fs.Parse(args)
		return c, errb.String(), err
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string // in the message
	}{
		{"idle timeout env not a duration", map[string]string{"HOTLINE_IDLE_TIMEOUT": "abc"}, nil, `invalid value "abc" for HOTLINE_IDLE_TIMEOUT`},
		{"idle timeout env zero", map[string]string{"HOTLINE_IDLE_TIMEOUT": "0s"}, nil, "HOTLINE_IDLE_TIMEOUT: must be more than zero"},
		{"idle timeout env negative", map[string]string{"HOTLINE_IDLE_TIMEOUT": "-5m"}, nil, "HOTLINE_IDLE_TIMEOUT: must be more than zero"},
		{"kdf env negative", map[string]string{"HOTLINE_KDF_CONCURRENCY": "-3"}, nil, `invalid value "-3" for HOTLINE_KDF_CONCURRENCY: must be at least 1`},
		{"kdf env not a number", map[string]string{"HOTLINE_KDF_CONCURRENCY": "x"}, nil, `invalid value "x" for HOTLINE_KDF_CONCURRENCY: want a whole number`},
		{"kdf flag negative", nil, []string{"--kdf-concurrency", "-3"}, "-kdf-concurrency: must be at least 1"},
		{"idle timeout flag malformed", nil, []string{"--idle-timeout=abc"}, "-idle-timeout: want a duration"},
		{"trusted proxy not an address", map[string]string{"HOTLINE_TRUSTED_PROXY": "proxy.example"}, nil, "HOTLINE_TRUSTED_PROXY"},
		{"photo budget too small", nil, []string{"--photo-budget-mib", "1"}, "-photo-budget-mib: must be at least 16"},
		{"two bad env values", map[string]string{"HOTLINE_KDF_CONCURRENCY": "0", "HOTLINE_IDLE_TIMEOUT": "soon"}, nil, "HOTLINE_IDLE_TIMEOUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, msg, err := parse(tc.env, tc.args...)
			if err == nil {
				t.Fatalf("accepted; output %q", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("message %q, want it to contain %q", msg, tc.want)
			}
			if !strings.Contains(msg, "Usage: hotline serve") {
				t.Errorf("no usage after the error: %q", msg)
			}
		})
	}
	// Good values from the environment, and a flag overriding one.
	c, msg, err := parse(map[string]string{"HOTLINE_IDLE_TIMEOUT": "45m", "HOTLINE_KDF_CONCURRENCY": "4"})
	if err != nil || c.IdleTimeout != 45*time.Minute || c.KDFConcurrency != 4 {
		t.Fatalf("good environment: %v %v %d %q", err, c.IdleTimeout, c.KDFConcurrency, msg)
	}
	c, _, err = parse(map[string]string{"HOTLINE_TRUSTED_PROXY": "10.0.0.0/8, 192.0.2.7"})
	if err != nil || len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Fatalf("trusted proxies: %v %v", err, c.TrustedProxies)
	}
	c, _, err = parse(map[string]string{"HOTLINE_KDF_CONCURRENCY": "4"}, "--kdf-concurrency", "1", "--idle-timeout", "10m")
	if err != nil || c.KDFConcurrency != 1 || c.IdleTimeout != 10*time.Minute {
		t.Fatalf("flags over environment: %v %d %v", err, c.KDFConcurrency, c.IdleTimeout)
	}
	c, _, err = parse(nil)
	if err != nil || c.IdleTimeout != 30*time.Minute || c.KDFConcurrency != 2 {
		t.Fatalf("defaults: %v %v %d", err, c.IdleTimeout, c.KDFConcurrency)
	}
	// Through the command: a usage error, exit 2, before anything opens.
	var errb bytes.Buffer
	dir := t.TempDir()
	if code := run(context.Background(), []string{"serve", "--data", dir, "--kdf-concurrency", "x"}, nil, &errb, &errb); code != 2 {
		t.Fatalf("serve --kdf-concurrency x: exit %d, want 2: %s", code, errb.String())
	}
}
