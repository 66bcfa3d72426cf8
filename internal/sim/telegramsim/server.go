package telegramsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultToken is the bot token used when Config.Token is empty.
const DefaultToken = "123456789:AAtelegramsim-fake-token_0123456789"

// Config configures a Server. The zero value is usable.
type Config struct {
	// Addr is the address to listen on (default "127.0.0.1:0": any free
	// port of this machine only).
	Addr string
	// Token is the only bot token the server accepts (others get 401).
	// Default DefaultToken. The bot ID is the part before the colon.
	Token string
	// BotUsername is returned by getMe. Default "hotline_test_bot".
	BotUsername string
	// BotFirstName is returned by getMe. Default "Hotline Test Bot".
	BotFirstName string
	// Seed seeds the fault-injection generator (SetFaults may reseed).
	Seed uint64
	// NoEntityCheck disables validation of parse_mode=HTML text (by default
	// malformed HTML is rejected with 400 "can't parse entities", like Telegram).
	NoEntityCheck bool
}

// Server is a simulated Telegram Bot API server. Start it and point the bot
// at URL().
type Server struct {
	cfg    Config
	srv    *http.Server
	url    string
	me     APIUser
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	hook   *http.Client

	mu           sync.Mutex
	nextUpdateID int64
	queue        []queued
	updSignal    chan struct{}
	hookSignal   chan struct{} // closed and renewed when the webhook is set or deleted
	msgSignal    chan struct{}
	pollGen      uint64
	allowed      []string
	keepUpdates  bool // offsets confirm nothing (SetKeepUpdates)
	chats        map[int64]*chatState
	nextUserID   int64
	files        map[string]*storedFile
	paths        map[string]*storedFile
	nextFile     int
	webhook      WebhookInfo
	delivered    int64
	commands     map[string][]BotCommand
	answers      []CallbackAnswer
	queries      map[string]bool
	nextQuery    int64
	seq          int64

	fmu      sync.Mutex
	faults   Faults
	rng      *rand.Rand
	scripted map[string][]FaultKind

	cmu         sync.Mutex
	calls       map[string]int64
	faultCounts map[FaultKind]int64
}

type queued struct {
	id   int64
	kind string
	chat int64 // whose update: a webhook gets a chat's updates in order
	body []byte
}

type storedFile struct {
	id, uniqueID, path string
	data               []byte
}

// Start serves a new simulated Bot API on cfg.Addr. Close stops it.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.BotUsername == "" {
		cfg.BotUsername = "hotline_test_bot"
	}
	if cfg.BotFirstName == "" {
		cfg.BotFirstName = "Hotline Test Bot"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("telegramsim: %w", err)
	}
	botID, _ := strconv.ParseInt(strings.SplitN(cfg.Token, ":", 2)[0], 10, 64)
	s := &Server{
		cfg:          cfg,
		url:          "http://" + ln.Addr().String(),
		closed:       make(chan struct{}),
		hook:         &http.Client{Timeout: 10 * time.Second},
		me:           APIUser{ID: botID, IsBot: true, FirstName: cfg.BotFirstName, Username: cfg.BotUsername, CanJoinGroups: true},
		nextUpdateID: 1,
		updSignal:    make(chan struct{}),
		hookSignal:   make(chan struct{}),
		msgSignal:    make(chan struct{}),
		chats:        map[int64]*chatState{},
		nextUserID:   700000000,
		files:        map[string]*storedFile{},
		paths:        map[string]*storedFile{},
		commands:     map[string][]BotCommand{},
		queries:      map[string]bool{},
		rng:          rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		scripted:     map[string][]FaultKind{},
		calls:        map[string]int64{},
		faultCounts:  map[FaultKind]int64{},
	}
	// Its own errors (a dropped connection, a client gone) are part of
	// what it simulates: not worth a line on the console.
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serveHTTP), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.srv.Serve(ln)
	}()
	go s.deliverWebhooks()
	return s, nil
}

// URL is the base URL to pass to bot.WithServerURL (no trailing slash).
func (s *Server) URL() string { return s.url }

// Token is the bot token the server accepts.
func (s *Server) Token() string { return s.cfg.Token }

// Bot is the bot's own user object as returned by getMe.
func (s *Server) Bot() APIUser { return s.me }

// Close stops the server and returns once every request is answered.
// Pending long polls return an empty result at once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		// Every handler that waits also waits for closed: the shutdown
		// is quick. The bound is for a client that never reads its answer.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.srv.Shutdown(ctx) != nil {
			s.srv.Close()
		}
		s.wg.Wait()
	})
}

// signalUpdatesLocked wakes long polls and the webhook deliverer. s.mu held.
func (s *Server) signalUpdatesLocked() {
	close(s.updSignal)
	s.updSignal = make(chan struct{})
}

// signalHookLocked wakes the webhook deliverer when the webhook changes.
// s.mu held.
func (s *Server) signalHookLocked() {
	close(s.hookSignal)
	s.hookSignal = make(chan struct{})
}

// signalMessagesLocked wakes message waiters. s.mu held.
func (s *Server) signalMessagesLocked() {
	close(s.msgSignal)
	s.msgSignal = make(chan struct{})
}

// apiError is a Bot API error answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

var (
	errBlocked      = &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
	errChatNotFound = &apiError{code: 400, desc: "Bad Request: chat not found"}
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = 500
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: marshal"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeResult(w http.ResponseWriter, result any) {
	writeJSON(w, 200, struct {
		OK     bool `json:"ok"`
		Result any  `json:"result"`
	}{true, result})
}

func writeError(w http.ResponseWriter, e *apiError) {
	type params struct {
		RetryAfter int `json:"retry_after,omitempty"`
	}
	body := struct {
		OK          bool    `json:"ok"`
		ErrorCode   int     `json:"error_code"`
		Description string  `json:"description"`
		Parameters  *params `json:"parameters,omitempty"`
	}{false, e.code, e.desc, nil}
	if e.retryAfter > 0 {
		body.Parameters = &params{RetryAfter: e.retryAfter}
	}
	writeJSON(w, e.code, body)
}

// dropConnection closes the client connection without any answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/file/bot"):
		s.serveFile(w, r, strings.TrimPrefix(p, "/file/bot"))
	case strings.HasPrefix(p, "/bot"):
		rest := strings.TrimPrefix(p, "/bot")
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			writeError(w, &apiError{code: 404, desc: "Not Found"})
			return
		}
		method := strings.TrimPrefix(rest[i+1:], "test/")
		s.serveAPI(w, r, rest[:i], method)
	default:
		writeError(w, &apiError{code: 404, desc: "Not Found"})
	}
}

// call is one API request being handled.
type call struct {
	ctx   context.Context
	p     map[string]string
	files map[string][]byte
	fname map[string]string
	lost  bool
}

func (c *call) str(k string) string { return c.p[k] }

func (c *call) has(k string) bool { _, ok := c.p[k]; return ok }

func (c *call) int64(k string) (int64, bool) {
	v, ok := c.p[k]
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	return n, err == nil
}

func (c *call) bool(k string) bool {
	v := strings.Trim(c.p[k], `"`)
	return v == "true" || v == "1" || v == "True"
}

// handlerFunc implements one API method.
type handlerFunc func(s *Server, c *call) (any, *apiError)

var (
	methodsOnce sync.Once
	methodTable map[string]string // lower-case -> canonical
	handlers    map[string]handlerFunc
)

func lookupMethod(name string) (string, handlerFunc) {
	methodsOnce.Do(func() {
		handlers = map[string]handlerFunc{
			"getMe":                  (*Server).apiGetMe,
			"getUpdates":             (*Server).apiGetUpdates,
			"setWebhook":             (*Server).apiSetWebhook,
			"deleteWebhook":          (*Server).apiDeleteWebhook,
			"getWebhookInfo":         (*Server).apiGetWebhookInfo,
			"sendMessage":            (*Server).apiSendMessage,
			"sendPhoto":              (*Server).apiSendPhoto,
			"editMessageText":        (*Server).apiEditMessageText,
			"editMessageReplyMarkup": (*Server).apiEditMessageReplyMarkup,
			"deleteMessage":          (*Server).apiDeleteMessage,
			"sendChatAction":         (*Server).apiSendChatAction,
			"answerCallbackQuery":    (*Server).apiAnswerCallbackQuery,
			"setMyCommands":          (*Server).apiSetMyCommands,
			"getMyCommands":          (*Server).apiGetMyCommands,
			"deleteMyCommands":       (*Server).apiDeleteMyCommands,
			"getFile":                (*Server).apiGetFile,
		}
		methodTable = map[string]string{}
		for k := range handlers {
			methodTable[strings.ToLower(k)] = k
		}
	})
	canon, ok := methodTable[strings.ToLower(name)]
	if !ok {
		return name, nil
	}
	return canon, handlers[canon]
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, token, method string) {
	name, h := lookupMethod(method)
	s.countCall(name)
	if token != s.cfg.Token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	if h == nil {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	kind, faulty := s.pickFault(name)
	lost := false
	if faulty {
		s.countFault(kind)
		switch kind {
		case FaultTooManyRequests:
			ra := s.retryAfter()
			writeError(w, &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", ra), retryAfter: ra})
			return
		case FaultServerError:
			writeError(w, &apiError{code: 500, desc: "Internal Server Error"})
			return
		case FaultDrop:
			dropConnection(w)
			return
		case FaultSlow:
			t := time.NewTimer(s.slowDelay())
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.closed:
				t.Stop()
			}
		case FaultAnswerLost:
			lost = true
		}
	}
	c, err := parseRequest(r)
	if err != nil {
		writeError(w, badRequest("%v", err))
		return
	}
	c.lost = lost
	res, aerr := h(s, c)
	if lost {
		dropConnection(w)
		return
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeResult(w, res)
}

// parseRequest reads parameters from the query string and a multipart,
// url-encoded or JSON body.
func parseRequest(r *http.Request) (*call, error) {
	c := &call{ctx: r.Context(), p: map[string]string{}, files: map[string][]byte{}, fname: map[string]string{}}
	for k, v := range r.URL.Query() {
		c.p[k] = v[0]
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("can't read request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return c, nil
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("can't parse multipart body: %w", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, fmt.Errorf("can't read multipart body: %w", err)
			}
			if part.FileName() != "" {
				c.files[part.FormName()] = data
				c.fname[part.FormName()] = part.FileName()
			} else {
				c.p[part.FormName()] = string(data)
			}
		}
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("can't parse JSON object")
		}
		for k, raw := range m {
			var str string
			if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &str) == nil {
				c.p[k] = str
			} else {
				c.p[k] = string(raw)
			}
		}
	default: // application/x-www-form-urlencoded and anything else
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("can't parse request body")
		}
		for k, v := range vals {
			c.p[k] = v[0]
		}
	}
	return c, nil
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	s.countCall(MethodDownload)
	i := strings.IndexByte(rest, '/')
	if i < 0 || rest[:i] != s.cfg.Token {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	if kind, faulty := s.pickFault(MethodDownload); faulty {
		s.countFault(kind)
		switch kind {
		case FaultTooManyRequests, FaultServerError:
			writeError(w, &apiError{code: 500, desc: "Internal Server Error"})
			return
		case FaultDrop, FaultAnswerLost:
			dropConnection(w)
			return
		case FaultSlow:
			select {
			case <-time.After(s.slowDelay()):
			case <-r.Context().Done():
				return
			case <-s.closed:
			}
		}
	}
	s.mu.Lock()
	f := s.paths[rest[i+1:]]
	s.mu.Unlock()
	if f == nil {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

// MethodDownload is the pseudo method name under which file downloads
// (/file/bot<token>/<path>) are counted and can be given faults.
const MethodDownload = "downloadFile"

func (s *Server) countCall(method string) {
	s.cmu.Lock()
	s.calls[method]++
	s.cmu.Unlock()
}

func (s *Server) countFault(k FaultKind) {
	s.cmu.Lock()
	s.faultCounts[k]++
	s.cmu.Unlock()
}

// Calls returns how many requests arrived for method (canonical spelling,
// e.g. "sendMessage"; MethodDownload for file downloads), faulted ones included.
func (s *Server) Calls(method string) int64 {
	name, _ := lookupMethod(method)
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.calls[name]
}

// CallCounts returns a copy of the per-method request counters.
func (s *Server) CallCounts() map[string]int64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	m := make(map[string]int64, len(s.calls))
	for k, v := range s.calls {
		m[k] = v
	}
	return m
}

// FaultCount returns how many faults of kind were injected.
func (s *Server) FaultCount(kind FaultKind) int64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.faultCounts[kind]
}

// FaultCounts returns a copy of the per-kind injected-fault counters.
func (s *Server) FaultCounts() map[FaultKind]int64 {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	m := make(map[FaultKind]int64, len(s.faultCounts))
	for k, v := range s.faultCounts {
		m[k] = v
	}
	return m
}

// ResetCounters zeroes the call and fault counters.
func (s *Server) ResetCounters() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.calls = map[string]int64{}
	s.faultCounts = map[FaultKind]int64{}
}
