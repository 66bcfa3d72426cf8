package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"hotline/bot"
	"hotline/internal/alert"
	"hotline/internal/cluster"
	"hotline/internal/dialog"
	"hotline/internal/district"
	"hotline/internal/districtweb"
	"hotline/internal/evidence"
	"hotline/internal/hotline"
	"hotline/internal/inboxweb"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/photo"
	"hotline/internal/platform"
	"hotline/internal/relay"
	"hotline/internal/scheduler"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
	"hotline/internal/triage"
	"hotline/internal/vault"
	"hotline/webchat"
	"hotline/wechat"
)

// Main is the running program: the one place that knows every package and
// wires them. Open opens the data directory and builds the parts; Run
// listens, builds the parts that need the address it answers on, starts
// every part, in the order it reads, and serves HTTP. Tests boot it on
// 127.0.0.1:0 with a temp data dir (see MustRunMain).
//
// As in WTF Dial's cmd/wtfd, what a test (or the demo, or hotline bench)
// adjusts is an exported field set before Open: Config, the settings
// below, and the fields of Relay and PlatformWorker, which NewMain makes
// for that purpose.
// No hook runs inside Open or Run.
type Main struct {
	Config Config
	Logger *slog.Logger
	Clock  hotline.Clock
	// Argon overrides the argon2id parameters (tests use cheap ones).
	Argon vault.Argon2Params
	// InitKey lets Open create the server key when none is found and the
	// database holds nothing: hotline init and demo (and tests).
	InitKey bool
	// HealthProbeEvery is how often /healthz probes a write at most
	// (DefaultHealthProbeEvery when zero).
	HealthProbeEvery time.Duration
	health           healthProbe

	// Settings of the parts beyond Config's flags, read as Open and Run
	// build them: set them before Open. Zero values keep each part's
	// defaults. Tests shorten timeouts and backoffs and lift the per-client
	// limits (all their reporters come from 127.0.0.1); the demo and the
	// tests point the alerts at the simulator.

	// BotConfig holds the Telegram bot's timeouts, retries and queues; Run
	// fills in the rest (token, URLs, hooks) from Config and the services.
	BotConfig bot.Config
	// WechatConfig holds the WeChat adapter's timeouts; Run fills in the
	// accounts and the rest.
	WechatConfig wechat.Config
	// WebchatLimits bound the web chat and the mailbox; zero fields take
	// webchat.DefaultLimits.
	WebchatLimits webchat.Limits
	// AlertVendors, when set, are the alert vendors' accounts in place of
	// those of Config.Alerts (whose timeout stays): the simulator's, in the
	// demo and the tests.
	AlertVendors *alert.Config
	// SweepInterval is how often the dialog sweeper looks for drafts to
	// send or delete (30 s when zero): an urgent draft reaches its school
	// at most this long after its ten minutes.
	SweepInterval time.Duration

	// KeyCreated is set when Open created the server key; KeySource names
	// where the key was read from.
	KeyCreated bool
	KeySource  string

	// Built by Open, each once.
	Vault  *vault.Vault
	DB     *store.DB
	Broker *live.Broker
	// Cluster carries change notices between nodes (into Broker) and
	// chooses the node that runs the scheduler and the Telegram poller.
	Cluster *cluster.Cluster
	Intake  *intake.Service
	Staff   *staff.Service
	Triage  *triage.Service
	// Surveys are the class questionnaires (调查问卷).
	Surveys  *survey.Service
	District *district.Service // what the district pages and the inbox's district view read
	// Dialog is the reporters' conversation, one engine for every channel
	// (Telegram, WeChat, the web chat): its sweeper files urgent drafts
	// left unsent, whichever channel they came from.
	Dialog *dialog.Engine
	// Relay delivers counselors' replies to Telegram and WeChat. NewMain
	// makes it, so that tests can set its timings before Open; Open wires
	// it, and Run starts it when either channel is configured.
	Relay *relay.Worker
	// Scheduler runs deadlines, follow-ups, the escalation ladders,
	// retention and ledger heads, and alerts over every configured
	// channel; Run starts it on the node that leads.
	Scheduler *scheduler.Scheduler
	// Platform is the district's own platform's side: webhooks,
	// statistics tokens and figures (wire_webhooks.go). PlatformWorker
	// delivers its outbox: NewMain makes it, so that tests can set its
	// timings before Open; Open wires it, and Run starts it.
	Platform       *platform.Service
	PlatformWorker *platform.Worker

	// Built by Run, after it listens: they need the public URL.
	Inbox     *inboxweb.Server // the counselor UI; the district pages reuse its log-in
	Bot       *bot.Bot         // nil without a Telegram token
	Wechat    *wechat.Service  // nil without a WeChat account
	wechatCfs []wechatConf     // the configured WeChat accounts, read at Run
	senders   relay.Channels   // the relay's channels: Telegram, WeChat, or none
	Webchat   *webchat.Server
	Oversight *districtweb.Handler
	// vapidPublic is the Web Push public key installed inboxes subscribe
	// with; "" without Web Push.
	vapidPublic string
	ready       readiness   // /readyz's cache
	demo        *demoAlerts // the demo's alert simulator and page; nil outside the demo
	phones      *demoPhones // the demo's Telegram and WeChat simulators and their page; nil outside the demo
	evidenceSvc *evidence.Service

	Mux       *http.ServeMux
	listener  net.Listener
	server    *http.Server
	metrics   *http.Server // operators' listener: /metrics, /debug/pprof/
	metricsLn net.Listener
	dataLock  *os.File // held while this process serves its SQLite database

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	closed  sync.Once
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{
		Config:         Config{DataDir: "./data", Addr: "127.0.0.1:8080", IdleTimeout: 30 * time.Minute, KDFConcurrency: 2, LogLevel: "info", LogFormat: "text"},
		Relay:          &relay.Worker{},
		PlatformWorker: &platform.Worker{},
	}
}

// Open opens the data directory (database, server key) and builds the
// services and the parts that do not need the server's address: the
// conversation engine, the reply relay, the alert channels and the
// scheduler. It creates the database if it is new, and the server key only
// when InitKey is set and the database holds nothing (see openVault).
func (m *Main) Open() error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	key, _, err := vault.ReadServerKey(m.Config.DataDir)
	clear(key) // openVault loads it again, once the database is open
	var missing *vault.MissingKeyError
	if err != nil && !errors.As(err, &missing) {
		return err // a blank, malformed or exposed key
	}
	if missing != nil && !m.InitKey && sqliteIsNew(m.Config.DatabaseDSN()) {
		// Nothing to protect yet, and nothing to create either.
		return &keyError{noKeyYetMessage(missing, m.Config.DataDir)}
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if m.DB, err = store.Open(m.Config.DatabaseDSN()); err != nil {
		return err
	}
	if err := m.openVault(context.Background(), missing); err != nil {
		m.DB.Close()
		m.DB = nil
		return err
	}
	m.closers = append(m.closers, m.DB.Close)
	if m.Clock != nil {
		m.DB.Clock = m.Clock
	}
	m.Broker = live.NewBroker()
	m.Cluster = cluster.New(m.DB, m.Broker, m.Logger)
	m.Intake = intake.New(m.DB, m.Vault, m.Cluster, m.Logger)
	if m.Config.PhotoBudgetMiB > 0 {
		// One budget for the process: every channel decodes photos through it.
		photo.SetBudget(int64(m.Config.PhotoBudgetMiB) << 20)
	}
	m.closers = append(m.closers, func() error { m.Intake.Close(); return nil })
	m.Staff = staff.New(m.DB, m.Vault, m.Logger)
	m.Triage = triage.New(m.DB, m.Vault, m.Cluster, m.Logger)
	m.Surveys = survey.New(m.DB, m.Vault, m.Logger)
	m.District = district.New(m.DB)
	m.openPlatform()
	m.openDialog()
	m.openRelay()
	if err := m.openAlerts(context.Background()); err != nil {
		m.Close()
		return err
	}
	return nil
}

// Run opens what Open has not, listens, builds the parts that need the
// address it answers on (the pages, the bot, the WeChat adapter), starts
// every part and serves HTTP until Close. The parts start in this order
// because each may use the ones before it: the inbox's log-in guards the
// district pages, the bot's name goes into the conversation's and the web
// chat's links, the scheduler alerts through the bot.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.DB == nil {
		if err := m.Open(); err != nil {
			return err
		}
	}
	if err := m.lockData(); err != nil {
		return err
	}
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.Mux = http.NewServeMux()
	m.Mux.HandleFunc("GET /healthz", m.handleHealthz)
	m.Mux.HandleFunc("GET /readyz", m.handleReadyz)
	m.Mux.HandleFunc("GET /{$}", m.handleRoot)
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.listener = ln
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	if m.Config.PublicURL == "" {
		m.Config.PublicURL = "http://" + ln.Addr().String()
	} else if m.Config.PublicURL, err = checkPublicURL(m.Config.PublicURL); err != nil {
		return err
	}
	m.Scheduler.BaseURL = m.Config.PublicURL // the links its alerts carry

	// The WeChat accounts are read first: the inbox's setup page and the
	// posters show them.
	confs, err := m.Config.wechatAccounts()
	if err != nil {
		return fmt.Errorf("wechat: %w", err)
	}
	m.wechatCfs = confs
	if err := m.Cluster.Run(m.ctx); err != nil {
		return err
	}
	select {
	case <-m.Cluster.Ready():
	case <-time.After(10 * time.Second):
		m.Logger.Warn("cluster: not yet hearing other nodes' notices; going on")
	}
	if err := m.openInbox(); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	if m.Config.TelegramToken != "" {
		if err := m.openBot(m.ctx); err != nil {
			return fmt.Errorf("telegram: %w", err)
		}
	}
	if len(m.wechatCfs) > 0 {
		if err := m.openWechat(m.ctx, m.wechatCfs); err != nil {
			return fmt.Errorf("wechat: %w", err)
		}
	}
	m.startRelay()
	m.openWebchat()
	m.startDialog()
	m.startScheduler()
	m.startPlatform()
	if err := m.openOversight(); err != nil {
		return fmt.Errorf("oversight: %w", err)
	}
	if m.demo != nil {
		m.demo.routes(m)
	}
	if m.phones != nil {
		m.phones.routes(m)
	}
	if err := m.openSurveys(); err != nil {
		return fmt.Errorf("surveys: %w", err)
	}
	if m.Config.MetricsAddr != "" {
		if err := m.openMetrics(); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}

	m.server = &http.Server{
		Handler:           m.Mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          discardErrorLog(),
	}
	m.Go(func(ctx context.Context) {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.Logger.Info("serving", "url", m.Config.PublicURL)
	m.logAlertChannels()
	m.warnUnready(m.ctx)
	return nil
}

// discardErrorLog is the error log of our HTTP servers: http.Server's own
// errors can carry client addresses; keep them out of the log.
func discardErrorLog() *log.Logger {
	return slog.NewLogLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler(), slog.LevelError)
}

// Go runs a background worker until Close.
func (m *Main) Go(fn func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		fn(m.ctx)
	}()
}

// OnClose registers fn to run at Close, before the database closes.
func (m *Main) OnClose(fn func() error) { m.closers = append(m.closers, fn) }

// URL returns the base URL the server answers on.
func (m *Main) URL() string { return m.Config.PublicURL }

// Addr returns the listening address.
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Close shuts down gracefully: stop taking requests, let workers finish,
// wipe keys, close the database.
func (m *Main) Close() error {
	var errs []error
	m.closed.Do(func() {
		for _, srv := range []*http.Server{m.server, m.metrics} {
			if srv == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
			}
			cancel()
		}
		if m.cancel != nil {
			m.cancel()
		}
		m.wg.Wait()
		// Close in reverse order of opening: parts before the database.
		for i := len(m.closers) - 1; i >= 0; i-- {
			if err := m.closers[i](); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// handleHealthz answers 200 "ok" when the database can be read and
// written, 503 otherwise: a node whose writes fail (disk full, the
// database gone or read-only) takes reports it cannot keep, so the balancer
// and Docker must see it fail. The write is a probe of one row, made at most
// every HealthProbeEvery (the answer is reused in between), so that
// /healthz, which anyone may call, costs at most one commit that often.
func (m *Main) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := m.DB.Reader().ExecContext(r.Context(), "SELECT 1"); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	if err := m.health.check(r.Context(), m.DB, m.HealthProbeEvery); err != nil {
		http.Error(w, "database cannot write", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// healthProbe keeps the outcome of the last write probe.
type healthProbe struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// DefaultHealthProbeEvery is how often /healthz writes at most.
const DefaultHealthProbeEvery = 5 * time.Second

// check returns the last probe's outcome, probing again when it is older
// than every. Callers during a probe wait for it.
func (h *healthProbe) check(ctx context.Context, db *store.DB, every time.Duration) error {
	if every <= 0 {
		every = DefaultHealthProbeEvery
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < every {
		return h.err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h.err = db.ProbeWrite(ctx)
	h.at = time.Now()
	return h.err
}

func (m *Main) handleRoot(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/inbox/", http.StatusSeeOther)
}

// runServer runs a configured Main until ctx ends (SIGINT/SIGTERM);
// started, when set, runs once the server listens.
func runServer(ctx context.Context, m *Main, started func()) error {
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	if started != nil {
		started()
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
}

func runServe(ctx context.Context, args []string, env *Env) error {
	m := NewMain()
	fs := newFlagSet("serve", env, "Runs the server: web chat and mailbox for reporters, the counselor inbox, the district view,\nand the Telegram bot when --telegram-token is set.")
	fs.serverFlags(&m.Config, "127.0.0.1:8080")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	if err := checkServerConfig(&m.Config, env); err != nil {
		return err
	}
	logger, err := newLogger(&m.Config, env.Stderr)
	if err != nil {
		return err
	}
	m.Logger = logger
	return runServer(ctx, m, nil)
}

// checkServerConfig checks what serve and demo were given beyond each
// flag's own type, before anything opens: a mistake is a usage error
// (exit 2) with a message that names the flag.
func checkServerConfig(c *Config, env *Env) error {
	var errs []error
	if c.PublicURL != "" {
		u, err := checkPublicURL(c.PublicURL)
		if err != nil {
			errs = append(errs, err)
		}
		c.PublicURL = u
	}
	errs = append(errs, c.checkFlags()...)
	for _, err := range errs {
		fmt.Fprintln(env.Stderr, "hotline:", err)
	}
	if len(errs) > 0 {
		return ErrUsage
	}
	return nil
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return ErrUsage
}
