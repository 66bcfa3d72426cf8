// Package inboxweb is the school staff's web UI under /inbox/, the
// counselors' inbox: log-in with sessions that any node can serve (the
// school key wrapped under the cookie's secret), CSRF protection, the
// triage queue with live updates, the case page, staff intake and school
// administration. It is a UI over the services (staff, triage, intake,
// district for the school's own statistics); it never imports another UI
// package, and shares their scaffolding through internal/web.
//
// It renders only through html/template (so hostile report text is always
// inert), serves a strict Content-Security-Policy with no inline script or
// style, and never logs content: only internal errors, with no tip text.
//
// Its log-in is every staff page's: the district's pages
// (internal/districtweb) and the survey pages (internal/surveyweb) take
// the Server as their web.Auth. Mount it for /inbox/; they wrap their
// handlers with web.Guard, which asks [Server.RequireSession],
// [Server.RequireCSRF] and [Server.SessionFromRequest], and put
// [Server.CSRFToken] into every form as the hidden field "csrf" (or send it
// as the X-CSRF-Token header). District officers are sent to /district/
// after log-in.
package inboxweb

import (
	"context"
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"hotline/internal/district"
	"hotline/internal/evidence"
	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/live"
	"hotline/internal/staff"
	"hotline/internal/throttle"
	"hotline/internal/triage"
	"hotline/internal/web"
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
	Alerts web.AlertTester
	// VAPIDPublicKey is the Web Push public key the installed inbox
	// subscribes with; "" when push is not set up.
	VAPIDPublicKey string
	// Evidence exports a case's evidence bundle (nil: no export).
	Evidence *evidence.Service
	// SafetyWords returns the safety question as reporters read it, in
	// both languages (dialog.SafetyQuestion), for the setup page; nil:
	// the page does not show it.
	SafetyWords func() (question, yes, no hotline.Label)
}

// DistrictHome is where district officers land after log-in.
const DistrictHome = "/district/"

// Server is the inbox's http.Handler.
type Server struct {
	cfg    Config
	log    *slog.Logger
	clock  hotline.Clock
	mux    *http.ServeMux
	pages  *web.Pages
	static http.Handler

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New parses the embedded templates (a broken template fails here, not on a
// request), registers the routes and starts the session janitor.
func New(cfg Config) (*Server, error) {
	if cfg.Staff == nil || cfg.Triage == nil || cfg.Intake == nil || cfg.Broker == nil {
		return nil, errors.New("inboxweb: Staff, Triage, Intake and Broker are required")
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
	var err error
	s.pages, err = web.PageSet{Name: "inboxweb", FS: assets, Funcs: funcs, Logger: cfg.Logger,
		Common: []string{"templates/layout.html", "templates/targets.html"}, Pages: pageNames}.Parse()
	if err != nil {
		return nil, err
	}
	if s.static, err = web.Static("/inbox/static/", assets, "static"); err != nil {
		return nil, err
	}
	s.routes()
	s.wg.Add(1)
	go s.janitor()
	return s, nil
}

func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /inbox/static/", s.static)
	m.HandleFunc("GET /inbox/login", s.public(s.handleLoginShow))
	guard := s.newCredentialGuard()
	m.HandleFunc("POST /inbox/login", guard.wrap(actPassword, s.public(s.handleLogin)))
	m.HandleFunc("GET /inbox/recover", s.public(s.handleRecoverShow))
	m.HandleFunc("POST /inbox/recover", guard.wrap(actCode, s.public(s.handleRecover)))
	// A district's hand-over of a school to its admin: the link is the
	// credential, spent on acceptance.
	m.HandleFunc("GET /inbox/handover/{token}", s.public(s.handleHandoverShow))
	m.HandleFunc("POST /inbox/handover/{token}", guard.wrap(actPassword, s.public(s.handleHandover)))
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
	m.HandleFunc("GET /inbox/tips/{uid}/evidence", s.school(s.handleEvidenceShow))
	m.HandleFunc("POST /inbox/tips/{uid}/evidence", s.school(s.handleEvidence))
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
	web.SetHeaders(w.Header(), web.CSP)
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
	lang := web.Lang(r)
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
	s.pages.Render(w, status, "error", p)
}

// unsavedData is the page of a form that could not be saved.
type unsavedData struct {
	Action string // where the form goes again
	Text   string // what was typed, to send again
	Field  string // its field name
	Photo  bool   // a photo came with it, which must be chosen again
	CSRF   string // the form's own token, sent back as it came
	Back   string
}

// unavailable answers a request the database could not serve (it is
// unreachable, or cannot write) with 503: never as a log-out, and a form's
// typed text comes back in a form that sends it again.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	lang := web.Lang(r)
	if rc != nil {
		lang = rc.Lang
	}
	p := s.newPage(r, rc, lang)
	w.Header().Set("Retry-After", "10")
	if r.Method != http.MethodPost {
		if scripted(r) {
			http.Error(w, p.T("unavailable"), http.StatusServiceUnavailable)
			return
		}
		p.Title = p.T("unavailable_title")
		p.Error = p.T("unavailable")
		s.pages.Render(w, http.StatusServiceUnavailable, "error", p)
		return
	}
	// The form's fields (its body is read here if the session did not load).
	if r.Form == nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	}
	d := &unsavedData{Action: r.URL.Path, CSRF: r.FormValue(csrfField), Back: "/inbox/"}
	for _, f := range []string{"text", "body"} {
		if v := r.FormValue(f); v != "" {
			d.Text, d.Field = v, f
			break
		}
	}
	if r.MultipartForm != nil && len(r.MultipartForm.File["photo"]) > 0 {
		d.Photo = true
	}
	if strings.HasPrefix(r.URL.Path, "/inbox/tips/") {
		d.Back = path.Dir(r.URL.Path)
	}
	if scripted(r) && r.Header.Get("X-Requested-With") != "" {
		http.Error(w, p.T("not_saved"), http.StatusServiceUnavailable)
		return
	}
	p.Title = p.T("not_saved_title")
	p.Error = p.T("not_saved")
	p.Data = d
	s.pages.Render(w, http.StatusServiceUnavailable, "unsaved", p)
}

var pageNames = []string{"login", "recover", "totp", "password", "account", "queue", "tip", "intake", "counselors", "settings", "alerts", "error", "unsaved", "setup", "replies", "receipt", "audit", "stats", "rota", "ack", "evidence", "handover"}

// redirect answers a form post with 303 See Other.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") {
		to = "/inbox/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
