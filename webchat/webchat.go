// Package webchat is the web transport of Hotline: the one-tag widget that a
// school pastes into its site, the chat page it opens in an iframe from our
// origin, the websocket endpoint behind it, the no-JavaScript mailbox form,
// receipt log-in, the quick-exit page and the printable posters.
//
// It renders what the conversation engine says and carries what the
// reporter types; it never logs content, receipts, IP addresses or user
// agents, and never writes any of them to disk. A receipt lives in the
// reporter's browser and travels with the requests that need it.
package webchat

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/live"
	"hotline/internal/poster"
	"hotline/internal/thread"
	"hotline/internal/throttle"
)

//go:embed static templates
var assets embed.FS

// Reply is one message of the conversation engine (a dialog.Reply), as
// the page is sent it.
type Reply struct {
	Kind    string             `json:"kind"` // text, safety, submitted, receipt, thread, error, privacy
	Text    string             `json:"text,omitempty"`
	Buttons [][]hotline.Button `json:"buttons,omitempty"`
	Receipt string             `json:"receipt,omitempty"` // only on "receipt"; never logged
	Alias   string             `json:"alias,omitempty"`
	TipUID  string             `json:"-"`
	Photo   *hotline.Photo     `json:"-"`
	// Entry is, on "thread", the message as its reporter sees it: the page
	// shows it as a message of the thread, not as a line of text.
	Entry *thread.Entry `json:"-"`
	// Lang is the language the conversation speaks after this reply's
	// event; the connection's own texts follow it.
	Lang hotline.Lang `json:"-"`
}

// pageReplies turns the conversation's replies into what the page is sent.
func pageReplies(rs []dialog.Reply) []Reply {
	out := make([]Reply, len(rs))
	for i, r := range rs {
		out[i] = Reply{Kind: string(r.Kind), Text: r.Text, Buttons: r.Buttons, Receipt: r.Receipt, Alias: r.Alias, TipUID: r.TipUID, Photo: r.Photo, Entry: r.Entry, Lang: r.Lang}
	}
	return out
}

// key names a chat session's conversation.
func key(session string) dialog.Key {
	return dialog.Key{Channel: hotline.ChannelWebchat, Session: session}
}

// Subscriber streams content-free change notices of one tip.
type Subscriber interface {
	SubscribeTip(uid string) *live.Subscription
}

// Server serves the web chat. Set the fields, call Handler once.
type Server struct {
	Intake       hotline.IntakeService
	Reporters    hotline.ReporterService
	Schools      hotline.SchoolService
	Conversation dialog.WebConversation // nil: the chat page says it is unavailable; the mailbox works
	// Safety takes the mailbox's answers to the safety question (intake),
	// and SafetyWords gives its words (dialog.SafetyQuestion): the one
	// wording every channel asks with. Either nil: the mailbox does not
	// ask it.
	Safety      hotline.SafetyService
	SafetyWords func() (question, yes, no hotline.Label)
	Broker      Subscriber
	// MAC is the server's keyed MAC (vault.Vault.MAC), for form tokens.
	MAC func(purpose string, data []byte) []byte
	// CleanPhoto re-encodes an uploaded photo without metadata
	// (photo.CleanContext), waiting for room in the process-wide
	// decode budget until ctx ends. Uploads are read completely first.
	CleanPhoto func(ctx context.Context, data []byte) (*hotline.Photo, error)
	// Deliveries is the durable record of applied deliveries the
	// messengers use too (store.DB): which client messages a chat session
	// applied and which mailbox forms were stored, each recorded with its
	// effect, so that a retry after a restart is answered as before
	// instead of applied again. Nil: nothing is looked up, and the store's
	// write guard alone refuses a retry's effect.
	Deliveries dialog.Deliveries
	// Seen records where the widget runs (store.DB): a school's allowed
	// origin and the day, for the district's rollout tracker; nil: not
	// recorded.
	Seen      WidgetSeen
	PublicURL string // e.g. https://hotline.example.edu.cn; no trailing slash
	BotName   string // Telegram bot username for poster deep links; empty: no bot QR
	Logger    *slog.Logger
	Limits    Limits
	Now       func() time.Time
	// ClientIP finds the client address that per-client limits apply to:
	// the TCP peer unless ClientIP.Trusted lists the reverse proxies whose
	// forwarding header is believed (cmd/hotline's --trusted-proxy).
	ClientIP throttle.ClientIP
	// WechatQR returns the QR code of the WeChat official account serving
	// a school, for its poster; nil, or a nil answer: none.
	WechatQR func(schoolCode string) *poster.WechatCode

	tmpl   *template.Template
	static fs.FS
	hub    *hub
	limits *throttle.Limiter
	forms  formPosts
	seen   seenDays
	once   sync.Once
}

// Limits bound what one reporter, and everyone together, can make the
// server do. Zero fields take the defaults of DefaultLimits. A "client" is
// an address (an IPv6 /64): a school's network often puts many students
// behind one, so per-client limits leave room for a class at once.
type Limits struct {
	TextFrame    int64         // largest websocket text frame, bytes
	PhotoBytes   int64         // largest photo upload, bytes
	PerConnRate  float64       // messages per second per connection
	PerConnBurst int           // burst per connection
	GlobalRate   float64       // messages per second, all connections together
	GlobalBurst  int           //
	MaxConns     int           // websocket connections held at once
	MaxSessions  int           // chat sessions remembered at once
	SessionIdle  time.Duration // a session without a connection is forgotten after this
	PingInterval time.Duration
	PongWait     time.Duration
	WriteWait    time.Duration
	// PhotoUploads bounds the websocket photo frames being read into
	// memory at once (each up to PhotoBytes); decoding is bounded by the
	// process-wide budget of CleanPhoto.
	PhotoUploads int
	// BodyReadWait bounds reading one upload: a websocket photo frame or a
	// mailbox form's body. A slow upload holds only its own memory, and
	// not longer than this.
	BodyReadWait  time.Duration
	MailboxRate   float64 // mailbox submissions and replies a second, all clients together
	MailboxBurst  int
	FormTokenLife time.Duration

	ClientPostRate   float64 // mailbox submissions and replies a second, per client
	ClientPostBurst  int
	ClientReadRate   float64 // status pages opened with a receipt a second, per client
	ClientReadBurst  int
	ReadRate         float64 // status pages a second, all clients together
	ReadBurst        int
	GuessRate        float64 // receipts that opened nothing (web chat or mailbox) a second, per client
	GuessBurst       int
	ClientConnRate   float64 // websocket connections opened a second, per client
	ClientConnBurst  int
	ClientConns      int     // websocket connections held at once, per client
	ClientMsgRate    float64 // websocket messages a second, per client
	ClientMsgBurst   int
	ClientPhotoRate  float64 // websocket photos a second, per client
	ClientPhotoBurst int
	MaxClients       int           // clients tracked by the limits at once (about 300 B each)
	KeyRotate        time.Duration // how often the key hashing client addresses is replaced
}

// DefaultLimits are sized for a district on one small machine.
var DefaultLimits = Limits{
	TextFrame:     24 << 10, // 4000 characters of 4-byte UTF-8, plus JSON
	PhotoBytes:    10 << 20,
	PerConnRate:   4,
	PerConnBurst:  12,
	GlobalRate:    400,
	GlobalBurst:   800,
	MaxConns:      50_000,
	MaxSessions:   100_000,
	SessionIdle:   30 * time.Minute,
	PingInterval:  30 * time.Second,
	PongWait:      75 * time.Second,
	WriteWait:     10 * time.Second,
	PhotoUploads:  16,
	BodyReadWait:  2 * time.Minute, // 10 MB at 85 KB/s
	MailboxRate:   10,
	MailboxBurst:  40,
	FormTokenLife: 3 * time.Hour,

	ClientPostRate:   0.2, // 12 a minute
	ClientPostBurst:  20,
	ClientReadRate:   1,
	ClientReadBurst:  30,
	ReadRate:         200,
	ReadBurst:        400,
	GuessRate:        0.1, // 6 a minute
	GuessBurst:       10,
	ClientConnRate:   2,
	ClientConnBurst:  60,
	ClientConns:      200,
	ClientMsgRate:    20,
	ClientMsgBurst:   60,
	ClientPhotoRate:  0.5,
	ClientPhotoBurst: 10,
	MaxClients:       50_000,
	KeyRotate:        time.Hour,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(p *int64, v int64) {
		if *p <= 0 {
			*p = v
		}
	}
	seti := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setf := func(p *float64, v float64) {
		if *p <= 0 {
			*p = v
		}
	}
	setd := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	set(&l.TextFrame, d.TextFrame)
	set(&l.PhotoBytes, d.PhotoBytes)
	setf(&l.PerConnRate, d.PerConnRate)
	seti(&l.PerConnBurst, d.PerConnBurst)
	setf(&l.GlobalRate, d.GlobalRate)
	seti(&l.GlobalBurst, d.GlobalBurst)
	seti(&l.MaxConns, d.MaxConns)
	seti(&l.MaxSessions, d.MaxSessions)
	setd(&l.SessionIdle, d.SessionIdle)
	setd(&l.PingInterval, d.PingInterval)
	setd(&l.PongWait, d.PongWait)
	setd(&l.WriteWait, d.WriteWait)
	seti(&l.PhotoUploads, d.PhotoUploads)
	setd(&l.BodyReadWait, d.BodyReadWait)
	setf(&l.MailboxRate, d.MailboxRate)
	seti(&l.MailboxBurst, d.MailboxBurst)
	setd(&l.FormTokenLife, d.FormTokenLife)
	setf(&l.ClientPostRate, d.ClientPostRate)
	seti(&l.ClientPostBurst, d.ClientPostBurst)
	setf(&l.ClientReadRate, d.ClientReadRate)
	seti(&l.ClientReadBurst, d.ClientReadBurst)
	setf(&l.ReadRate, d.ReadRate)
	seti(&l.ReadBurst, d.ReadBurst)
	setf(&l.GuessRate, d.GuessRate)
	seti(&l.GuessBurst, d.GuessBurst)
	setf(&l.ClientConnRate, d.ClientConnRate)
	seti(&l.ClientConnBurst, d.ClientConnBurst)
	seti(&l.ClientConns, d.ClientConns)
	setf(&l.ClientMsgRate, d.ClientMsgRate)
	seti(&l.ClientMsgBurst, d.ClientMsgBurst)
	setf(&l.ClientPhotoRate, d.ClientPhotoRate)
	seti(&l.ClientPhotoBurst, d.ClientPhotoBurst)
	seti(&l.MaxClients, d.MaxClients)
	setd(&l.KeyRotate, d.KeyRotate)
	return l
}

func (s *Server) init() {
	s.once.Do(func() {
		if s.Logger == nil {
			s.Logger = slog.Default()
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		s.Limits = s.Limits.withDefaults()
		s.PublicURL = strings.TrimRight(s.PublicURL, "/")
		s.static, _ = fs.Sub(assets, "static")
		s.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
			"t":     func(l hotline.Label, lang hotline.Lang) string { return l.In(lang) },
			"label": func(l interface{ Label() hotline.Label }, lang hotline.Lang) string { return l.Label().In(lang) },
		}).ParseFS(assets, "templates/*.html"))
		s.limits = s.newLimiter()
		s.hub = newHub(s)
	})
}

// Handler returns the web chat's routes. Templates are parsed here, so a
// broken template fails the start, not a request.
func (s *Server) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /webchat/widget.js", s.handleWidget)
	mux.HandleFunc("GET /webchat/static/{file}", s.handleStatic)
	mux.HandleFunc("GET /webchat/allowed", s.handleAllowed)
	mux.HandleFunc("GET /webchat/ws", s.handleWS)
	mux.HandleFunc("GET /webchat/away", s.handleAway)
	mux.HandleFunc("GET /c/{code}", s.handleChat)
	mux.HandleFunc("GET /m/status", s.handleStatusForm)
	mux.HandleFunc("POST /m/status", s.handleStatusShow)
	mux.HandleFunc("POST /m/status/reply", s.handleStatusReply)
	mux.HandleFunc("POST /m/safety", s.handleSafetyAnswer)
	mux.HandleFunc("GET /m/{code}", s.handleMailboxForm)
	mux.HandleFunc("POST /m/{code}", s.handleMailboxSubmit)
	mux.HandleFunc("GET /poster/{code}", s.handlePoster)
	mux.HandleFunc("GET /poster/{code}/qr/{which}", s.handlePosterQR)
	return mux
}

// Run sends pings and forgets idle sessions until ctx ends.
func (s *Server) Run(ctx context.Context) {
	s.init()
	s.hub.run(ctx)
}

// Close ends every websocket connection.
func (s *Server) Close() error {
	s.init()
	s.hub.closeAll()
	return nil
}

// Stats reports the connections and sessions held, for tests and metrics.
func (s *Server) Stats() (conns, sessions int) {
	s.init()
	return s.hub.stats()
}

// origin returns scheme://host of PublicURL.
func (s *Server) origin() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// wsOrigin returns the websocket form of our origin, for connect-src.
func (s *Server) wsOrigin() string {
	o := s.origin()
	switch {
	case strings.HasPrefix(o, "https://"):
		return "wss://" + strings.TrimPrefix(o, "https://")
	case strings.HasPrefix(o, "http://"):
		return "ws://" + strings.TrimPrefix(o, "http://")
	}
	return ""
}

// secure sets the headers every page gets: a CSP without inline scripts or
// styles and without third-party sources, no caching of anything a reporter
// wrote, and no referrer leaving our origin.
func (s *Server) secure(w http.ResponseWriter, frameAncestors string) {
	h := w.Header()
	if frameAncestors == "" {
		frameAncestors = "'none'"
	}
	connect := "'self'"
	if ws := s.wsOrigin(); ws != "" {
		connect += " " + ws
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src "+connect+
		"; form-action 'self'; base-uri 'none'; frame-ancestors "+frameAncestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	if frameAncestors == "'none'" {
		h.Set("X-Frame-Options", "DENY")
	}
}

// frameAncestors lists the school's allowed origins in CSP form. Each is
// validated again here, whatever settings validation let into the
// database: only canonical https origins (hotline.CanonicalOrigin) reach
// the header, so a bad row can never add a source or a directive.
func frameAncestors(school *hotline.School) string {
	var out []string
	seen := map[string]bool{}
	for _, o := range school.Settings.AllowedOrigins {
		if c, err := hotline.CanonicalOrigin(o); err == nil && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return strings.Join(out, " ")
}

// cleanOrigin returns scheme://host[:port] of o, or "" if o is not one:
// for comparing a request's Origin with our own origin.
func cleanOrigin(o string) string {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(u.Host, " ;,'\"") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return ""
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// allowedOrigin reports whether origin (a browser's Origin header) may
// frame school's chat: both sides are compared in canonical form.
func allowedOrigin(school *hotline.School, origin string) bool {
	origin, err := hotline.CanonicalOrigin(origin)
	if err != nil {
		return false
	}
	for _, o := range school.Settings.AllowedOrigins {
		if c, err := hotline.CanonicalOrigin(o); err == nil && c == origin {
			return true
		}
	}
	return false
}

// langOf picks the page language: ?lang=en for English, else zh-CN. The
// browser's Accept-Language is not used: school computers and cheap phones
// often ship set to English, and the pages offer a switch on every page. It
// never reads the body: forms are parsed in memory by parseForm.
func langOf(r *http.Request) hotline.Lang {
	return hotline.ParseLang(r.URL.Query().Get("lang"))
}

func htmlLang(l hotline.Lang) string {
	if l == hotline.LangEN {
		return "en"
	}
	return "zh-CN"
}

// render executes a template into a buffer first, so a failure never sends
// half a page.
func (s *Server) render(w http.ResponseWriter, status int, name string, data any) {
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.Logger.Error("render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// school finds the school of the {code} path value, answering 404 itself.
func (s *Server) school(w http.ResponseWriter, r *http.Request, lang hotline.Lang) *hotline.School {
	school, err := s.Schools.SchoolByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		s.secure(w, "")
		if hotline.ErrorCode(err) == hotline.EINTERNAL {
			s.Logger.Error("school by code", "err", err)
			// Say what happened: a post that got here was not saved.
			p := page{Lang: lang, Title: txtUnavailable.In(lang)}
			if r.Method == http.MethodPost {
				p.Error = txtNotSaved.In(lang)
			}
			s.render(w, http.StatusServiceUnavailable, "notfound.html", p.fill())
			return nil
		}
		s.render(w, http.StatusNotFound, "notfound.html", page{Lang: lang, Title: hotline.ErrSchoolNotFound.Message.In(lang), Error: hotline.ErrorMessage(err, lang)})
		return nil
	}
	return school
}

var (
	txtUnavailable = hotline.Label{ZH: "系统出了点问题，请稍后再试。", EN: "Something went wrong on our side; please try again later."}
	txtNotSaved    = hotline.Label{ZH: "你这次提交的内容没有保存，请稍后再提交一次。", EN: "What you just sent was not saved; please send it again later."}
)

// page is the data every template gets.
type page struct {
	Lang      hotline.Lang
	HTMLLang  string
	Title     string
	School    *hotline.School
	Name      string
	Error     string
	Notice    string
	Embed     bool
	Token     string
	OtherLang hotline.Lang
	T         map[string]string
	Data      any
}

func (p page) fill() page {
	p.HTMLLang = htmlLang(p.Lang)
	p.OtherLang = hotline.LangEN
	if p.Lang == hotline.LangEN {
		p.OtherLang = hotline.LangZH
	}
	if p.School != nil && p.Name == "" {
		p.Name = p.School.DisplayName(p.Lang)
	}
	p.T = texts(p.Lang)
	return p
}
