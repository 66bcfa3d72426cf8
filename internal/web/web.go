// Package web is what the staff pages share: page templates parsed once
// at start-up (with the blocks every layout uses), the security headers,
// the guard that lets only logged-in staff through, the choice of
// language, the funcs every template has, and photos served from sealed
// storage.
//
// The UI packages (internal/inboxweb, internal/districtweb,
// internal/surveyweb) stand on it and never on one another: each keeps its
// own templates, texts and handlers, and meets the others only here and in
// cmd/hotline. It serves no route of its own and holds no state. It must
// never import a UI package or the store: of the layers below it knows the
// domain, the staff session the log-in hands to every page, and how a test
// alert went.
package web

import (
	"context"
	"net/http"

	"hotline/internal/alert"
	"hotline/internal/staff"
)

// LoginPage is where a request without a complete log-in is sent.
const LoginPage = "/inbox/login"

// Auth is the staff log-in that every staff page stands behind: the
// inbox's sessions, cookies and CSRF tokens (*inboxweb.Server). The
// district's and the survey pages ask it; they never read a cookie.
type Auth interface {
	// RequireSession lets through only requests with a complete log-in;
	// others go to the log-in page (or get 401 when not a page load).
	RequireSession(http.Handler) http.Handler
	// RequireCSRF refuses (403) a state-changing request whose CSRF token
	// is not the session's.
	RequireCSRF(http.Handler) http.Handler
	// SessionFromRequest is the request's staff session.
	SessionFromRequest(*http.Request) (*staff.Session, bool)
	// CSRFToken is what the request's forms carry in the field "csrf".
	CSRFToken(*http.Request) string
}

// Guard wraps fn for staff with a complete log-in: without one the request
// goes to the log-in page, and a state-changing request must carry the
// session's CSRF token. fn gets the session; which staff may see the page
// (a role, a school) is fn's to check.
func Guard(a Auth, fn func(http.ResponseWriter, *http.Request, *staff.Session)) http.Handler {
	return a.RequireSession(a.RequireCSRF(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := a.SessionFromRequest(r)
		if !ok {
			http.Redirect(w, r, LoginPage, http.StatusSeeOther)
			return
		}
		fn(w, r, sess)
	})))
}

// AlertTester sends a test alert over one target ("发送测试提醒"), from any
// node: the scheduler does. The inbox's and the district's alert settings
// have the button.
type AlertTester interface {
	SendTest(ctx context.Context, sess *staff.Session, scope staff.Scope, targetID int64) (*alert.TestResult, error)
}
