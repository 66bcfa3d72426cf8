package inboxweb

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	"github.com/pquerna/otp"
	"github.com/skip2/go-qrcode"

	"hotline/internal/hotline"
	"hotline/internal/staff"
)

var validatePassword = staff.ValidatePassword

func (s *Server) handleLoginShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if cur, ok := s.load(r, false); ok {
		cur.sess.ts.Wipe()
		redirect(w, r, stagePage(cur.sessStage, cur.Me))
		return
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.CSRF, p.HTTPSLogin = p.T("login"), rc.CSRF, s.httpsLogin()
	s.pages.Render(w, http.StatusOK, "login", p)
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	username := r.PostFormValue("username")
	ts, err := s.cfg.Staff.Login(r.Context(), username, r.PostFormValue("password"), deviceToken(r))
	if err != nil {
		s.logErr(r, err)
		p := s.newPage(r, rc, rc.Lang)
		p.Title, p.CSRF, p.Error, p.HTTPSLogin = p.T("login"), rc.CSRF, hotline.ErrorMessage(err, rc.Lang), s.httpsLogin()
		p.Data = username
		s.pages.Render(w, hotline.HTTPStatus(err), "login", p)
		return
	}
	defer ts.Wipe() // the session's row keeps it, wrapped under the cookie
	// A log-in replaces whatever session this browser had.
	if old, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Staff.EndSessionCookie(r.Context(), old.Value); err != nil {
			s.logErr(r, err)
		}
	}
	tok, err := s.cfg.Staff.OpenSession(r.Context(), ts)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setCookie(w, sessionCookie, tok, 0)
	s.setCookie(w, preCookie, "", -1)
	s.rememberDevice(w, r, ts)
	switch {
	case ts.HasTOTP():
		redirect(w, r, "/inbox/totp")
	case ts.Counselor.MustChangePassword:
		redirect(w, r, "/inbox/password")
	case ts.Counselor.Role == hotline.RoleDistrict:
		redirect(w, r, DistrictHome)
	default:
		redirect(w, r, "/inbox/")
	}
}

// deviceToken is the request's device cookie, "" if none.
func deviceToken(r *http.Request) string {
	if c, err := r.Cookie(deviceCookie); err == nil {
		return c.Value
	}
	return ""
}

// rememberDevice makes this browser known to the counselor once their
// log-in is complete, so that a stranger's wrong guesses never lock them
// out of it. It outlives log-outs on purpose.
func (s *Server) rememberDevice(w http.ResponseWriter, r *http.Request, ts *staff.Session) {
	if !ts.Complete() {
		return
	}
	tok, err := s.cfg.Staff.RememberDevice(r.Context(), ts, deviceToken(r))
	if err != nil {
		s.logErr(r, err) // the log-in stands; the browser stays unknown
		return
	}
	s.setCookie(w, deviceCookie, tok, int(staff.DeviceLifetime/time.Second))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Staff.EndSession(r.Context(), rc.sess.ts); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	s.setCookie(w, sessionCookie, "", -1)
	redirect(w, r, "/inbox/login")
}

func (s *Server) handleTOTPShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title = p.T("totp_title")
	s.pages.Render(w, http.StatusOK, "totp", p)
}

func (s *Server) handleTOTP(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Staff.VerifyTOTP(r.Context(), rc.sess.ts, r.PostFormValue("code")); err != nil {
		s.logErr(r, err)
		p := s.newPage(r, rc, rc.Lang)
		p.Title, p.Error = p.T("totp_title"), hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "totp", p)
		return
	}
	s.rememberDevice(w, r, rc.sess.ts)
	next := stageFull
	if rc.Me.MustChangePassword {
		next = stagePassword
	}
	redirect(w, r, stagePage(next, rc.Me))
}

type passwordData struct {
	Forced bool
}

func (s *Server) handlePasswordShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav = p.T("pw_title"), "account"
	p.Data = passwordData{Forced: rc.Me.MustChangePassword}
	s.pages.Render(w, http.StatusOK, "password", p)
}

func (s *Server) handlePassword(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	forced := rc.Me.MustChangePassword
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("pw_title"), "account", passwordData{Forced: forced}
	pw, again := r.PostFormValue("new"), r.PostFormValue("again")
	if pw != again {
		p.Error = p.T("pw_mismatch")
		s.pages.Render(w, http.StatusBadRequest, "password", p)
		return
	}
	if err := validatePassword(pw); err != nil {
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "password", p)
		return
	}
	if !forced {
		// A voluntary change proves the current password first, so that a
		// session left open on a shared laptop cannot take the account.
		check, err := s.cfg.Staff.Login(r.Context(), rc.Me.Username, r.PostFormValue("current"), deviceToken(r))
		if err != nil {
			s.logErr(r, err)
			p.Error = hotline.ErrorMessage(err, rc.Lang)
			s.pages.Render(w, hotline.HTTPStatus(err), "password", p)
			return
		}
		check.Wipe()
	}
	if err := s.cfg.Staff.ChangePassword(r.Context(), rc.sess.ts, pw); err != nil {
		s.logErr(r, err)
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "password", p)
		return
	}
	// The counselor's other browsers' sessions ended with the change.
	rc.Me.MustChangePassword = false
	if forced {
		st := stageFull
		if rc.School != nil && rc.School.Settings.RequireTOTP && len(rc.Me.TOTPSecretSealed) == 0 {
			st = stageEnroll
		}
		redirect(w, r, stagePage(st, rc.Me))
		return
	}
	p.Notice, p.Data = p.T("pw_changed"), passwordData{}
	s.pages.Render(w, http.StatusOK, "password", p)
}

type accountData struct {
	HasTOTP  bool
	Required bool
	Secret   string
	QR       template.URL // data: URL of a PNG we generated
}

func (s *Server) accountPage(r *http.Request, rc *reqCtx) (*page, error) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav = p.T("account"), "account"
	d := accountData{HasTOTP: len(rc.Me.TOTPSecretSealed) > 0, Required: rc.School != nil && rc.School.Settings.RequireTOTP}
	if !d.HasTOTP {
		// The pending key lives in the session until a code confirms it, so
		// a reload shows the same QR code.
		keyURL := rc.sess.ts.PendingTOTP()
		if keyURL == "" {
			key, err := s.cfg.Staff.NewTOTPKey(rc.sess.ts)
			if err != nil {
				return nil, err
			}
			keyURL = key.URL()
			if err := s.cfg.Staff.SetPendingTOTP(r.Context(), rc.sess.ts, keyURL); err != nil {
				return nil, err
			}
		}
		key, err := otp.NewKeyFromURL(keyURL)
		if err != nil {
			return nil, err
		}
		d.Secret = key.Secret()
		if img, err := qrcode.Encode(keyURL, qrcode.Medium, 220); err == nil {
			d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(img))
		}
	}
	p.Data = d
	return p, nil
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, err := s.accountPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	if rc.sessStage == stageEnroll {
		p.Notice = p.T("totp_required")
	}
	s.pages.Render(w, http.StatusOK, "account", p)
}

func (s *Server) handleTOTPEnable(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	keyURL := rc.sess.ts.PendingTOTP()
	var ferr error = staff.ErrBadTOTP
	if key, err := otp.NewKeyFromURL(keyURL); err == nil && keyURL != "" {
		ferr = s.cfg.Staff.EnableTOTP(r.Context(), rc.sess.ts, key.Secret(), r.PostFormValue("code"))
	}
	if ferr != nil {
		s.logErr(r, ferr)
		p, err := s.accountPage(r, rc)
		if err != nil {
			s.fail(w, r, rc, err)
			return
		}
		p.Error = hotline.ErrorMessage(ferr, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(ferr), "account", p)
		return
	}
	if rc.sessStage == stageEnroll {
		redirect(w, r, stagePage(stageFull, rc.Me))
		return
	}
	rc.Me.TOTPSecretSealed = []byte{1}
	p, _ := s.accountPage(r, rc)
	p.Notice = p.T("totp_enabled")
	s.pages.Render(w, http.StatusOK, "account", p)
}

func (s *Server) handleTOTPDisable(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Staff.DisableTOTP(r.Context(), rc.sess.ts, r.PostFormValue("code")); err != nil {
		s.logErr(r, err)
		p, perr := s.accountPage(r, rc)
		if perr != nil {
			s.fail(w, r, rc, perr)
			return
		}
		p.Error = hotline.ErrorMessage(err, rc.Lang)
		s.pages.Render(w, hotline.HTTPStatus(err), "account", p)
		return
	}
	rc.Me.TOTPSecretSealed = nil
	p, err := s.accountPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p.Notice = p.T("totp_disabled")
	s.pages.Render(w, http.StatusOK, "account", p)
}

type recoverData struct {
	Code, Admin, Password string
}

func (s *Server) handleRecoverShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.CSRF, p.Data = p.T("recover"), rc.CSRF, recoverData{}
	s.pages.Render(w, http.StatusOK, "recover", p)
}

func (s *Server) handleRecover(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.CSRF = p.T("recover"), rc.CSRF
	d := recoverData{Code: r.PostFormValue("school"), Admin: r.PostFormValue("admin")}
	c, oneTime, err := s.cfg.Staff.Recover(r.Context(), d.Code, r.PostFormValue("key"), d.Admin)
	if err != nil {
		s.logErr(r, err)
		p.Error, p.Data = hotline.ErrorMessage(err, rc.Lang), d
		s.pages.Render(w, hotline.HTTPStatus(err), "recover", p)
		return
	}
	d.Admin, d.Password = c.Username, oneTime
	p.Data = d
	s.pages.Render(w, http.StatusOK, "recover", p)
}
