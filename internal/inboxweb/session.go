package inboxweb

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/web"
)

// Cookie names. The session cookie is scoped to / so that the district
// pages share the log-in.
const (
	sessionCookie = "hl_session"
	preCookie     = "hl_pre"    // pre-session CSRF token for the log-in and recovery forms
	deviceCookie  = "hl_device" // a browser that completed a log-in: see staff.Login
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// stage is how far a log-in has come; each page needs a stage.
type stage int

const (
	stageTOTP     stage = iota // password right, second factor pending
	stagePassword              // must replace a one-time password
	stageEnroll                // the school requires TOTP and none is enrolled
	stageFull                  // may work
)

// session is one browser's log-in, resumed from the database on every
// request (see staff.ResumeSession): any node serves it, and its key is
// unwrapped only for the request.
type session struct {
	ts *staff.Session
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("inbox: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// reqCtx is what an authenticated handler gets.
type reqCtx struct {
	sess      *session
	Me        *hotline.Counselor // fresh from the database on every request
	School    *hotline.School    // nil for district officers
	Lang      hotline.Lang
	CSRF      string
	sessStage stage
}

func (rc *reqCtx) actor() hotline.Actor { return rc.sess.ts.Actor() }

type handler func(w http.ResponseWriter, r *http.Request, rc *reqCtx)

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode})
}

func equalToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ErrCSRF refuses a state-changing request without a valid token.
var ErrCSRF = hotline.Errorf(hotline.EFORBIDDEN, "页面已过期，请刷新后重试。", "This page has expired; reload it and try again.")

// public wraps pre-log-in forms: they carry a double-submit token that
// matches the hl_pre cookie, so a log-in cannot be forged from elsewhere.
func (s *Server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := &reqCtx{Lang: web.ChooseLang(w, r)}
		c, err := r.Cookie(preCookie)
		if err == nil && len(c.Value) == 43 {
			rc.CSRF = c.Value
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !equalToken(rc.CSRF, r.PostFormValue(csrfField)) {
				if s.overHTTP(r) {
					// The Secure cookie never came back: no reload fixes
					// that, the https address does.
					s.insecureLogin(w, r, rc)
					return
				}
				s.fail(w, r, rc, ErrCSRF)
				return
			}
		}
		if rc.CSRF == "" {
			rc.CSRF = randomToken()
			s.setCookie(w, preCookie, rc.CSRF, 3600)
		}
		h(w, r, rc)
	}
}

// overHTTP reports whether a form was posted from a page the browser
// opened over plain http while the server's address is https: its Origin
// (or, without one, its Referer) says so, whatever proxy stands between.
func (s *Server) overHTTP(r *http.Request) bool {
	if !s.cfg.Secure || r.TLS != nil {
		return false
	}
	from := r.Header.Get("Origin")
	if from == "" || from == "null" {
		from = r.Header.Get("Referer")
	}
	return strings.HasPrefix(from, "http://")
}

// httpsLogin is the log-in page's address on the server's https URL.
func (s *Server) httpsLogin() string {
	if !s.cfg.Secure {
		return ""
	}
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/inbox/login"
}

// insecureLogin answers a log-in (or recovery) form posted over plain http
// to an https server: the log-in page, saying why it cannot work here and
// linking the https address.
func (s *Server) insecureLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if rc.CSRF == "" {
		rc.CSRF = randomToken()
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.CSRF, p.Insecure, p.HTTPSLogin = p.T("login"), rc.CSRF, true, s.httpsLogin()
	p.Data = r.PostFormValue("username")
	s.pages.Render(w, http.StatusForbidden, "login", p)
}

// load finds the request's session and refreshes the counselor from the
// database: a deactivated account loses its sessions at once.
func (s *Server) load(r *http.Request, touch bool) (*reqCtx, bool) {
	rc, err := s.resume(r, touch)
	return rc, err == nil
}

// resume is load that tells why there is no session: hotline.ErrUnauthorized
// when the browser has none (or it ended), an internal error when the
// database could not be asked, which must not look like a log-out.
func (s *Server) resume(r *http.Request, touch bool) (*reqCtx, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, hotline.ErrUnauthorized
	}
	ts, err := s.cfg.Staff.ResumeSession(r.Context(), c.Value, s.cfg.IdleTimeout, touch)
	if err != nil {
		s.logErr(r, err)
		return nil, err
	}
	sess := &session{ts: ts}
	me := ts.Counselor // fresh from the database
	rc := &reqCtx{sess: sess, Me: me, CSRF: ts.CSRF(), Lang: web.Lang(r)}
	if me.SchoolID != 0 {
		if rc.School, err = s.cfg.Staff.SchoolOf(r.Context(), ts.Actor()); err != nil {
			ts.Wipe()
			if hotline.ErrorCode(err) == hotline.EINTERNAL {
				return nil, err
			}
			return nil, hotline.ErrUnauthorized
		}
	}
	switch {
	case !ts.Complete():
		rc.sessStage = stageTOTP
	case me.MustChangePassword:
		rc.sessStage = stagePassword
	case rc.School != nil && rc.School.Settings.RequireTOTP && len(me.TOTPSecretSealed) == 0:
		rc.sessStage = stageEnroll
	default:
		rc.sessStage = stageFull
	}
	return rc, nil
}

// stagePage is where a session at st must go next.
func stagePage(st stage, me *hotline.Counselor) string {
	switch st {
	case stageTOTP:
		return "/inbox/totp"
	case stagePassword:
		return "/inbox/password"
	case stageEnroll:
		return "/inbox/account"
	}
	if me.Role == hotline.RoleDistrict {
		return DistrictHome
	}
	return "/inbox/"
}

// scripted reports whether the request comes from our script or an event
// stream, which want a status code rather than a redirect.
func scripted(r *http.Request) bool {
	return r.Header.Get("X-Requested-With") != "" || r.Header.Get("Accept") == "text/event-stream" || r.Method != http.MethodGet
}

// authed wraps a handler for a logged-in session that has reached need.
// Pages of the TOTP step accept only sessions at that step. Every POST
// must carry the session's CSRF token.
func (s *Server) authed(need stage, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc, err := s.resume(r, r.URL.Path != "/inbox/events")
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			// The database did not answer: the counselor is still logged
			// in, and what they typed must not be lost to a log-in page.
			s.unavailable(w, r, nil)
			return
		}
		if err != nil {
			if scripted(r) {
				s.fail(w, r, nil, hotline.ErrUnauthorized)
				return
			}
			redirect(w, r, "/inbox/login")
			return
		}
		defer rc.sess.ts.Wipe() // the key lives for this request only
		rc.Lang = web.ChooseLang(w, r)
		if r.Method == http.MethodPost && !s.csrfOK(w, r, rc.sess) {
			s.fail(w, r, rc, ErrCSRF)
			return
		}
		if rc.sessStage < need || (need == stageTOTP && rc.sessStage != stageTOTP && r.URL.Path == "/inbox/totp") {
			if scripted(r) && r.Method == http.MethodGet {
				s.fail(w, r, rc, hotline.ErrUnauthorized)
				return
			}
			redirect(w, r, stagePage(rc.sessStage, rc.Me))
			return
		}
		h(w, r, rc)
	}
}

// school wraps pages for a school's staff with a complete log-in; district
// officers go to their own pages.
func (s *Server) school(h handler) http.HandlerFunc {
	return s.authed(stageFull, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if rc.School == nil {
			if scripted(r) {
				s.fail(w, r, rc, hotline.ErrNotFound)
				return
			}
			redirect(w, r, DistrictHome)
			return
		}
		h(w, r, rc)
	})
}

// admin wraps school-admin pages.
func (s *Server) admin(h handler) http.HandlerFunc {
	return s.school(func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		if rc.Me.Role != hotline.RoleAdmin {
			s.fail(w, r, rc, hotline.ErrForbidden)
			return
		}
		h(w, r, rc)
	})
}

// maxForm bounds a form body; photos make the intake and reply forms large.
const maxForm = intakeMaxBytes

func (s *Server) csrfOK(w http.ResponseWriter, r *http.Request, sess *session) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadWait))
	tok := r.Header.Get(csrfHeader)
	if tok == "" {
		tok = r.FormValue(csrfField) // parses url-encoded and multipart bodies
	}
	return equalToken(sess.ts.CSRF(), tok)
}

type ctxKey struct{}

// SessionFromRequest returns the triage session of a request's complete
// log-in (password changed, second factor passed), for other packages'
// pages that share the inbox log-in. It counts as activity for idle expiry.
func (s *Server) SessionFromRequest(r *http.Request) (*staff.Session, bool) {
	if rc, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
		return rc.sess.ts, true
	}
	rc, ok := s.load(r, true)
	if !ok || rc.sessStage != stageFull {
		return nil, false
	}
	return rc.sess.ts, true
}

// CSRFToken returns the CSRF token that forms of the request's session
// must carry in the field "csrf" (or the X-CSRF-Token header).
func (s *Server) CSRFToken(r *http.Request) string {
	if rc, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
		return rc.CSRF
	}
	if rc, ok := s.load(r, false); ok {
		return rc.CSRF
	}
	return ""
}

// RequireSession lets through only requests with a complete log-in;
// others are sent to the log-in page (or get 401 when not a page load).
func (s *Server) RequireSession(next http.Handler) http.Handler {
	return s.authed(stageFull, func(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, rc)))
	})
}

// RequireCSRF refuses (403) any POST, PUT, PATCH or DELETE whose CSRF token
// does not match the session's. Use it inside RequireSession.
func (s *Server) RequireCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		var sess *session
		if rc, ok := r.Context().Value(ctxKey{}).(*reqCtx); ok {
			sess = rc.sess
		} else if rc, ok := s.load(r, false); ok {
			sess = rc.sess
		}
		if sess == nil || !s.csrfOK(w, r, sess) {
			s.fail(w, r, nil, ErrCSRF)
			return
		}
		next.ServeHTTP(w, r)
	})
}
