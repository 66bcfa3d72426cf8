package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration: flags with HOTLINE_* equivalents.
type Config struct {
	DataDir   string
	Addr      string
	PublicURL string // how users reach us, for links, QR codes and cookies
	LogLevel  string
	LogFormat string

	IdleTimeout    time.Duration
	KDFConcurrency int

	TelegramToken         string
	TelegramAPIURL        string
	TelegramWebhookURL    string
	TelegramWebhookSecret string
	TelegramBotName       string

	SMTPAddr string
	SMTPFrom string
	SMTPUser string
	SMTPPass string
}

// flagSet builds a flag set whose defaults come from the environment.
type flagSet struct {
	*flag.FlagSet
	env func(string) string
}

func newFlagSet(name string, e *Env, summary string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: hotline %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	return &flagSet{FlagSet: fs, env: e.Getenv}
}

func (fs *flagSet) envName(name string) string {
	return "HOTLINE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func (fs *flagSet) str(p *string, name, def, usage string) {
	if v := fs.env(fs.envName(name)); v != "" {
		def = v
	}
	fs.StringVar(p, name, def, usage+" ("+fs.envName(name)+")")
}

// secret is str for a secret (a token, a password): its value from the
// environment is used but never shown as the flag's default, since usage
// is printed on -h and on every mistyped flag, into logs.
func (fs *flagSet) secret(p *string, name, usage string) {
	fs.StringVar(p, name, "", usage+" ("+fs.envName(name)+")")
	if v := fs.env(fs.envName(name)); v != "" {
		*p = v
	}
}

func (fs *flagSet) dur(p *time.Duration, name string, def time.Duration, usage string) {
	if v := fs.env(fs.envName(name)); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, usage+" ("+fs.envName(name)+")")
}

func (fs *flagSet) integer(p *int, name string, def int, usage string) {
	if v := fs.env(fs.envName(name)); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			def = n
		}
	}
	fs.IntVar(p, name, def, usage+" ("+fs.envName(name)+")")
}

// dataFlag registers --data on every command.
func (fs *flagSet) dataFlag(p *string) {
	fs.str(p, "data", "./data", "data directory: database, server key")
}

// serverFlags registers the flags of serve and demo.
func (fs *flagSet) serverFlags(c *Config, defaultAddr string) {
	fs.dataFlag(&c.DataDir)
	fs.str(&c.Addr, "addr", defaultAddr, "HTTP listen address")
	fs.str(&c.PublicURL, "public-url", "", "public base URL, e.g. https://hotline.example.edu.cn (default http://ADDR)")
	fs.str(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.str(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.dur(&c.IdleTimeout, "idle-timeout", 30*time.Minute, "counselor session idle expiry")
	fs.integer(&c.KDFConcurrency, "kdf-concurrency", 2, "concurrent argon2id derivations (64 MiB each)")
	fs.secret(&c.TelegramToken, "telegram-token", "Telegram bot token; enables the bot")
	fs.str(&c.TelegramAPIURL, "telegram-api-url", "", "another Bot API server (self-hosted Bot API, tests)")
	fs.str(&c.TelegramWebhookURL, "telegram-webhook-url", "", "webhook mode: the public URL Telegram posts updates to (default: long polling)")
	fs.secret(&c.TelegramWebhookSecret, "telegram-webhook-secret", "webhook secret token (default: random per start)")
	fs.str(&c.TelegramBotName, "telegram-bot-name", "", "the bot's username for t.me links (default: asked from Telegram)")
	fs.str(&c.SMTPAddr, "smtp-addr", "", "SMTP server host:port for e-mail alerts (optional; port 465 uses implicit TLS, 587 requires STARTTLS, others use STARTTLS when offered)")
	fs.str(&c.SMTPFrom, "smtp-from", "", "sender address of e-mail alerts")
	fs.str(&c.SMTPUser, "smtp-user", "", "SMTP user name")
	fs.secret(&c.SMTPPass, "smtp-pass", "SMTP password")
}

// newLogger sets up log/slog once for the process.
func newLogger(c *Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", c.LogLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.LogFormat)
}
