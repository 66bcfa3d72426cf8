// Package surveyweb serves the questionnaires on the web: the pupils'
// pages under /q/ (plain HTML forms, no JavaScript, for a 360-px phone or
// an old computer-room PC) and the staff's under /inbox/surveys/ (a
// school) and /district/surveys/ (the district), behind the inbox's log-in
// (a web.Auth). It is a UI over internal/survey; it imports no other UI
// package, and its scaffolding (templates, headers, guard, language) is
// internal/web's.
package surveyweb

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/survey"
	"hotline/internal/throttle"
	"hotline/internal/web"
)

//go:embed templates/*.html static/*
var assets embed.FS

// csp: no script at all on the pupils' pages, styles from our origin.
const csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Pupils serves the pupils' questionnaire pages under /q/.
type Pupils struct {
	svc     *survey.Service
	log     *slog.Logger
	mux     *http.ServeMux
	pages   *web.Pages
	botName func() string
	// wrong limits unknown codes per client (by a keyed hash of its
	// address, never the address): a school's whole computer room may
	// share one address, so it is generous, but a flood of guesses stops.
	wrong    *throttle.Limiter
	clientIP throttle.ClientIP
	// Secure marks the pupil's session cookie Secure (the site is HTTPS).
	Secure bool
}

// sessionCookie holds a random token, the browser's own, that makes it a
// code's draft owner or its submitter (survey.Service.Open): only this
// browser sees its draft again or hears that the code was used. It lives
// half a day, long enough to come back to a half-done questionnaire, short
// enough that a shared computer-room PC forgets it by the next day.
const (
	sessionCookie = "hl_q"
	sessionAge    = 12 * 60 * 60
)

// session returns the browser's token, giving it one if it has none.
func (p *Pupils) session(w http.ResponseWriter, r *http.Request) []byte {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) == 43 {
		if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			return b
		}
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/q/",
		MaxAge: sessionAge, HttpOnly: true, Secure: p.Secure, SameSite: http.SameSiteLaxMode})
	return b
}

// Unknown codes a client may try: 60 at once, then one every 2 seconds.
var wrongCodes = throttle.Rule{Rate: 0.5, Burst: 60}

var errTooManyCodes = hotline.Errorf(hotline.ERATELIMIT, "从这里输入的错误问卷码太多了，请过一会儿再试。", "Too many wrong codes from here; please try again in a while.")

// NewPupils parses the pupils' templates and registers their routes.
func NewPupils(svc *survey.Service, log *slog.Logger, botName func() string, clientIP throttle.ClientIP) (*Pupils, error) {
	if log == nil {
		log = slog.Default()
	}
	if botName == nil {
		botName = func() string { return "" }
	}
	p := &Pupils{svc: svc, log: log, mux: http.NewServeMux(), botName: botName,
		wrong: throttle.New(throttle.Config{PerClient: []throttle.Rule{wrongCodes}}), clientIP: clientIP}
	var err error
	p.pages, err = web.PageSet{Name: "surveyweb", FS: assets, Funcs: funcs, Logger: log,
		Common: []string{"templates/playout.html", "templates/main.html"}, Pages: []string{"enter", "take", "done", "perror"}}.Parse()
	if err != nil {
		return nil, err
	}
	static, err := web.Static("/q/static/", assets, "static")
	if err != nil {
		return nil, err
	}
	p.mux.Handle("GET /q/static/", static)
	p.mux.HandleFunc("GET /q/{$}", p.handleEnter)
	p.mux.HandleFunc("POST /q/{$}", p.handleOpen)
	p.mux.HandleFunc("GET /q/{code}", p.handleLink)
	p.mux.HandleFunc("POST /q/page", p.handlePage)
	return p, nil
}

// ServeHTTP serves /q/ with the security headers; no page is cached, so a
// shared computer keeps no page of answers (only the style sheet).
func (p *Pupils) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.SetHeaders(w.Header(), csp)
	p.mux.ServeHTTP(w, r)
}

type pupilPage struct {
	Lang     hotline.Lang
	LangURL  string
	Title    string
	Error    string
	Code     string
	Take     *survey.Take
	Page     int
	Pages    int
	Qs       []*survey.Question
	Answers  survey.Answers
	Intro    bool
	Last     bool
	TalkWeb  string
	TalkMail string
	TalkTG   string
	Saved    bool
	Used     bool
}

func (pp *pupilPage) T(key string) string         { return texts[key].In(pp.Lang) }
func (pp *pupilPage) L(l hotline.Label) string    { return l.In(pp.Lang) }
func (pp *pupilPage) Def() string                 { return survey.Definition.In(pp.Lang) }
func (pp *pupilPage) Checked(id, key string) bool { return pp.Answers.Has(id, key) }
func (pp *pupilPage) Text(id string) string {
	if v := pp.Answers[id]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func pupilLang(r *http.Request) hotline.Lang {
	if l := r.FormValue("lang"); l != "" {
		return hotline.ParseLang(l)
	}
	return hotline.LangZH
}

func (p *Pupils) newPage(r *http.Request) *pupilPage {
	lang := pupilLang(r)
	other := "en"
	if lang == hotline.LangEN {
		other = "zh"
	}
	pp := &pupilPage{Lang: lang, LangURL: "/q/?lang=" + other}
	pp.Title = pp.T("title")
	return pp
}

func (p *Pupils) handleEnter(w http.ResponseWriter, r *http.Request) {
	p.pages.Render(w, http.StatusOK, "enter", p.newPage(r))
}

// handleLink is where a slip's QR code leads (/q/CODE): the questionnaire
// opens at once. For a code this browser did not submit it looks the same
// whether or not someone else did.
func (p *Pupils) handleLink(w http.ResponseWriter, r *http.Request) {
	p.open(w, r, r.PathValue("code"))
}

func (p *Pupils) handleOpen(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	p.open(w, r, r.FormValue("code"))
}

// openCode opens a code for this browser, counting unknown ones against
// the client.
func (p *Pupils) openCode(w http.ResponseWriter, r *http.Request, code string) (*survey.Take, error) {
	client := p.clientIP.Of(r)
	if ok, _ := p.wrong.Ready(client, 0); !ok {
		return nil, errTooManyCodes
	}
	t, err := p.svc.Open(r.Context(), code, p.session(w, r))
	if err == survey.ErrCodeUnknown {
		p.wrong.Charge(client, 0)
	}
	return t, err
}

func (p *Pupils) open(w http.ResponseWriter, r *http.Request, code string) {
	pp := p.newPage(r)
	t, err := p.openCode(w, r, code)
	if err != nil {
		p.fail(w, r, pp, t, err)
		return
	}
	pp.Take, pp.Code, pp.Answers, pp.Intro = t, t.Code, t.Answers, true
	pp.Pages = len(t.Survey.Sections())
	pp.Saved = len(t.Answers) > 0
	p.pages.Render(w, http.StatusOK, "take", pp)
}

// maxForm bounds one page's post: a page's answers and a little text.
const maxForm = 64 << 10

// handlePage saves the page's answers and shows the next (or previous)
// page; on the last page, "submit" stores the response once.
func (p *Pupils) handlePage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	pp := p.newPage(r)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, pp, nil, hotline.Errorf(hotline.ETOOLARGE, "填写的内容太多了。", "Too much was entered."))
		return
	}
	t, err := p.openCode(w, r, r.PostForm.Get("code"))
	if err != nil {
		p.fail(w, r, pp, t, err)
		return
	}
	sections := t.Survey.Sections()
	page, _ := strconv.Atoi(r.PostForm.Get("page"))
	if page < 0 || page >= len(sections) {
		page = 0
	}
	var ids []string
	for _, q := range sections[page] {
		ids = append(ids, q.ID)
	}
	got := survey.Answers{}
	for _, id := range ids {
		if v := r.PostForm["a."+id]; len(v) > 0 {
			got[id] = v
		}
	}
	merged := t.Answers
	if r.PostForm.Get("intro") == "" {
		merged = t.Answers.Merge(got, ids)
	}
	pp.Take, pp.Code, pp.Pages = t, t.Code, len(sections)
	next := page
	switch r.PostForm.Get("go") {
	case "submit":
		if err := p.svc.Submit(r.Context(), t, merged); err != nil {
			p.fail(w, r, pp, t, err)
			return
		}
		p.done(w, r, pp, t)
		return
	case "back":
		next = max(page-1, 0)
	case "save":
		pp.Saved = true
	case "start":
		next = 0
	default:
		next = min(page+1, len(sections)-1)
	}
	if r.PostForm.Get("intro") == "" {
		if err := p.svc.Save(r.Context(), t, merged); err != nil {
			p.fail(w, r, pp, t, err)
			return
		}
	}
	pp.Answers, pp.Page, pp.Qs = t.Answers, next, sections[next]
	pp.Last = next == len(sections)-1
	p.pages.Render(w, http.StatusOK, "take", pp)
}

func (p *Pupils) done(w http.ResponseWriter, r *http.Request, pp *pupilPage, t *survey.Take) {
	pp.Take = t
	if t != nil && t.School != nil {
		pp.TalkWeb = "/c/" + url.PathEscape(t.School.Code)
		pp.TalkMail = "/m/" + url.PathEscape(t.School.Code)
		if bn := p.botName(); bn != "" {
			pp.TalkTG = "https://t.me/" + url.PathEscape(bn) + "?start=" + url.QueryEscape(t.School.Code)
		}
	}
	p.pages.Render(w, http.StatusOK, "done", pp)
}

// fail answers a code's problems in words; a used code (a double post of
// the last page included) gets the thank-you page, saying it was received.
func (p *Pupils) fail(w http.ResponseWriter, r *http.Request, pp *pupilPage, t *survey.Take, err error) {
	if err == survey.ErrCodeUsed && t != nil {
		pp.Used = true
		p.done(w, r, pp, t)
		return
	}
	code := hotline.ErrorCode(err)
	if code == hotline.EINTERNAL {
		p.log.Error("survey page", "route", r.Pattern, "err", err)
	}
	pp.Error = hotline.ErrorMessage(err, pp.Lang)
	if t != nil && t.School != nil && code == hotline.EFORBIDDEN {
		pp.TalkWeb = "/c/" + url.PathEscape(t.School.Code)
		pp.TalkMail = "/m/" + url.PathEscape(t.School.Code)
	}
	status := hotline.HTTPStatus(err)
	if code == hotline.EINVALID || code == hotline.ENOTFOUND {
		p.pages.Render(w, status, "enter", pp)
		return
	}
	p.pages.Render(w, status, "perror", pp)
}

var funcs = template.FuncMap{
	"add":   func(a, b int) int { return a + b },
	"ops":   func() []string { return []string{"up", "down", "remove"} },
	"count": countString,
	// short shows a hotspot cell: its count only.
	"short": func(c *survey.Cell) string {
		switch {
		case c == nil:
			return ""
		case c.Hidden:
			return survey.HiddenMark
		}
		return strconv.Itoa(c.K)
	},
	// heat grades a hotspot cell for its colour.
	"heat": func(c *survey.Cell) string {
		if c == nil || c.Hidden || c.Base == 0 {
			return "h0"
		}
		switch s := c.Share(); {
		case s >= 20:
			return "h3"
		case s >= 10:
			return "h2"
		case s > 0:
			return "h1"
		}
		return "h0"
	},
}

var texts = map[string]hotline.Label{
	"title":       {ZH: "匿名问卷", EN: "Anonymous questionnaire"},
	"lang_switch": {ZH: "English", EN: "中文"},
	"enter":       {ZH: "输入纸条上的问卷码", EN: "Enter the code on your slip"},
	"enter_hint":  {ZH: "每张纸条上的码只能提交一次。没写完可以保存，之后用同一个码回来继续。", EN: "Each slip's code can be submitted once. You can save and come back later with the same code."},
	"code":        {ZH: "问卷码", EN: "Survey code"},
	"open":        {ZH: "打开问卷", EN: "Open the questionnaire"},
	"start":       {ZH: "开始答题", EN: "Start"},
	"continue":    {ZH: "继续答题", EN: "Continue"},
	"saved_note":  {ZH: "已保存你之前填的答案，可以接着填。", EN: "Your earlier answers were saved; carry on."},
	"next":        {ZH: "下一页", EN: "Next"},
	"back":        {ZH: "上一页", EN: "Back"},
	"save":        {ZH: "保存，稍后再填", EN: "Save and finish later"},
	"submit":      {ZH: "提交问卷", EN: "Submit"},
	"submit_hint": {ZH: "提交后不能再修改。", EN: "Once submitted, answers cannot change."},
	"saved":       {ZH: "已保存。之后用同一个问卷码回到这里继续。", EN: "Saved. Come back with the same code to carry on."},
	"page_of":     {ZH: "第 %d 页，共 %d 页", EN: "Page %d of %d"},
	"skip":        {ZH: "（可以不答）", EN: "(you may skip it)"},
	"thanks":      {ZH: "谢谢你！问卷已经收到。", EN: "Thank you! Your answers were received."},
	"used":        {ZH: "这个问卷码已经提交过了，答案已经收到，不会重复记录。", EN: "This code was already submitted; the answers were received once and are not counted twice."},
	"anon":        {ZH: "你的答案和问卷码没有任何联系，老师只看到全班合起来的结果。", EN: "Your answers are not linked to your code; teachers see only the whole class's results."},
	"talk":        {ZH: "我想和老师聊聊", EN: "I'd like to talk to someone"},
	"talk_hint":   {ZH: "这会打开一个普通的匿名举报，和问卷答案没有关系。你会得到一个回执码，用它可以看老师的回复。", EN: "This opens an ordinary anonymous report, not linked to your answers. You get a receipt to read the staff's replies."},
	"talk_web":    {ZH: "网页聊天", EN: "Web chat"},
	"talk_mail":   {ZH: "匿名信箱（不需要 JavaScript）", EN: "Anonymous mailbox (works without JavaScript)"},
	"talk_tg":     {ZH: "Telegram", EN: "Telegram"},
	"class":       {ZH: "班级", EN: "Class"},
	"error":       {ZH: "无法打开问卷", EN: "The questionnaire cannot open"},
}
