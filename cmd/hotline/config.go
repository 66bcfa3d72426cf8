package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"hotline/internal/throttle"
)

// Config is the server's configuration: flags with HOTLINE_* equivalents.
type Config struct {
	DataDir string
	// Database is the database's DSN: a postgres:// URL, or the path of a
	// SQLite file; empty: hotline.db in DataDir (see DatabaseDSN).
	Database  string
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

	// WeChat: one account from flags/environment, or many from a key file
	// (JSON, mode 0600); secrets never go into the database.
	WechatAccountsFile   string
	WechatName           string
	WechatAppID          string
	WechatSecret         string
	WechatToken          string
	WechatAESKey         string
	WechatSchool         string
	WechatNoticeTemplate string
	WechatAPIURL         string
	WechatQR             string // the account's QR code image, for the posters

	// MetricsAddr, when set, serves /metrics and /debug/pprof/ on their own
	// listener, apart from the public one.
	MetricsAddr string

	// TrustedProxies are the reverse proxies whose forwarding header names
	// the client, for per-client limits; empty: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	ProxyHeader    string
	// PhotoBudgetMiB bounds the memory of photo decoding at once, over
	// every channel; 0 keeps intake's default.
	PhotoBudgetMiB int

	SMTPAddr string
	SMTPFrom string
	SMTPUser string
	SMTPPass string

	// Alerts are the alert vendors' accounts (WeCom, DingTalk, Feishu,
	// SMS, voice, Web Push).
	Alerts AlertConfig
}

// flagSet builds a flag set whose defaults come from the environment. A
// malformed environment value is an error at Parse, like a malformed flag.
type flagSet struct {
	*flag.FlagSet
	env    func(string) string
	lookup func(string) (string, bool)
	// database receives --database (registered with --data): the Env's,
	// or a Config's for serve and demo.
	database *string
	errs     []error // malformed environment values, reported by Parse
	refused  []error // secrets given on the command line, reported by Parse
}

func newFlagSet(name string, e *Env, summary string) *flagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.Stderr, "Usage: hotline %s [flags]\n\n%s\n\nFlags:\n", name, summary)
		fs.PrintDefaults()
	}
	lookup := e.LookupEnv
	if lookup == nil {
		lookup = func(k string) (string, bool) { v := e.Getenv(k); return v, v != "" }
	}
	return &flagSet{FlagSet: fs, env: e.Getenv, lookup: lookup, database: &e.Database}
}

// Parse parses args after the environment: a malformed environment value
// is reported as flag reports a malformed flag, with the usage.
func (fs *flagSet) Parse(args []string) error {
	if err := errors.Join(fs.errs...); err != nil {
		fmt.Fprintln(fs.Output(), err)
		fs.Usage()
		return err
	}
	if err := fs.FlagSet.Parse(args); err != nil {
		return err
	}
	if err := errors.Join(fs.refused...); err != nil {
		fmt.Fprintln(fs.Output(), err)
		return err
	}
	return nil
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

// secret registers a secret (a token, a password). It comes from the
// environment (HOTLINE_NAME) or from a file (--NAME-file, or
// HOTLINE_NAME_FILE), never from the command line: every user of the
// machine reads a process's arguments (ps, /proc/PID/cmdline), and shells
// keep them in their history, so --NAME VALUE is refused with a message
// naming both ways. The value is never shown as a default, since usage is
// printed on -h and on every mistyped flag, into logs. A variable set
// blank (an env file's "NAME=") is refused: read as unset it would quietly
// turn a feature off, or a fixed secret into a random one per start.
func (fs *flagSet) secret(p *string, name, usage string) {
	env := fs.envName(name)
	v, set := fs.lookup(env)
	switch {
	case set && strings.TrimSpace(v) == "":
		fs.errs = append(fs.errs, fmt.Errorf("%s is set but blank: give it a value, or remove the line to leave it unset", env))
	case set:
		*p = v
	}
	// Refused after parsing, not in Set: flag's own error would quote the value.
	fs.Func(name, usage+": not on the command line (ps shows it to everyone); set "+env+" or --"+name+"-file", func(string) error {
		fs.refused = append(fs.refused, fmt.Errorf("--%s: a secret on the command line is visible to every user of the machine (ps); set %s, or put it in a file only the service's user reads and give --%s-file", name, env, name))
		return nil
	})
	fs.value(secretFile{p}, name+"-file", "file holding the "+usage+" (one line; keep it mode 0600)")
}

// secretFile is a flag.Value that reads a secret from a file: its one line,
// without the line end.
type secretFile struct{ p *string }

func (v secretFile) String() string { return "" }

func (v secretFile) Set(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return errors.New("want one line holding the secret")
	}
	*v.p = s
	return nil
}

// value registers a flag of a checked type whose default the environment
// may override; the value checks both alike.
func (fs *flagSet) value(v flag.Value, name, usage string) {
	if s := fs.env(fs.envName(name)); s != "" {
		if err := v.Set(s); err != nil {
			fs.errs = append(fs.errs, fmt.Errorf("invalid value %q for %s: %w", s, fs.envName(name), err))
		}
	}
	fs.Var(v, name, usage+" ("+fs.envName(name)+")")
}

// dur registers a duration flag that must be positive.
func (fs *flagSet) dur(p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.value(positiveDuration{p}, name, usage)
}

// integer registers an integer flag that must be at least min.
func (fs *flagSet) integer(p *int, name string, def, min int, usage string) {
	*p = def
	fs.value(boundedInt{p, min}, name, usage)
}

// positiveDuration is a flag.Value for a duration above zero.
type positiveDuration struct{ p *time.Duration }

func (v positiveDuration) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 30m or 1h30m")
	}
	if d <= 0 {
		return errors.New("must be more than zero")
	}
	*v.p = d
	return nil
}

// boundedInt is a flag.Value for a whole number no smaller than min.
type boundedInt struct {
	p   *int
	min int
}

func (v boundedInt) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

func (v boundedInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("want a whole number")
	}
	if n < v.min {
		return fmt.Errorf("must be at least %d", v.min)
	}
	*v.p = n
	return nil
}

// dataFlag registers --data and --database on every command.
func (fs *flagSet) dataFlag(p *string) {
	fs.str(p, "data", "./data", "data directory: server key, and the SQLite database unless --database names another")
	fs.str(fs.database, "database", "", "the database: a PostgreSQL URL (postgres://user@host/db?sslmode=…) or a SQLite file (default DATA/hotline.db)")
}

// DatabaseDSN is the database Main opens: Config.Database, or the SQLite
// file in the data directory.
func (c *Config) DatabaseDSN() string {
	if c.Database != "" {
		return c.Database
	}
	return defaultDatabase(c.DataDir)
}

// defaultDatabase is the embedded default: a SQLite file in the data
// directory. (Tests run the same commands on PostgreSQL by replacing it.)
var defaultDatabase = func(dataDir string) string { return filepath.Join(dataDir, "hotline.db") }

// serverFlags registers the flags of serve and demo.
func (fs *flagSet) serverFlags(c *Config, defaultAddr string) {
	fs.database = &c.Database
	fs.dataFlag(&c.DataDir)
	fs.str(&c.Addr, "addr", defaultAddr, "HTTP listen address")
	fs.str(&c.PublicURL, "public-url", "", "public base URL, e.g. https://hotline.example.edu.cn (default http://ADDR)")
	fs.str(&c.LogLevel, "log-level", "info", "log level: "+strings.Join(logLevels, ", "))
	fs.str(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.dur(&c.IdleTimeout, "idle-timeout", 30*time.Minute, "counselor session idle expiry")
	fs.integer(&c.KDFConcurrency, "kdf-concurrency", 2, 1, "concurrent argon2id derivations (64 MiB each)")
	fs.str(&c.MetricsAddr, "metrics-addr", "", "listen address of /metrics and /debug/pprof/, e.g. 127.0.0.1:9100 (default: off); keep it private")
	fs.value(prefixList{&c.TrustedProxies}, "trusted-proxy", "reverse proxies (IPs or CIDRs, comma-separated) whose forwarding header names the client, for per-client limits (default: none, the TCP peer is the client)")
	fs.str(&c.ProxyHeader, "proxy-header", "X-Forwarded-For", "the trusted proxies' header naming the client")
	fs.integer(&c.PhotoBudgetMiB, "photo-budget-mib", 256, 16, "memory for decoding photos at once, over every channel, in MiB")
	fs.secret(&c.TelegramToken, "telegram-token", "Telegram bot token; enables the bot")
	fs.str(&c.TelegramAPIURL, "telegram-api-url", "", "another Bot API server (self-hosted Bot API, tests)")
	fs.str(&c.TelegramWebhookURL, "telegram-webhook-url", "", "webhook mode: the public URL Telegram posts updates to (default: long polling)")
	fs.secret(&c.TelegramWebhookSecret, "telegram-webhook-secret", "webhook secret token, the same on every node (default: random per start; required on PostgreSQL)")
	fs.str(&c.TelegramBotName, "telegram-bot-name", "", "the bot's username for t.me links (default: asked from Telegram)")
	fs.wechatFlags(c)
	fs.str(&c.SMTPAddr, "smtp-addr", "", "SMTP server host:port for e-mail alerts (optional; port 465 uses implicit TLS, 587 requires STARTTLS, others use STARTTLS when offered)")
	fs.str(&c.SMTPFrom, "smtp-from", "", "sender address of e-mail alerts")
	fs.str(&c.SMTPUser, "smtp-user", "", "SMTP user name")
	fs.secret(&c.SMTPPass, "smtp-pass", "SMTP password")
	fs.alertFlags(&c.Alerts)
}

// wechatFlags registers the WeChat accounts' flags, for serve, demo and
// wechat menu.
func (fs *flagSet) wechatFlags(c *Config) {
	fs.str(&c.WechatAccountsFile, "wechat-accounts", "", "key file (JSON, mode 0600) listing WeChat official accounts: [{name, app_id, app_secret, token, aes_key, school, notice_template, qr_image}]")
	fs.str(&c.WechatName, "wechat-name", "main", "name of the WeChat account set by the flags below; its server URL is PUBLIC_URL/wechat/NAME")
	fs.str(&c.WechatAppID, "wechat-appid", "", "WeChat official account AppID; enables the WeChat channel")
	fs.secret(&c.WechatSecret, "wechat-secret", "WeChat AppSecret")
	fs.secret(&c.WechatToken, "wechat-token", "WeChat server token (令牌) pasted into 公众平台")
	fs.secret(&c.WechatAESKey, "wechat-aes-key", "WeChat EncodingAESKey (43 characters); safe mode is required")
	fs.str(&c.WechatSchool, "wechat-school", "", "school code, for a school's own account (default: a district account, reporters pick their school)")
	fs.str(&c.WechatNoticeTemplate, "wechat-notice-template", "", "template id of the content-free \"new reply\" notice sent after the 48-hour window (default: none)")
	fs.str(&c.WechatAPIURL, "wechat-api-url", "", "another WeChat API base URL (tests)")
	fs.str(&c.WechatQR, "wechat-qr", "", "the account's QR code image (PNG or JPEG, downloaded from 公众平台) to print on the posters")
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

// prefixList is a flag of comma-separated IPs or CIDR prefixes.
type prefixList struct{ p *[]netip.Prefix }

func (v prefixList) String() string {
	if v.p == nil {
		return ""
	}
	out := make([]string, len(*v.p))
	for i, p := range *v.p {
		out[i] = p.String()
	}
	return strings.Join(out, ",")
}

func (v prefixList) Set(s string) error {
	ps, err := throttle.ParsePrefixes(s)
	if err != nil {
		return err
	}
	*v.p = ps
	return nil
}

// checkPublicURL checks a --public-url and returns it without a trailing
// slash: an absolute https URL of a host (and port), or http for this
// machine only. Without a scheme the links and QR codes built from it
// open nothing; over plain http a browser keeps no Secure cookie, so no
// counselor could log in, and reports would cross the network in clear.
// The pages live at the root, so a path is refused too.
func checkPublicURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("--public-url %q: want an absolute URL, such as https://hotline.example.edu.cn", s)
	}
	if u.Scheme == "http" && !localHost(u.Hostname()) {
		return "", fmt.Errorf("--public-url %q: a public address needs https (http only for localhost): browsers keep the staff log-in only over https, and reports must not cross the network in clear", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("--public-url %q: give only the scheme and host (and port), e.g. https://hotline.example.edu.cn: the pages are served at its root", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

// localHost reports whether host names this machine.
func localHost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// logLevels are the levels --log-level takes.
var logLevels = []string{"debug", "info", "warn", "error"}

// checkFlags checks the flags of serve and demo that only make sense
// together, naming the flags (and variables) that are wrong or missing,
// so that a mistake stops the start at once rather than half-way.
func (c *Config) checkFlags() []error {
	var errs []error
	if !slices.Contains(logLevels, strings.ToLower(c.LogLevel)) {
		errs = append(errs, fmt.Errorf("--log-level %q (HOTLINE_LOG_LEVEL): want one of %s", c.LogLevel, strings.Join(logLevels, ", ")))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" && c.LogFormat != "" {
		errs = append(errs, fmt.Errorf("--log-format %q (HOTLINE_LOG_FORMAT): want text or json", c.LogFormat))
	}
	smtp := []struct{ flag, env, v string }{
		{"--smtp-addr", "HOTLINE_SMTP_ADDR", c.SMTPAddr}, {"--smtp-from", "HOTLINE_SMTP_FROM", c.SMTPFrom},
	}
	if c.SMTPAddr != "" || c.SMTPFrom != "" || c.SMTPUser != "" || c.SMTPPass != "" {
		if missing := missingFlags(smtp); missing != "" {
			errs = append(errs, fmt.Errorf("e-mail alerts need --smtp-addr and --smtp-from; missing: %s", missing))
		}
		if c.SMTPFrom != "" {
			if _, err := netmail.ParseAddress(c.SMTPFrom); err != nil {
				errs = append(errs, fmt.Errorf("--smtp-from %q (HOTLINE_SMTP_FROM): not an e-mail address", c.SMTPFrom))
			}
		}
		if (c.SMTPUser == "") != (c.SMTPPass == "") {
			errs = append(errs, errors.New("--smtp-user and --smtp-pass (HOTLINE_SMTP_USER, HOTLINE_SMTP_PASS) go together: give both, or neither"))
		}
	}
	wechat := []struct{ flag, env, v string }{
		{"--wechat-appid", "HOTLINE_WECHAT_APPID", c.WechatAppID}, {"--wechat-secret", "HOTLINE_WECHAT_SECRET", c.WechatSecret},
		{"--wechat-token", "HOTLINE_WECHAT_TOKEN", c.WechatToken}, {"--wechat-aes-key", "HOTLINE_WECHAT_AES_KEY", c.WechatAESKey},
	}
	if c.WechatAppID != "" || c.WechatSecret != "" || c.WechatToken != "" || c.WechatAESKey != "" {
		if missing := missingFlags(wechat); missing != "" {
			errs = append(errs, fmt.Errorf("a WeChat account given by flags needs --wechat-appid, --wechat-secret, --wechat-token and --wechat-aes-key (safe mode); missing: %s", missing))
		}
	}
	return errs
}

// missingFlags names the flags among fs that have no value, with their
// environment variables.
func missingFlags(fs []struct{ flag, env, v string }) string {
	var out []string
	for _, f := range fs {
		if f.v == "" {
			out = append(out, f.flag+" ("+f.env+")")
		}
	}
	return strings.Join(out, ", ")
}
