package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/inbox"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/triage"
	"hotline/internal/vault"
)

// Main is the running program: the one place that knows every package and
// wires them. Tests boot it on 127.0.0.1:0 with a temp data dir.
type Main struct {
	Config Config
	Logger *slog.Logger
	Clock  hotline.Clock
	// Argon overrides the argon2id parameters (tests use cheap ones).
	Argon vault.Argon2Params

	Vault  *vault.Vault
	DB     *store.DB
	Broker *live.Broker
	Intake *intake.Service
	Staff  *staff.Service
	Triage *triage.Service
	// Inbox is the counselor UI; the district pages reuse its sessions.
	Inbox *inbox.Server

	Mux      *http.ServeMux
	listener net.Listener
	server   *http.Server

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	closed  sync.Once
}

// mount is a part of the product that adds routes and background workers
// to a running Main: the inbox, the web chat, the bot, the district view.
type mount struct {
	name string
	fn   func(ctx context.Context, m *Main) error
}

var mounts []mount

// registerMount adds a part; each lives in its own file.
func registerMount(name string, fn func(ctx context.Context, m *Main) error) {
	mounts = append(mounts, mount{name, fn})
}

// NewMain returns a Main with the default configuration.
func NewMain() *Main {
	return &Main{Config: Config{DataDir: "./data", Addr: "127.0.0.1:8080", IdleTimeout: 30 * time.Minute, KDFConcurrency: 2, LogLevel: "info", LogFormat: "text"}}
}

// Open opens the data directory: server key, database, services. It
// creates what is missing.
func (m *Main) Open() error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	var err error
	if m.Vault, err = vault.LoadOrCreate(m.Config.DataDir, vault.Options{KDFConcurrency: m.Config.KDFConcurrency, Argon: m.Argon}); err != nil {
		return err
	}
	if m.DB, err = store.Open(filepath.Join(m.Config.DataDir, "hotline.db")); err != nil {
		return err
	}
	m.closers = append(m.closers, m.DB.Close)
	if m.Clock != nil {
		m.DB.Clock = m.Clock
	}
	m.Broker = live.NewBroker()
	m.Intake = intake.New(m.DB, m.Vault, m.Broker, m.Logger)
	m.closers = append(m.closers, func() error { m.Intake.Close(); return nil })
	m.Staff = staff.New(m.DB, m.Vault, m.Logger)
	m.Triage = triage.New(m.DB, m.Vault, m.Broker, m.Logger)
	return nil
}

// Run opens everything, mounts every part and serves HTTP until Close.
func (m *Main) Run(ctx context.Context) error {
	if m.DB == nil {
		if err := m.Open(); err != nil {
			return err
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.WithoutCancel(ctx))
	m.Mux = http.NewServeMux()
	m.Mux.HandleFunc("GET /healthz", m.handleHealthz)
	m.Mux.HandleFunc("GET /{$}", m.handleRoot)
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	m.listener = ln
	if m.Config.PublicURL == "" {
		m.Config.PublicURL = "http://" + ln.Addr().String()
	}
	m.Config.PublicURL = strings.TrimRight(m.Config.PublicURL, "/")
	// The inbox comes first: other parts reuse its log-in and sessions.
	sort.SliceStable(mounts, func(i, j int) bool { return mounts[i].name == "inbox" && mounts[j].name != "inbox" })
	for _, mt := range mounts {
		if err := mt.fn(m.ctx, m); err != nil {
			ln.Close()
			return fmt.Errorf("%s: %w", mt.name, err)
		}
	}
	m.server = &http.Server{
		Handler:           m.Mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		// http.Server's own errors can carry client addresses; keep them
		// out of the log.
		ErrorLog: slog.NewLogLogger(slog.New(slog.NewTextHandler(io.Discard, nil)).Handler(), slog.LevelError),
	}
	m.Go(func(ctx context.Context) {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server stopped", "err", err)
		}
	})
	m.Logger.Info("serving", "url", m.Config.PublicURL)
	return nil
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
		if m.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := m.server.Shutdown(ctx); err != nil {
				m.server.Close()
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

func (m *Main) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if _, err := m.DB.Reader().ExecContext(r.Context(), "SELECT 1"); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
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

func init() {
	register(command{"serve", "run the server: web chat, mailbox, counselor inbox, Telegram bot", runServe})
}

func runServe(ctx context.Context, args []string, env *Env) error {
	m := NewMain()
	fs := newFlagSet("serve", env, "Runs the server: web chat and mailbox for reporters, the counselor inbox, the district view,\nand the Telegram bot when --telegram-token is set.")
	fs.serverFlags(&m.Config, "127.0.0.1:8080")
	if err := fs.Parse(args); err != nil {
		return usageErr(err)
	}
	logger, err := newLogger(&m.Config, env.Stderr)
	if err != nil {
		return err
	}
	m.Logger = logger
	return runServer(ctx, m, nil)
}

func usageErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return ErrUsage
}
