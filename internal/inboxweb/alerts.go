package inboxweb

import (
	"net/http"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
)

// alertsData is the "my alerts" page: how this staff member is reached
// when an urgent report or a missed deadline needs them.
type alertsData struct {
	Prefs    *staff.AlertPrefs
	Code     string    // a fresh link code, shown once in this response
	Expires  time.Time // when Code stops working
	EmailIn  string    // the address typed, kept after a refusal
	District bool      // a district officer: paged for the district
	// Channels are every way this staff member is reached, with whether
	// each works; Telegram and e-mail among them.
	Channels *targetsBlock
	// Slots are this staff member's lines of the school's rota.
	Slots []rotaLine
	// Fallback, Head and Duty say the other duties they hold.
	Fallback, Head, Duty bool
	// VAPIDKey is the Web Push public key; "" when push is not set up.
	VAPIDKey string
}

func (s *Server) alertsPage(r *http.Request, rc *reqCtx) (*page, *alertsData, error) {
	ctx := r.Context()
	prefs, err := s.cfg.Staff.AlertPrefs(ctx, rc.sess.ts)
	if err != nil {
		return nil, nil, err
	}
	d := &alertsData{Prefs: prefs, EmailIn: prefs.Email, District: rc.School == nil, VAPIDKey: s.cfg.VAPIDPublicKey}
	if d.Channels, err = s.targetsBlock(ctx, rc, staff.ScopeMine); err != nil {
		return nil, nil, err
	}
	if !s.cfg.Staff.Configured(alert.WebPush) {
		d.VAPIDKey = ""
	}
	me := rc.Me
	d.Fallback, d.Head, d.Duty = prefs.OnCall && !d.District, prefs.Head, prefs.OnCall && d.District
	if rc.School != nil {
		dir, err := s.cfg.Staff.Directory(ctx, rc.School.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, sl := range dir.Slots() {
			if sl.CounselorID == me.ID {
				d.Slots = append(d.Slots, describeSlot(sl, dir))
			}
		}
	}
	p := s.newPage(r, rc, rc.Lang)
	p.Title, p.Nav, p.Data = p.T("alerts"), "alerts", d
	if rc.School != nil {
		if p.Unread, err = s.cfg.Triage.UnreadCount(ctx, rc.actor()); err != nil {
			return nil, nil, err
		}
	}
	return p, d, nil
}

// renderAlertsWith shows "my alerts" with an error (a refused link, a
// wrong code).
func (s *Server) renderAlertsWith(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error, form func(*targetsBlock)) {
	p, d, perr := s.alertsPage(r, rc)
	if perr != nil {
		s.fail(w, r, rc, perr)
		return
	}
	if form != nil {
		form(d.Channels)
	}
	p.Error = hotline.ErrorMessage(err, rc.Lang)
	s.pages.Render(w, hotline.HTTPStatus(err), "alerts", p)
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, _, err := s.alertsPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	targetNotice(p, r, p.Data.(*alertsData).Channels)
	switch r.URL.Query().Get("done") {
	case "unlinked":
		p.Notice = p.T("tg_unlinked")
	case "email":
		p.Notice = p.T("email_saved")
	case "email_cleared":
		p.Notice = p.T("email_cleared")
	}
	s.pages.Render(w, http.StatusOK, "alerts", p)
}

// handleAlertLink makes a one-time link code and shows it in this
// response only; the bot takes it as "/link CODE" within 15 minutes.
func (s *Server) handleAlertLink(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	code, expires, err := s.cfg.Staff.NewLinkCode(r.Context(), rc.sess.ts)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	p, d, err := s.alertsPage(r, rc)
	if err != nil {
		s.fail(w, r, rc, err)
		return
	}
	d.Code, d.Expires = code, expires
	s.pages.Render(w, http.StatusOK, "alerts", p)
}

func (s *Server) handleAlertUnlink(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	if err := s.cfg.Staff.UnlinkTelegram(r.Context(), rc.sess.ts); err != nil {
		s.fail(w, r, rc, err)
		return
	}
	redirect(w, r, "/inbox/alerts?done=unlinked")
}

// handleAlertEmail sets the alert address, or clears it ("clear" button
// or an empty field). A refused address re-renders the page with it.
func (s *Server) handleAlertEmail(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	addr := r.FormValue("email")
	if r.FormValue("clear") == "1" {
		addr = ""
	}
	if err := s.cfg.Staff.SetAlertEmail(r.Context(), rc.sess.ts, addr); err != nil {
		if hotline.ErrorCode(err) != hotline.EINVALID {
			s.fail(w, r, rc, err)
			return
		}
		p, d, perr := s.alertsPage(r, rc)
		if perr != nil {
			s.fail(w, r, rc, perr)
			return
		}
		p.Error, d.EmailIn = hotline.ErrorMessage(err, rc.Lang), addr
		s.pages.Render(w, hotline.HTTPStatus(err), "alerts", p)
		return
	}
	if addr == "" {
		redirect(w, r, "/inbox/alerts?done=email_cleared")
		return
	}
	redirect(w, r, "/inbox/alerts?done=email")
}
