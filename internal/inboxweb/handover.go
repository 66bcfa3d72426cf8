package inboxweb

import (
	"net/http"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// handoverData is the hand-over page: the form that takes a school over
// from the district, then the school's recovery key, shown once.
type handoverData struct {
	Token        string
	School       string // name, for the admin to check it is theirs
	SchoolEN     string
	Code         string
	District     string
	NeedRecovery bool // a running school: its recovery key opens the key
	Username     string
	// Set once accepted: the recovery key is in this page and nowhere else.
	Done        bool
	RecoveryKey string
}

func handoverPage(h *store.Handover, token string) handoverData {
	return handoverData{Token: token, School: h.Name, SchoolEN: h.NameEN, Code: h.Code, District: h.District, NeedRecovery: h.SchoolID != 0}
}

// handoverLink opens the hand-over the request's link names, with the
// page to answer on; a used, replaced or expired link is answered here
// (ok false).
func (s *Server) handoverLink(w http.ResponseWriter, r *http.Request, rc *reqCtx) (p *page, h *store.Handover, token string, ok bool) {
	p = s.newPage(r, rc, rc.Lang)
	p.Title, p.CSRF = p.T("handover_title"), rc.CSRF
	token = r.PathValue("token")
	h, err := s.cfg.Staff.Handover(r.Context(), token)
	if err != nil {
		s.logErr(r, err)
		p.Error, p.Data = hotline.ErrorMessage(err, rc.Lang), handoverData{}
		s.pages.Render(w, hotline.HTTPStatus(err), "handover", p)
		return nil, nil, "", false
	}
	return p, h, token, true
}

// handleHandoverShow shows the form that accepts a hand-over link. The link
// is the credential; a used, replaced or expired one says so.
func (s *Server) handleHandoverShow(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, h, token, ok := s.handoverLink(w, r, rc)
	if !ok {
		return
	}
	p.Data = handoverPage(h, token)
	s.pages.Render(w, http.StatusOK, "handover", p)
}

// handleHandover accepts a hand-over: the admin's account is made (and, for
// a new school, its key pair), the admin is logged in, and the recovery
// key is shown this once.
func (s *Server) handleHandover(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	p, h, token, ok := s.handoverLink(w, r, rc)
	if !ok {
		return
	}
	d := handoverPage(h, token)
	d.Username = r.PostFormValue("username")
	pw := r.PostFormValue("new")
	if pw != r.PostFormValue("again") {
		p.Error, p.Data = p.T("pw_mismatch"), d
		s.pages.Render(w, http.StatusBadRequest, "handover", p)
		return
	}
	acc, err := s.cfg.Staff.AcceptHandover(r.Context(), token, d.Username, pw, r.PostFormValue("recovery"))
	if err != nil {
		s.logErr(r, err)
		p.Error, p.Data = hotline.ErrorMessage(err, rc.Lang), d
		s.pages.Render(w, hotline.HTTPStatus(err), "handover", p)
		return
	}
	// Logged in with the password just set, as the log-in page would.
	ts, err := s.cfg.Staff.Login(r.Context(), acc.Admin.Username, pw, deviceToken(r))
	if err == nil {
		defer ts.Wipe()
		if old, cerr := r.Cookie(sessionCookie); cerr == nil {
			if err := s.cfg.Staff.EndSessionCookie(r.Context(), old.Value); err != nil {
				s.logErr(r, err)
			}
		}
		var tok string
		if tok, err = s.cfg.Staff.OpenSession(r.Context(), ts); err == nil {
			s.setCookie(w, sessionCookie, tok, 0)
			s.setCookie(w, preCookie, "", -1)
			s.rememberDevice(w, r, ts)
		}
	}
	if err != nil {
		// The account exists: the log-in page gets them in.
		s.logErr(r, err)
	}
	d.Done, d.RecoveryKey, d.Username = true, acc.RecoveryKey, acc.Admin.Username
	p.Data = d
	s.pages.Render(w, http.StatusOK, "handover", p)
}

// handoverTexts are the hand-over page's words, zh-CN then English.
var handoverTexts = map[string][2]string{
	"handover_title":     {"接收学校管理员账号", "Take over your school's admin account"},
	"handover_lead":      {"区教育局为下面这所学校开通了举报热线，并指定你为第一位管理员。请设置你的用户名和密码。设置完成后，系统才会为学校生成加密密钥；从那时起学校才开始接收举报。区教育局看不到学校的举报内容。", "The district education bureau has opened the hotline for the school below and named you its first admin. Choose your username and password. Only then is the school's encryption key made, and only from then does the school take reports. The district cannot read the school's reports."},
	"handover_lead_next": {"区教育局请你接任下面这所学校的管理员。学校的举报已经加密，所以还需要学校的恢复密钥（创建学校时第一位管理员保存的那串代码，通常封存在校长办公室）。区教育局没有这把钥匙。", "The district education bureau asks you to take over as admin of the school below. Its reports are encrypted, so you also need the school's recovery key (the code the first admin stored when the school was made, usually sealed in the principal's office). The district does not have it."},
	"handover_school":    {"学校", "School"},
	"handover_district":  {"所属区", "District"},
	"handover_username":  {"你的用户名（字母、数字、点、下划线或连字符）", "Your username (letters, digits, dots, underscores or hyphens)"},
	"handover_accept":    {"接收并设置密码", "Accept and set my password"},
	"handover_done":      {"已完成：你是这所学校的管理员了。", "Done: you are this school's admin."},
	"handover_key_lead":  {"下面是学校的恢复密钥。它只显示这一次，服务器和区教育局都没有保存。所有管理员都忘记密码时，只有它能找回学校的举报内容。请现在打印或抄写下来，封存在校长办公室的保险柜里。", "Below is the school's recovery key. It is shown this once; neither the server nor the district keeps it. When every admin has lost their password, only it recovers the school's reports. Print or write it down now and seal it in the principal's safe."},
	"handover_key":       {"学校恢复密钥（只显示一次）", "School recovery key (shown once)"},
	"handover_key_saved": {"我已把恢复密钥抄写或打印并妥善保管", "I have written down or printed the recovery key and stored it safely"},
	"handover_continue":  {"继续：设置两步验证并打开开通清单", "Continue: set up two-step verification and open the setup checklist"},
	"handover_go_inbox":  {"进入收件箱", "Go to the inbox"},
	"handover_expires":   {"这个链接只能用一次。", "This link works once."},
}

func init() {
	for k, v := range handoverTexts {
		texts[k] = v
	}
}
