package main

import (
	"bytes"
	"os"
	"path/filepath"
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
}

// A secret is never taken from the command line, where every user of the
// machine reads it with ps: each secret flag is refused, naming the
// environment variable and the -file flag; the -file flag (or its
// environment variable) reads it from a file and overrides the
// environment.
func TestSecretsNotOnTheCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("999:FROM-FILE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"telegram-token", "telegram-webhook-secret", "smtp-pass", "wechat-secret", "wechat-token", "wechat-aes-key"} {
		t.Run(name, func(t *testing.T) {
			env := "HOTLINE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
			var errb bytes.Buffer
			var c Config
			fs := newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return map[string]string{env: "from-env"}[k] }}, "test")
			fs.serverFlags(&c, "127.0.0.1:0")
			if err := fs.Parse([]string{"--" + name, "S3CRET-ON-THE-COMMAND-LINE"}); err == nil || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), "--"+name+"-file") {
				t.Fatalf("--%s on the command line: %v, want refused naming %s and --%s-file", name, err, env, name)
			}
			if strings.Contains(errb.String(), "S3CRET") {
				t.Fatal("the refusal repeats the secret")
			}
			for _, args := range [][]string{{"--" + name + "-file", file}, nil} {
				getenv := map[string]string{env: "from-env"}
				if args == nil {
					getenv[env+"_FILE"] = file
				}
				c = Config{}
				fs = newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return getenv[k] }}, "test")
				fs.serverFlags(&c, "127.0.0.1:0")
				if err := fs.Parse(args); err != nil {
					t.Fatal(err)
				}
				got := map[string]string{"telegram-token": c.TelegramToken, "telegram-webhook-secret": c.TelegramWebhookSecret, "smtp-pass": c.SMTPPass,
					"wechat-secret": c.WechatSecret, "wechat-token": c.WechatToken, "wechat-aes-key": c.WechatAESKey}[name]
				if got != "999:FROM-FILE" {
					t.Fatalf("%v: %s = %q, want the file's line", args, name, got)
				}
			}
		})
	}
}

// The alert vendors' secrets come from the environment or from files
// (--…-file, e.g. systemd credentials), never shown in usage; a vendor
// configured by halves stops the server at start rather than at 3 a.m.
func TestAlertSecretsFromEnvironmentAndFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "aliyun.secret")
	if err := os.WriteFile(keyFile, []byte("aliyun-secret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"HOTLINE_TENCENT_SECRET_KEY":            "tencent-secret-from-env",
		"HOTLINE_WECOM_CORP_SECRET":             "wecom-secret-from-env",
		"HOTLINE_ALIYUN_ACCESS_KEY_SECRET_FILE": keyFile,
	}
	var errb bytes.Buffer
	var c Config
	fs := newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse([]string{"--no-such-flag"}); err == nil {
		t.Fatal("mistyped flag accepted")
	}
	for _, v := range []string{"tencent-secret-from-env", "wecom-secret-from-env", "aliyun-secret-from-file"} {
		if strings.Contains(errb.String(), v) {
			t.Errorf("usage shows a secret: %q", v)
		}
	}
	for _, f := range []string{"-aliyun-access-key-secret-file", "-tencent-secret-key-file", "-wecom-corp-secret-file", "-webpush-subject", "-dingtalk-url", "HOTLINE_ALIYUN_ACCESS_KEY_SECRET_FILE"} {
		if !strings.Contains(errb.String(), f) {
			t.Errorf("usage lacks %s", f)
		}
	}
	c = Config{}
	fs = newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(k string) string { return env[k] }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse([]string{"--aliyun-access-key-id", "LTAIabc", "--aliyun-sms-sign", "热线", "--aliyun-sms-template", "SMS_1"}); err != nil {
		t.Fatal(err)
	}
	a := c.Alerts
	if a.AliyunKeySecret != "aliyun-secret-from-file" || a.TencentSecretKey != "tencent-secret-from-env" || a.WeComCorpSecret != "wecom-secret-from-env" {
		t.Fatalf("secrets not applied: %+v", a)
	}
	// A Tencent key without its id is half a vendor.
	if err := a.vendorConfig().Check(); err == nil || !strings.Contains(err.Error(), "tencent") {
		t.Fatalf("a Tencent key without its id: %v", err)
	}
	a.TencentSecretKey = ""
	if err := a.vendorConfig().Check(); err != nil {
		t.Fatalf("a complete Aliyun SMS account refused: %v", err)
	}
	// Half a vendor: a corp id without its agent id.
	a.WeComCorpID = "ww123"
	if err := a.vendorConfig().Check(); err == nil {
		t.Fatal("a WeCom corp without its agent id accepted")
	}
	// A missing secret file is an error at start, not an empty secret.
	fs = newFlagSet("serve", &Env{Stderr: &errb, Getenv: func(string) string { return "" }}, "test")
	fs.serverFlags(&c, "127.0.0.1:0")
	if err := fs.Parse([]string{"--tencent-secret-key-file", filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing secret file accepted")
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
