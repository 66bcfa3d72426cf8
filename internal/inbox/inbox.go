// Package inbox is the counselors' web UI: log-in with sessions that any
// node can serve (the school key wrapped under the cookie's secret), CSRF protection, the triage queue with
// live updates, the case page, staff intake and school administration.
//
// It renders only through html/template (so hostile report text is always
// inert), serves a strict Content-Security-Policy with no inline script or
// style, and never logs content: only internal errors, with no tip text.
//
// The district pages (internal/oversight) reuse its log-in and sessions:
// mount the Server for /inbox/, then wrap district handlers with
// [Server.RequireSession] and [Server.RequireCSRF], read the session with
// [Server.SessionFromRequest] and put [Server.CSRFToken] into every form as
// the hidden field "csrf" (or send it as the X-CSRF-Token header). District
// officers are sent to /district/ after log-in.
package inbox

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"hotline/internal/district"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/staff"
	"hotline/internal/throttle"
	"hotline/internal/triage"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Config is what the inbox needs; cmd/hotline fills it.
type Config struct {
	Staff       *staff.Service  // log-in, sessions, accounts, settings
	Triage      *triage.Service // case work
	Intake      *intake.Service // staff intake: Submit with Channel staff and Staff actor
	Broker      *live.Broker
	Logger      *slog.Logger
	Secure      bool          // cookies Secure (HTTPS)
	IdleTimeout time.Duration // default 30 min
	Clock       hotline.Clock // nil = system clock
	// ClientIP finds the address that log-in limits count; behind a
	// reverse proxy list it in ClientIP.Trusted (--trusted-proxy).
	ClientIP    throttle.ClientIP
	LoginLimits LoginLimits // zero: DefaultLoginLimits
	// PublicURL is how students reach the server, for the setup page's
	// snippet, links and QR codes; a loopback URL there gets a warning.
	PublicURL string
	// BotName returns the Telegram bot's username for the t.me link, or
	// "" when there is none; nil: none. A func because the bot may start
	// after the inbox.
	BotName func() string
	// WechatAccounts lists the WeChat official accounts the server runs,
	// for the setup page; nil: none.
	WechatAccounts func() []WechatAccount
	// District computes the school's own statistics with the district's
	// code (nil: no statistics page).
	District *district.Service
	// Alerts sends test alerts (nil: the test buttons answer that this
	// server cannot).
	Alerts AlertTester
	// VAPIDPublicKey is the Web Push public key the installed inbox
	// subscribes with; "" when push is not set up.
	VAPIDPublicKey string
	// SafetyWords returns the safety question as reporters read it, in
	// both languages (dialog.SafetyQuestion), for the setup page; nil:
	// the page does not show it.
	SafetyWords func() (question, yes, no hotline.Label)
}

// DistrictHome is where district officers land after log-in.
const DistrictHome = "/district/"

// csp forbids inline scripts and styles: hostile text that slipped past
// escaping still could not run.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Server is the inbox's http.Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	clock  hotline.Clock
	mux    *http.ServeMux
	pages  map[string]*template.Template
	static http.Handler

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New parses the embedded templates (a broken template fails here, not on a
// request), registers the routes and starts the session janitor.
func New(cfg Config) (*Server, error) {
	if cfg.Staff == nil || cfg.Triage == nil || cfg.Intake == nil || cfg.Broker == nil {
		return nil, errors.New("inbox: Staff, Triage, Intake and Broker are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = hotline.SystemClock{}
	}
	s := &Server{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, mux: http.NewServeMux(), done: make(chan struct{})}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	staticFS, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	s.static = http.StripPrefix("/inbox/static/", http.FileServerFS(staticFS))
	s.routes()
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /inbox/static/", s.handleStatic)
	m.HandleFunc("GET /inbox/login", s.public(s.handleLoginShow))
	guard := s.newCredentialGuard()
	m.HandleFunc("POST /inbox/login", guard.wrap(actPassword, s.public(s.handleLogin)))
	m.HandleFunc("GET /inbox/recover", s.public(s.handleRecoverShow))
	m.HandleFunc("POST /inbox/recover", guard.wrap(actCode, s.public(s.handleRecover)))
	m.HandleFunc("POST /inbox/logout", s.authed(stageTOTP, s.handleLogout))
	m.HandleFunc("GET /inbox/totp", s.authed(stageTOTP, s.handleTOTPShow))
	m.HandleFunc("POST /inbox/totp", guard.wrap(actCode, s.authed(stageTOTP, s.handleTOTP)))
	m.HandleFunc("GET /inbox/password", s.authed(stagePassword, s.handlePasswordShow))
	m.HandleFunc("POST /inbox/password", guard.wrap(actPassword, s.authed(stagePassword, s.handlePassword)))
	m.HandleFunc("GET /inbox/account", s.authed(stageEnroll, s.handleAccount))
	m.HandleFunc("POST /inbox/account/totp", s.authed(stageEnroll, s.handleTOTPEnable))
	m.HandleFunc("POST /inbox/account/totp/disable", s.authed(stageFull, s.handleTOTPDisable))

	// My alerts: every staff member with a complete log-in, district
	// officers included (they are paged for their district).
	m.HandleFunc("GET /inbox/alerts", s.authed(stageFull, s.handleAlerts))
	m.HandleFunc("POST /inbox/alerts/link", s.authed(stageFull, s.handleAlertLink))
	m.HandleFunc("POST /inbox/alerts/unlink", s.authed(stageFull, s.handleAlertUnlink))
	m.HandleFunc("POST /inbox/alerts/email", s.authed(stageFull, s.handleAlertEmail))
	mine, school := s.targetScopes()
	m.HandleFunc("POST /inbox/alerts/targets", s.authed(stageFull, s.handleTargetAdd(mine)))
	m.HandleFunc("POST /inbox/alerts/targets/{id}/test", s.authed(stageFull, s.handleTargetTest(mine)))
	m.HandleFunc("POST /inbox/alerts/targets/{id}/code", s.authed(stageFull, s.handleTargetCode(mine)))
	m.HandleFunc("POST /inbox/alerts/targets/{id}/delete", s.authed(stageFull, s.handleTargetDelete(mine)))
	// An alert's one-time link: "我来处理 / I'm on it", or a test's
	// confirmation. No log-in: the link is the credential, and the page
	// never shows content. GET only shows; the button POSTs.
	m.HandleFunc("GET /inbox/ack/{token}", s.public(s.handleAckShow))
	m.HandleFunc("POST /inbox/ack/{token}", s.public(s.handleAck))
	// The installed inbox (a web app) and its push service worker.
	m.HandleFunc("GET /inbox/manifest.webmanifest", s.handleManifest)
	m.HandleFunc("GET /inbox/sw.js", s.handleServiceWorker)
	m.HandleFunc("GET /inbox/icons/{size}", s.handleIcon)

	m.HandleFunc("GET /inbox/{$}", s.school(s.handleQueue))
	m.HandleFunc("GET /inbox/queue", s.school(s.handleQueueFragment))
	m.HandleFunc("GET /inbox/events", s.school(s.handleEvents))
	m.HandleFunc("GET /inbox/tips/{uid}", s.school(s.handleTipShow))
	m.HandleFunc("GET /inbox/tips/{uid}/thread", s.school(s.handleThreadFragment))
	m.HandleFunc("POST /inbox/tips/{uid}/{action}", s.school(s.handleTipAction))
	m.HandleFunc("GET /inbox/photos/{uid}", s.school(s.handlePhoto))
	m.HandleFunc("GET /inbox/intake", s.school(s.handleIntakeShow))
	m.HandleFunc("POST /inbox/intake", s.school(s.handleIntake))
	m.HandleFunc("GET /inbox/replies", s.school(s.handleReplies))
	m.HandleFunc("GET /inbox/stats", s.school(s.handleStats))
	m.HandleFunc("GET /inbox/stats.csv", s.school(s.handleStatsCSV))
	m.HandleFunc("POST /inbox/replies", s.school(s.handleReplySave))
	m.HandleFunc("POST /inbox/replies/{id}/delete", s.school(s.handleReplyDelete))

	m.HandleFunc("GET /inbox/admin/counselors", s.admin(s.handleCounselors))
	m.HandleFunc("POST /inbox/admin/counselors", s.admin(s.handleCounselorAdd))
	m.HandleFunc("POST /inbox/admin/counselors/{id}/deactivate", s.admin(s.handleCounselorDeactivate))
	m.HandleFunc("POST /inbox/admin/counselors/{id}/oncall", s.admin(s.handleDuty("fallback")))
	m.HandleFunc("POST /inbox/admin/counselors/{id}/head", s.admin(s.handleDuty("head")))
	m.HandleFunc("GET /inbox/admin/rota", s.admin(s.handleRota))
	m.HandleFunc("POST /inbox/admin/rota", s.admin(s.handleRotaAdd))
	m.HandleFunc("POST /inbox/admin/rota/zone", s.admin(s.handleRotaZone))
	m.HandleFunc("POST /inbox/admin/rota/{id}/delete", s.admin(s.handleRotaDelete))
	m.HandleFunc("POST /inbox/admin/groups", s.admin(s.handleTargetAdd(school)))
	m.HandleFunc("POST /inbox/admin/groups/{id}/test", s.admin(s.handleTargetTest(school)))
	m.HandleFunc("POST /inbox/admin/groups/{id}/delete", s.admin(s.handleTargetDelete(school)))
	m.HandleFunc("GET /inbox/admin/settings", s.admin(s.handleSettingsShow))
	m.HandleFunc("POST /inbox/admin/settings", s.admin(s.handleSettings))
	m.HandleFunc("GET /inbox/admin/setup", s.admin(s.handleSetup))
	m.HandleFunc("GET /inbox/admin/audit", s.admin(s.handleAudit))
	m.HandleFunc("GET /inbox/admin/poster.png", s.admin(s.handlePosterFile))
	m.HandleFunc("GET /inbox/admin/poster.pdf", s.admin(s.handlePosterFile))

	m.HandleFunc("/inbox/", s.handleNotFound)
}

// ServeHTTP serves everything under /inbox/ with the security headers.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	// Log-ins and case views are audited with a coarse client family; the
	// header itself goes no further.
	r = r.WithContext(staff.WithClient(r.Context(), staff.CoarseClient(r.UserAgent())))
	s.mux.ServeHTTP(w, r)
}

// Close stops the janitor and the live streams; it is for shutdown. Keys
// live only for a request, so none remains to wipe.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
	})
}

// janitor deletes idle sessions even if nobody comes back for them.
func (s *Server) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(min(time.Minute, s.cfg.IdleTimeout/2))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			if err := s.cfg.Staff.SweepSessions(context.Background(), s.cfg.IdleTimeout); err != nil {
				s.log.Error("inbox: sweep sessions", "err", err)
			}
		}
	}
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	// Static files hold no content: let browsers cache them briefly.
	w.Header().Set("Cache-Control", "public, max-age=300")
	s.static.ServeHTTP(w, r)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, nil, hotline.ErrNotFound)
}

// logErr logs internal errors only; application errors are the user's.
func (s *Server) logErr(r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the browser went away (a page left mid-fetch): nothing to fix
	}
	if hotline.ErrorCode(err) == hotline.EINTERNAL {
		// The error text of lower layers never holds content (they never
		// see plaintext in errors), and we add only the route.
		s.log.Error("inbox", "method", r.Method, "route", r.Pattern, "err", err)
	}
}

// fail renders an error page (or a short text for scripts) with the
// error's safe message.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	s.logErr(r, err)
	status := hotline.HTTPStatus(err)
	lang := langOf(r)
	if rc != nil {
		lang = rc.Lang
	}
	msg := hotline.ErrorMessage(err, lang)
	if r.Header.Get("Accept") == "text/event-stream" || r.Header.Get("X-Requested-With") != "" {
		http.Error(w, msg, status)
		return
	}
	p := s.newPage(r, rc, lang)
	p.Title = p.T("error")
	p.Error = msg
	s.render(w, status, "error", p)
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) {
	t, ok := s.pages[name]
	if !ok {
		panic("inbox: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("inbox render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment executes one named template alone (the live queue).
func (s *Server) renderFragment(w http.ResponseWriter, page, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("inbox render", "fragment", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

var pageNames = []string{"login", "recover", "totp", "password", "account", "queue", "tip", "intake", "counselors", "settings", "alerts", "error", "setup", "replies", "receipt", "audit", "stats", "rota", "ack"}

func (s *Server) parseTemplates() error {
	base, err := template.New("layout").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/targets.html")
	if err != nil {
		return fmt.Errorf("inbox: parse layout: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("inbox: parse %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return nil
}

// redirect answers a form post with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
		to = "/inbox/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
