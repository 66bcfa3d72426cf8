// Package phones is the user side of the Telegram and WeChat simulators
// (internal/sim/telegramsim, internal/sim/wechatsim) in a browser: a page
// with two phone frames, a Telegram-like chat and a WeChat-like chat, where
// a visitor plays a pupil. What the visitor types and taps goes to the
// simulator as a user's message, button press or menu click; the real bot
// and the real WeChat adapter, pointed at the simulators, answer; the page
// shows what they sent back.
//
// It is product code for "hotline demo" only: a district evaluating the
// product tries every channel without accounts. "hotline serve" never
// mounts it. Each visitor (a cookie) gets simulated users of their own,
// kept in memory with the simulators: they are gone at the next start, as
// the simulators' chats are. Nothing a visitor types is logged.
package phones

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"hotline/internal/sim/telegramsim"
	"hotline/internal/sim/wechatsim"
)

// Prefix is where the page and its calls are served.
const Prefix = "/demo/phones"

// Limits of what a visitor sends: Telegram takes 4096 characters in a
// message, WeChat about 2048 bytes of text.
const (
	maxTelegramText = 4000
	maxWechatText   = 600
	maxVisitors     = 500
	visitorIdle     = 2 * time.Hour
	// maxShown bounds the messages a phone shows: the latest ones.
	maxShown = 200
	// maxPhoto is the largest picture a phone sends, as the adapters
	// take (internal/photo); its call carries it in base64.
	maxPhoto     = 10 << 20
	maxCallBytes = 64 << 10
	maxPhotoCall = maxPhoto/3*4 + maxCallBytes
)

// Config is what the page drives.
type Config struct {
	// Telegram is the simulated Bot API the bot polls; nil: no Telegram
	// phone (a real bot is configured).
	Telegram *telegramsim.Server
	// TelegramStart is what the Telegram phone's START sends, as a pupil
	// who scanned the school's poster would: "/start demo".
	TelegramStart string
	// Wechat is the simulated WeChat; nil: no WeChat phone.
	Wechat *wechatsim.Server
	// WechatURL is the account's server URL the simulated users post to
	// (the adapter's /wechat/{name}, on the address this process listens).
	WechatURL string
	// WechatName is the account's name on the phone.
	WechatName string
	// WebChat is the school's web chat page to show as a third phone,
	// framed (the web chat lets its own origin frame it with
	// ?preview=1, as the setup page does); "": none.
	WebChat string
	// Links are the other ways in, shown beside the phones: the web chat,
	// the mailbox, the inbox.
	Links  []Link
	Logger *slog.Logger
}

// Link is one link beside the phones.
type Link struct {
	LabelZH, LabelEN, Href, Note string
}

// Handler serves the page.
type Handler struct {
	cfg Config
	// The simulators keep every user, message and picture in memory
	// until the demo stops: these bound how fast the page adds to them,
	// for all its visitors together.
	calls, users, pictures *rate.Limiter

	mu       sync.Mutex
	visitors map[string]*visitor
}

// visitor is one browser's pair of phones.
type visitor struct {
	seen time.Time

	tg     *telegramsim.User
	tgMine []mine

	wx       *wechatsim.User
	wxMine   []mine
	wxFollow bool
}

// mine is a message the visitor sent: it goes in the chat after the
// first after messages of the other side (those there when it was sent).
type mine struct {
	after int
	text  string
	photo bool
}

// New returns the page's handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, visitors: map[string]*visitor{},
		calls:    rate.NewLimiter(20, 60),
		users:    rate.NewLimiter(1, 30),
		pictures: rate.NewLimiter(rate.Every(10*time.Second), 6),
	}
}

//go:embed static/*
var static embed.FS

var page = template.Must(template.ParseFS(static, "static/phones.html"))

// Register mounts the page and its calls on mux under Prefix.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix, h.handlePage)
	mux.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix, http.HandlerFunc(h.handleStatic)))
	mux.HandleFunc("GET "+Prefix+"/state", h.handleState)
	mux.HandleFunc("GET "+Prefix+"/telegram/photo/{id}", h.handleTelegramPhoto)
	mux.HandleFunc("GET "+Prefix+"/wechat/image/{n}", h.handleWechatImage)
	mux.HandleFunc("POST "+Prefix+"/telegram/start", h.post(h.telegramStart, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/telegram/send", h.post(h.telegramSend, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/telegram/press", h.post(h.telegramPress, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/telegram/photo", h.post(h.telegramPhoto, maxPhotoCall))
	mux.HandleFunc("POST "+Prefix+"/wechat/follow", h.post(h.wechatFollow, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/wechat/send", h.post(h.wechatSend, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/wechat/tap", h.post(h.wechatTap, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/wechat/menu", h.post(h.wechatMenu, maxCallBytes))
	mux.HandleFunc("POST "+Prefix+"/wechat/image", h.post(h.wechatImage, maxPhotoCall))
	mux.HandleFunc("POST "+Prefix+"/reset", h.post(h.reset, maxCallBytes))
}

func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (h *Handler) handlePage(w http.ResponseWriter, r *http.Request) {
	secure(w)
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		Telegram, Wechat    bool
		WechatName, WebChat string
		Links               []Link
	}{h.cfg.Telegram != nil, h.cfg.Wechat != nil, h.cfg.WechatName, h.cfg.WebChat, h.cfg.Links})
	if err != nil {
		h.cfg.Logger.Error("demo phones: page", "err", err)
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b.Bytes())
}

func (h *Handler) handleStatic(w http.ResponseWriter, r *http.Request) {
	secure(w)
	switch r.URL.Path {
	case "/static/phones.css", "/static/phones.js":
		http.ServeFileFS(w, r, static, r.URL.Path[1:])
	default:
		http.NotFound(w, r)
	}
}

const cookieName = "hotline_demo_phones"

// visitorOf returns the visitor of the request's cookie, or nil; with
// create, a new one (setting the cookie) when there is none.
func (h *Handler) visitorOf(w http.ResponseWriter, r *http.Request, create bool) *visitor {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if c, err := r.Cookie(cookieName); err == nil {
		if v := h.visitors[c.Value]; v != nil && now.Sub(v.seen) < visitorIdle {
			v.seen = now
			return v
		}
	}
	if !create {
		return nil
	}
	h.evictLocked(now)
	id := rand.Text()
	v := &visitor{seen: now}
	h.visitors[id] = v
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: Prefix, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: int(visitorIdle / time.Second)})
	return v
}

// evictLocked forgets idle visitors, and the longest idle one when the
// page has as many as it keeps. h.mu held.
func (h *Handler) evictLocked(now time.Time) {
	var oldest string
	for id, v := range h.visitors {
		if now.Sub(v.seen) >= visitorIdle {
			delete(h.visitors, id)
			continue
		}
		if oldest == "" || v.seen.Before(h.visitors[oldest].seen) {
			oldest = id
		}
	}
	if len(h.visitors) >= maxVisitors && oldest != "" {
		delete(h.visitors, oldest)
	}
}

// telegramUser returns the visitor's Telegram user, made on first use.
func (h *Handler) telegramUser(v *visitor) (*telegramsim.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v.tg == nil {
		if !h.users.Allow() {
			return nil, errTooFast
		}
		v.tg = h.cfg.Telegram.NewUser(telegramsim.UserOptions{FirstName: "同学", LanguageCode: "zh-hans"})
	}
	return v.tg, nil
}

// wechatUser returns the visitor's WeChat user, made on first use.
func (h *Handler) wechatUser(v *visitor) (*wechatsim.User, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if v.wx == nil {
		if !h.users.Allow() {
			return nil, errTooFast
		}
		v.wx = h.cfg.Wechat.NewUser(h.cfg.WechatURL)
	}
	return v.wx, nil
}

// apiError is a refusal the page shows as it is.
type apiError struct {
	status int
	zh, en string
}

func (e *apiError) Error() string { return e.en }

var (
	errNoPhone  = &apiError{http.StatusNotFound, "这部模拟手机没有开启。", "This simulated phone is off."}
	errEmpty    = &apiError{http.StatusBadRequest, "请先写点什么。", "Write something first."}
	errTooLong  = &apiError{http.StatusRequestEntityTooLarge, "这条消息太长了。", "That message is too long."}
	errBadText  = &apiError{http.StatusBadRequest, "这条消息里有无法识别的字符。", "That message has characters that cannot be read."}
	errNoChoice = &apiError{http.StatusBadRequest, "这个按钮已经不在了。", "That button is no longer there."}
	errFailed   = &apiError{http.StatusBadGateway, "消息没有送达，请再试一次。", "The message did not go through. Please try again."}
	errTooFast  = &apiError{http.StatusTooManyRequests, "太快了，请稍等一会儿再试。", "Too fast: please wait a moment and try again."}
	errNoImage  = &apiError{http.StatusUnsupportedMediaType, "这不是 JPEG 或 PNG 图片。", "That is not a JPEG or PNG picture."}
	errBigImage = &apiError{http.StatusRequestEntityTooLarge, "这张图片太大了（最大 10 MB）。", "That picture is too large (10 MB at most)."}
)

// request is the body of every call: the fields each uses.
type request struct {
	Text    string `json:"text"`
	Message int    `json:"message"`
	Data    string `json:"data"`
	Key     string `json:"key"`
	// Photo is a picture's bytes (base64 in the JSON).
	Photo []byte `json:"photo"`
}

// post wraps a call of the page: its own page's JSON only (a form of
// another site cannot send JSON without asking first), the visitor's
// phones, and the state after it as the answer.
func (h *Handler) post(fn func(ctx context.Context, v *visitor, req *request) error, limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || crossSite(r) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var req request
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			e := errTooLong
			if limit > maxCallBytes {
				e = errBigImage
			}
			writeJSON(w, e.status, map[string]string{"error_zh": e.zh, "error_en": e.en})
			return
		}
		if err == nil && !utf8.Valid(body) {
			// JSON would read it with U+FFFD in place: say so instead.
			writeJSON(w, errBadText.status, map[string]string{"error_zh": errBadText.zh, "error_en": errBadText.en})
			return
		}
		if err != nil || json.Unmarshal(body, &req) != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error_zh": "请求无法识别。", "error_en": "The request could not be read."})
			return
		}
		if !h.calls.Allow() {
			writeJSON(w, errTooFast.status, map[string]string{"error_zh": errTooFast.zh, "error_en": errTooFast.en})
			return
		}
		v := h.visitorOf(w, r, true)
		// The simulated user's calls run to their end even if the page
		// goes away meanwhile: a half-sent message helps no one. The
		// minute is a hang guard.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Minute)
		defer cancel()
		if err := fn(ctx, v, &req); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				// The kind of failure only: never what was sent.
				h.cfg.Logger.Warn("demo phones: a simulated message failed", "err", errKind(err))
				ae = errFailed
			}
			writeJSON(w, ae.status, map[string]string{"error_zh": ae.zh, "error_en": ae.en})
			return
		}
		writeJSON(w, http.StatusOK, h.state(v))
	}
}

// crossSite tells a request another site made: by the browser's own
// Sec-Fetch-Site, else by an Origin that is not this host.
func crossSite(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s != "same-origin"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err != nil || u.Host != r.Host
	}
	return false
}

func errKind(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return "network"
	}
	return "other"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// checkText checks what a visitor typed.
func checkText(s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", errBadText
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errEmpty
	case utf8.RuneCountInString(s) > max:
		return "", errTooLong
	}
	return s, nil
}

func (h *Handler) telegramStart(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Telegram == nil {
		return errNoPhone
	}
	u, err := h.telegramUser(v)
	if err != nil {
		return err
	}
	h.addMine(&v.tgMine, len(u.Messages()), h.cfg.TelegramStart, false)
	u.SendCommand(h.cfg.TelegramStart)
	return nil
}

// checkPhoto checks a picture a visitor sends: JPEG or PNG, as the web
// chat and the inbox take, within the adapters' size.
func (h *Handler) checkPhoto(b []byte) error {
	switch {
	case len(b) > maxPhoto:
		return errBigImage
	case len(b) == 0:
		return errNoImage
	}
	switch http.DetectContentType(b) {
	case "image/jpeg", "image/png":
	default:
		return errNoImage
	}
	if !h.pictures.Allow() {
		return errTooFast
	}
	return nil
}

func (h *Handler) telegramPhoto(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Telegram == nil {
		return errNoPhone
	}
	if err := h.checkPhoto(req.Photo); err != nil {
		return err
	}
	u, err := h.telegramUser(v)
	if err != nil {
		return err
	}
	h.addMine(&v.tgMine, len(u.Messages()), "", true)
	u.SendPhoto(req.Photo, "")
	return nil
}

func (h *Handler) wechatImage(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Wechat == nil {
		return errNoPhone
	}
	if err := h.checkPhoto(req.Photo); err != nil {
		return err
	}
	u, err := h.wechatUser(v)
	if err != nil {
		return err
	}
	h.addMine(&v.wxMine, len(h.cfg.Wechat.Sent(u.OpenID)), "", true)
	r, err := u.Image(ctx, req.Photo)
	if err == nil && r.Status != http.StatusOK {
		return errFailed
	}
	return err
}

func (h *Handler) telegramSend(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Telegram == nil {
		return errNoPhone
	}
	text, err := checkText(req.Text, maxTelegramText)
	if err != nil {
		return err
	}
	u, err := h.telegramUser(v)
	if err != nil {
		return err
	}
	h.addMine(&v.tgMine, len(u.Messages()), text, false)
	if strings.HasPrefix(text, "/") {
		u.SendCommand(text)
	} else {
		u.SendText(text)
	}
	return nil
}

// telegramPress presses a button the bot sent this visitor: only one of
// its messages, only one of its buttons, as a Telegram client can.
func (h *Handler) telegramPress(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Telegram == nil {
		return errNoPhone
	}
	u, err := h.telegramUser(v)
	if err != nil {
		return err
	}
	for _, m := range u.Messages() {
		if m.MessageID == req.Message && !m.Deleted {
			if _, err := u.PressOn(m, req.Data); err != nil {
				return errNoChoice
			}
			return nil
		}
	}
	return errNoChoice
}

func (h *Handler) wechatFollow(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Wechat == nil {
		return errNoPhone
	}
	u, err := h.wechatUser(v)
	if err != nil {
		return err
	}
	if _, err := u.Send(ctx, &wechatsim.Message{MsgType: "event", Event: "subscribe"}); err != nil {
		return err
	}
	h.mu.Lock()
	v.wxFollow = true
	h.mu.Unlock()
	return nil
}

func (h *Handler) wechatSend(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Wechat == nil {
		return errNoPhone
	}
	text, err := checkText(req.Text, maxWechatText)
	if err != nil {
		return err
	}
	return h.wechatSay(ctx, v, text, func(u *wechatsim.User) (*wechatsim.Reply, error) { return u.Text(ctx, text) })
}

// wechatTap taps a menu link in a message the account sent this visitor:
// WeChat sends its label back as the user's message, with its id.
func (h *Handler) wechatTap(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Wechat == nil {
		return errNoPhone
	}
	u, err := h.wechatUser(v)
	if err != nil {
		return err
	}
	var label string
	for _, s := range h.cfg.Wechat.Sent(u.OpenID) {
		for _, c := range wechatChoices(s.Text) {
			if c.Data == req.Data {
				label = c.Label
			}
		}
	}
	if label == "" {
		return errNoChoice
	}
	return h.wechatSay(ctx, v, label, func(u *wechatsim.User) (*wechatsim.Reply, error) { return u.Tap(ctx, label, req.Data) })
}

// wechatMenu clicks an item of the account's menu (an event: nothing
// shows as the user's message).
func (h *Handler) wechatMenu(ctx context.Context, v *visitor, req *request) error {
	if h.cfg.Wechat == nil {
		return errNoPhone
	}
	found := false
	for _, it := range h.wechatMenuItems() {
		found = found || it.Key == req.Key
	}
	if !found {
		return errNoChoice
	}
	u, err := h.wechatUser(v)
	if err != nil {
		return err
	}
	_, err = u.Click(ctx, req.Key)
	return err
}

// wechatSay sends the visitor's words and shows them after what the
// account had sent before.
func (h *Handler) wechatSay(ctx context.Context, v *visitor, text string, send func(*wechatsim.User) (*wechatsim.Reply, error)) error {
	u, err := h.wechatUser(v)
	if err != nil {
		return err
	}
	h.addMine(&v.wxMine, len(h.cfg.Wechat.Sent(u.OpenID)), text, false)
	r, err := send(u)
	if err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return errFailed
	}
	return nil
}

func (h *Handler) addMine(list *[]mine, after int, text string, photo bool) {
	h.mu.Lock()
	*list = append(*list, mine{after: after, text: text, photo: photo})
	if len(*list) > maxShown {
		*list = (*list)[len(*list)-maxShown:]
	}
	h.mu.Unlock()
}

// reset gives the visitor new phones: new users, empty chats.
func (h *Handler) reset(ctx context.Context, v *visitor, req *request) error {
	h.mu.Lock()
	*v = visitor{seen: v.seen}
	h.mu.Unlock()
	return nil
}

func (h *Handler) handleState(w http.ResponseWriter, r *http.Request) {
	secure(w)
	v := h.visitorOf(w, r, false)
	if v == nil {
		writeJSON(w, http.StatusOK, state{Telegram: h.cfg.Telegram != nil, Wechat: h.cfg.Wechat != nil, WechatMenu: h.wechatMenuItems()})
		return
	}
	writeJSON(w, http.StatusOK, h.state(v))
}

// state is what the phones show.
type state struct {
	Telegram   bool       `json:"telegram"`
	Wechat     bool       `json:"wechat"`
	TgChat     []message  `json:"tg_chat"`
	TgCommands []choice   `json:"tg_commands"`
	WxFollowed bool       `json:"wx_followed"`
	WxChat     []message  `json:"wx_chat"`
	WechatMenu []menuItem `json:"wx_menu"`
}

// message is one bubble.
type message struct {
	Mine bool `json:"mine"`
	// ID is the Telegram message's id (its buttons are pressed on it).
	ID    int    `json:"id,omitempty"`
	Text  string `json:"text"`
	Photo bool   `json:"photo,omitempty"`
	// Image is where the phone loads a picture the other side sent.
	Image   string     `json:"image,omitempty"`
	Buttons [][]choice `json:"buttons,omitempty"`
	Links   []choice   `json:"links,omitempty"` // web links in the text
}

// choice is a button (Telegram) or a menu link (WeChat).
type choice struct {
	Label string `json:"label"`
	Data  string `json:"data,omitempty"`
	URL   string `json:"url,omitempty"`
}

type menuItem struct {
	Label string `json:"label"`
	Key   string `json:"key"`
}

func (h *Handler) state(v *visitor) state {
	h.mu.Lock()
	tg, wx, follow := v.tg, v.wx, v.wxFollow
	tgMine, wxMine := append([]mine(nil), v.tgMine...), append([]mine(nil), v.wxMine...)
	h.mu.Unlock()
	s := state{Telegram: h.cfg.Telegram != nil, Wechat: h.cfg.Wechat != nil, WxFollowed: follow, WechatMenu: h.wechatMenuItems()}
	if tg != nil {
		var theirs []message
		for _, m := range tg.Messages() {
			if m.Deleted {
				theirs = append(theirs, message{})
				continue
			}
			msg := message{ID: m.MessageID, Text: m.PlainText, Photo: m.Method == "sendPhoto"}
			if msg.Photo {
				msg.Image = Prefix + "/telegram/photo/" + strconv.Itoa(m.MessageID)
			}
			for _, row := range m.Keyboard {
				var out []choice
				for _, b := range row {
					switch {
					case b.CallbackData != "":
						out = append(out, choice{Label: b.Text, Data: b.CallbackData})
					case webURL(b.URL):
						out = append(out, choice{Label: b.Text, URL: b.URL})
					}
				}
				if len(out) > 0 {
					msg.Buttons = append(msg.Buttons, out)
				}
			}
			theirs = append(theirs, msg)
		}
		s.TgChat = merge(theirs, tgMine)
		// The menu a Chinese client shows: the bot's commands in Chinese.
		for _, c := range h.cfg.Telegram.Commands("zh") {
			s.TgCommands = append(s.TgCommands, choice{Label: c.Description, Data: "/" + c.Command})
		}
	}
	if wx != nil {
		var theirs []message
		for i, m := range h.cfg.Wechat.Sent(wx.OpenID) {
			msg := message{Photo: m.Kind == "image"}
			if msg.Photo {
				msg.Image = Prefix + "/wechat/image/" + strconv.Itoa(i)
			} else {
				msg.Text, msg.Buttons, msg.Links = wechatText(m.Text)
			}
			theirs = append(theirs, msg)
		}
		s.WxChat = merge(theirs, wxMine)
	}
	return s
}

// merge puts the visitor's messages among the other side's, each after
// those that were there when it was sent; deleted messages (empty) go.
func merge(theirs []message, mine []mine) []message {
	var out []message
	j := 0
	for i := 0; i <= len(theirs); i++ {
		for ; j < len(mine) && mine[j].after <= i; j++ {
			out = append(out, message{Mine: true, Text: mine[j].text, Photo: mine[j].photo})
		}
		if i < len(theirs) && (theirs[i].Text != "" || theirs[i].Photo) {
			out = append(out, theirs[i])
		}
	}
	if len(out) > maxShown {
		out = out[len(out)-maxShown:]
	}
	return out
}

// handleTelegramPhoto serves a picture the bot sent this visitor.
func (h *Handler) handleTelegramPhoto(w http.ResponseWriter, r *http.Request) {
	v := h.visitorOf(w, r, false)
	id, err := strconv.Atoi(r.PathValue("id"))
	if v == nil || err != nil || h.cfg.Telegram == nil {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	u := v.tg
	h.mu.Unlock()
	if u == nil {
		http.NotFound(w, r)
		return
	}
	for _, m := range u.Messages() {
		if m.MessageID == id && m.Method == "sendPhoto" && !m.Deleted {
			if data, ok := h.cfg.Telegram.FileData(m.PhotoFileID); ok {
				servePicture(w, data)
				return
			}
		}
	}
	http.NotFound(w, r)
}

// handleWechatImage serves a picture the account sent this visitor.
func (h *Handler) handleWechatImage(w http.ResponseWriter, r *http.Request) {
	v := h.visitorOf(w, r, false)
	n, err := strconv.Atoi(r.PathValue("n"))
	if v == nil || err != nil || h.cfg.Wechat == nil {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	u := v.wx
	h.mu.Unlock()
	if u == nil {
		http.NotFound(w, r)
		return
	}
	sent := h.cfg.Wechat.Sent(u.OpenID)
	if n < 0 || n >= len(sent) || sent[n].Kind != "image" {
		http.NotFound(w, r)
		return
	}
	servePicture(w, sent[n].Image)
}

// servePicture answers with a picture only: anything else is not shown.
func servePicture(w http.ResponseWriter, data []byte) {
	secure(w)
	ct := http.DetectContentType(data)
	switch ct {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
	default:
		http.Error(w, "not a picture", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Write(data)
}

func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// wechatMenuItems reads the menu the adapter created on the account.
func (h *Handler) wechatMenuItems() []menuItem {
	if h.cfg.Wechat == nil {
		return nil
	}
	var menu struct {
		Button []struct {
			Type string `json:"type"`
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"button"`
	}
	if raw := h.cfg.Wechat.Menu(); raw == nil || json.Unmarshal(raw, &menu) != nil {
		return nil
	}
	var out []menuItem
	for _, b := range menu.Button {
		if b.Type == "click" {
			out = append(out, menuItem{Label: b.Name, Key: b.Key})
		}
	}
	return out
}

// linkRE is a link in a WeChat text message: the adapter writes menu
// links (消息菜单) as weixin://bizmsgmenu links, and the words it did not
// write with full-width brackets, so a "<a" is always its own.
var linkRE = regexp.MustCompile(`<a href="([^"]*)">([^<]*)</a>`)

// wechatText splits a WeChat text into the words shown, the rows of menu
// links (a line of links, as WeChat shows them, tappable) and web links.
func wechatText(s string) (string, [][]choice, []choice) {
	var lines []string
	var rows [][]choice
	var links []choice
	for line := range strings.SplitSeq(s, "\n") {
		var row []choice
		rest := linkRE.ReplaceAllStringFunc(line, func(a string) string {
			m := linkRE.FindStringSubmatch(a)
			href, label := m[1], m[2]
			if c, ok := menuChoice(href); ok {
				c.Label = label
				row = append(row, c)
				return ""
			}
			if webURL(href) {
				links = append(links, choice{Label: label, URL: href})
			}
			return label
		})
		if len(row) > 0 {
			rows = append(rows, row)
			if strings.TrimSpace(rest) == "" {
				continue
			}
		}
		lines = append(lines, rest)
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n"), rows, links
}

// wechatChoices returns the menu links of a WeChat text, with the label
// WeChat sends back when one is tapped.
func wechatChoices(s string) []choice {
	var out []choice
	for _, m := range linkRE.FindAllStringSubmatch(s, -1) {
		if c, ok := menuChoice(m[1]); ok {
			out = append(out, c)
		}
	}
	return out
}

// menuChoice reads a weixin://bizmsgmenu link: the label it sends back
// (msgmenucontent) and its id (msgmenuid).
func menuChoice(href string) (choice, bool) {
	rest, ok := strings.CutPrefix(href, "weixin://bizmsgmenu?")
	if !ok {
		return choice{}, false
	}
	q, err := url.ParseQuery(strings.ReplaceAll(rest, "&amp;", "&"))
	if err != nil || q.Get("msgmenuid") == "" {
		return choice{}, false
	}
	return choice{Label: q.Get("msgmenucontent"), Data: q.Get("msgmenuid")}, true
}
