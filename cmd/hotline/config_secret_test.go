package main

import (
	"bytes"
	"strings"
	"testing"
)

// Usage goes to stderr (and so to logs) on -h and on any mistyped flag: it
// must not show secrets taken from the environment as flag defaults, while
// the environment still sets them.
func TestUsageHidesSecretsFromEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HOTLINE_TELEGRAM_TOKEN":          "123456:SECRET-BOT-TOKEN",
		"HOTLINE_SMTP_PASS":               "secret-smtp-password",
		"HOTLINE_TELEGRAM_WEBHOOK_SECRET": "secret-webhook-token",
	}
	var errb bytes.Buffer
	var c Config
	fs := newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse([]string{"--no-such-flag"}); err == nil {
		t.Fatal("mistyped flag accepted")
	}
	for _, v := range env {
		if strings.Contains(errb.String(), v) {
			t.Errorf("usage shows a secret: %q", v)
		}
	}
	c = Config{}
	fs = newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if c.TelegramToken != env["HOTLINE_TELEGRAM_TOKEN"] || c.SMTPPass != env["HOTLINE_SMTP_PASS"] || c.TelegramWebhookSecret != env["HOTLINE_TELEGRAM_WEBHOOK_SECRET"] {
		t.Fatalf("environment not applied: %+v", c)
	}
	fs = newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse([]string{"--telegram-token", "999:FLAG"}); err != nil || c.TelegramToken != "999:FLAG" {
		t.Fatalf("flag does not override the environment: %v %q", err, c.TelegramToken)
	}
}

// A secret set blank in the environment (deploy/hotline.env's "NAME=") is
// refused with its name, not read as unset: a blank webhook secret would
// be a random one per start, a blank token a bot silently off.
func TestBlankSecretsRefused(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"HOTLINE_TELEGRAM_TOKEN", "HOTLINE_TELEGRAM_WEBHOOK_SECRET", "HOTLINE_SMTP_PASS", "HOTLINE_WECHAT_SECRET", "HOTLINE_WECHAT_AES_KEY"} {
		t.Run(name, func(t *testing.T) {
			var errb bytes.Buffer
			env := &Env{Stderr: &errb, Getenv: func(string) string { return "" },
				LookupEnv: func(k string) (string, bool) { return " ", k == name }}
			var c Config
			fs := newFlagSet("serve", env, "test")
			fs.serverFlags(&c, "127.0.0.1:0")
			if err := fs.Parse(nil); err == nil || !strings.Contains(errb.String(), name+" is set but blank") {
				t.Errorf("blank %s: %v %q, want refused by name", name, err, errb.String())
			}
		})
	}
}
