// Package wechatsim simulates WeChat for an official account, both sides
// of it: the callback side signs and encrypts users' messages as WeChat
// does and posts them to the account's server URL, opening the passive
// replies; the API side hands out access tokens (stable_token), takes
// customer-service messages within the 48-hour window and its quota,
// template notices, media uploads and downloads, and the menu. Its crypto
// is written here apart from the adapter's (package wechat), from WeChat's
// documents, so that the two check each other.
//
// It is product code: the demo's simulated phones and "hotline bench" may
// drive reporters through it, and tests use it through the thin wrapper
// internal/wechattest. It imports no testing package, so the production
// binary links no test code. It keeps everything in memory: it is for a
// demo, a load run or a test, never for real accounts.
//
// Use:
//
//	sim, err := wechatsim.Start(wechatsim.Config{AppID: "wx…", Secret: "…", Token: "…", AESKey: wechatsim.NewAESKey()})
//	defer sim.Close()
//	// give the adapter sim.URL() as its API base URL, and the same account
//	u := sim.NewUser(serverURL + "/wechat/main")
//	r, err := u.Text(ctx, "你好")
//	m, _, err := sim.Wait(ctx, u.OpenID, 0, func(m wechatsim.Sent) bool { return m.Kind == "text" })
//
// All methods are safe for concurrent use.
package wechatsim

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clock is the simulator's time (in tests, the clock of the server under
// test).
type Clock interface{ Now() time.Time }

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// Config configures the simulated account.
type Config struct {
	// Addr is the address to listen on (default "127.0.0.1:0": any free
	// port of this machine only).
	Addr                         string
	AppID, Secret, Token, AESKey string
	Clock                        Clock
	// Quota is how many customer-service messages a user may get after
	// their last message before 45047 (default 100: tests lower it).
	Quota int
	// Window is the customer-service window (48h).
	Window time.Duration
}

// Sent is a message the account sent a user through the API.
type Sent struct {
	Kind     string // "text", "image", "template", "passive"
	Text     string
	Template string
	Image    []byte
}

// Server is a running simulator.
type Server struct {
	cfg    Config
	srv    *http.Server
	url    string
	key    []byte
	client *http.Client // posts the users' callbacks

	mu         sync.Mutex
	tokens     map[string]time.Time // valid tokens and their expiry
	current    string
	issued     int
	forced     int
	tokenCalls int
	media      map[string][]byte
	sent       map[string][]Sent // by openid
	lastIn     map[string]time.Time
	used       map[string]int // customer-service messages since lastIn
	menu       []byte
	nextMsg    int64
	changed    chan struct{}
	failNext   map[string]int // path -> errcode to answer once
}

// Start serves a new simulated account on cfg.Addr; Close stops it.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Clock == nil {
		cfg.Clock = sysClock{}
	}
	if cfg.Quota == 0 {
		cfg.Quota = 100
	}
	if cfg.Window == 0 {
		cfg.Window = 48 * time.Hour
	}
	key, err := base64.StdEncoding.DecodeString(cfg.AESKey + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("wechatsim: the AES key must be 43 characters of base64 (an EncodingAESKey)")
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("wechatsim: %w", err)
	}
	s := &Server{cfg: cfg, key: key, url: "http://" + ln.Addr().String(), tokens: map[string]time.Time{}, media: map[string][]byte{},
		sent: map[string][]Sent{}, lastIn: map[string]time.Time{}, used: map[string]int{},
		changed: make(chan struct{}), failNext: map[string]int{}, nextMsg: 6_000_000_000_000_000_000,
		// A hang guard: callers bound their posts with their own contexts.
		client: &http.Client{Timeout: time.Minute}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cgi-bin/stable_token", s.handleToken)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", s.handleCustom)
	mux.HandleFunc("POST /cgi-bin/message/template/send", s.handleTemplate)
	mux.HandleFunc("POST /cgi-bin/media/upload", s.handleUpload)
	mux.HandleFunc("GET /cgi-bin/media/get", s.handleMediaGet)
	mux.HandleFunc("POST /cgi-bin/menu/create", s.handleMenu)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.Serve(ln)
	return s, nil
}

// NewAESKey returns a random EncodingAESKey (43 characters).
func NewAESKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return strings.TrimSuffix(base64.StdEncoding.EncodeToString(k), "=")
}

// URL is the API base URL to configure the adapter with.
func (s *Server) URL() string { return s.url }

// Close stops the simulator once the requests it is answering are
// answered (none waits: it is quick).
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.srv.Shutdown(ctx) != nil {
		s.srv.Close()
	}
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, code int) {
	answer(w, map[string]any{"errcode": code, "errmsg": "simulated error"})
}

// FailNext makes the next call of path answer errcode.
func (s *Server) FailNext(path string, errcode int) {
	s.mu.Lock()
	s.failNext[path] = errcode
	s.mu.Unlock()
}

// checkToken answers 40001/42001 for an unknown or expired token; it
// reports whether the call may go on. Call with mu held.
func (s *Server) checkToken(w http.ResponseWriter, r *http.Request) bool {
	if code, ok := s.failNext[r.URL.Path]; ok {
		delete(s.failNext, r.URL.Path)
		apiErr(w, code)
		return false
	}
	exp, ok := s.tokens[r.URL.Query().Get("access_token")]
	if !ok {
		apiErr(w, 40001)
		return false
	}
	if !s.cfg.Clock.Now().Before(exp) {
		apiErr(w, 42001)
		return false
	}
	return true
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.GrantType != "client_credential" {
		apiErr(w, 40002)
		return
	}
	if in.AppID != s.cfg.AppID || in.Secret != s.cfg.Secret {
		apiErr(w, 40125)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenCalls++
	now := s.cfg.Clock.Now()
	if exp, ok := s.tokens[s.current]; !ok || in.ForceRefresh || !now.Before(exp.Add(-5*time.Minute)) {
		if in.ForceRefresh {
			s.forced++
		}
		b := make([]byte, 16)
		rand.Read(b)
		s.current = "TOKEN_" + hex.EncodeToString(b)
		s.tokens[s.current] = now.Add(2 * time.Hour)
		s.issued++
	}
	answer(w, map[string]any{"access_token": s.current, "expires_in": int(s.tokens[s.current].Sub(now) / time.Second)})
}

// RevokeTokens invalidates every token (as a refresh elsewhere would).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	s.tokens = map[string]time.Time{}
	s.current = ""
	s.mu.Unlock()
}

// TokenCalls returns how many times a token was asked for.
func (s *Server) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// OpenWindow records that openID wrote now, opening its customer-service
// window, without a callback (for tests of the API side alone).
func (s *Server) OpenWindow(openID string) {
	s.mu.Lock()
	s.lastIn[openID] = s.cfg.Clock.Now()
	s.used[openID] = 0
	s.mu.Unlock()
}

// TokensIssued returns how many tokens were handed out, and how many by a
// forced refresh.
func (s *Server) TokensIssued() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued, s.forced
}

func (s *Server) handleCustom(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		Image struct {
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		apiErr(w, 47001)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkToken(w, r) {
		return
	}
	last, ok := s.lastIn[in.ToUser]
	switch {
	case !ok:
		apiErr(w, 40003)
		return
	case !s.cfg.Clock.Now().Before(last.Add(s.cfg.Window)):
		apiErr(w, 45015)
		return
	case s.used[in.ToUser] >= s.cfg.Quota:
		apiErr(w, 45047)
		return
	}
	m := Sent{Kind: in.MsgType}
	switch in.MsgType {
	case "text":
		if len(in.Text.Content) > 2048 {
			apiErr(w, 45002)
			return
		}
		m.Text = in.Text.Content
	case "image":
		data, ok := s.media[in.Image.MediaID]
		if !ok {
			apiErr(w, 40007)
			return
		}
		m.Image = data
	default:
		apiErr(w, 40008)
		return
	}
	s.used[in.ToUser]++
	s.sent[in.ToUser] = append(s.sent[in.ToUser], m)
	s.notify()
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok"})
}

func (s *Server) handleTemplate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ToUser     string                       `json:"touser"`
		TemplateID string                       `json:"template_id"`
		Data       map[string]map[string]string `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		apiErr(w, 47001)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkToken(w, r) {
		return
	}
	var parts []string
	keys := make([]string, 0, len(in.Data))
	for k := range in.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, in.Data[k]["value"])
	}
	s.sent[in.ToUser] = append(s.sent[in.ToUser], Sent{Kind: "template", Template: in.TemplateID, Text: strings.Join(parts, "\n")})
	s.notify()
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 1})
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	f, _, err := r.FormFile("media")
	if err != nil {
		apiErr(w, 41005)
		return
	}
	data, _ := io.ReadAll(io.LimitReader(f, 10<<20))
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkToken(w, r) {
		return
	}
	id := s.putMedia(data)
	answer(w, map[string]any{"type": "image", "media_id": id, "created_at": s.cfg.Clock.Now().Unix()})
}

func (s *Server) putMedia(data []byte) string {
	b := make([]byte, 12)
	rand.Read(b)
	id := "MEDIA_" + hex.EncodeToString(b)
	s.media[id] = data
	return id
}

func (s *Server) handleMediaGet(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkToken(w, r) {
		return
	}
	data, ok := s.media[r.URL.Query().Get("media_id")]
	if !ok {
		apiErr(w, 40007)
		return
	}
	w.Header().Set("Content-Type", http.DetectContentType(data))
	w.Write(data)
}

func (s *Server) handleMenu(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.checkToken(w, r) {
		return
	}
	s.menu = data
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok"})
}

// Menu returns the JSON of the last menu created, or nil.
func (s *Server) Menu() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.menu
}

// Sent returns what the account sent openID (API and passive replies).
func (s *Server) Sent(openID string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent[openID]...)
}

// Wait returns the first message to openID at or after index from that
// satisfies pred, waiting for it until ctx ends; and its index.
func (s *Server) Wait(ctx context.Context, openID string, from int, pred func(Sent) bool) (Sent, int, error) {
	for {
		s.mu.Lock()
		ms := s.sent[openID]
		ch := s.changed
		for i := from; i < len(ms); i++ {
			if pred(ms[i]) {
				m := ms[i]
				s.mu.Unlock()
				return m, i, nil
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			var got []string
			for _, m := range s.Sent(openID) {
				got = append(got, m.Kind+": "+m.Text)
			}
			return Sent{}, 0, fmt.Errorf("wechatsim: no such message; got:\n%s", strings.Join(got, "\n---\n"))
		case <-ch:
		}
	}
}

// User is a WeChat user of the account, writing to the server URL.
type User struct {
	s      *Server
	OpenID string
	target string // the server URL under test
}

// NewUser returns a user with a fresh openid writing to serverURL.
func (s *Server) NewUser(serverURL string) *User {
	b := make([]byte, 14)
	rand.Read(b)
	return &User{s: s, OpenID: "o" + base64.RawURLEncoding.EncodeToString(b), target: serverURL}
}

// Message is an inbound message as WeChat sends it.
type Message struct {
	MsgType  string
	Content  string
	MediaID  string
	Event    string
	EventKey string
	MenuID   string // bizmsgmenuid: a tapped menu link
	MsgID    int64  // set by Send when zero (not for events)
}

// Reply is the outcome of one callback.
type Reply struct {
	Status int
	Body   string // raw body
	Text   string // the passive text reply, decrypted; "" for "success"
}

// Text sends a text message.
func (u *User) Text(ctx context.Context, text string) (*Reply, error) {
	return u.Send(ctx, &Message{MsgType: "text", Content: text})
}

// Tap sends a tapped message-menu link (bizmsgmenu).
func (u *User) Tap(ctx context.Context, label, id string) (*Reply, error) {
	return u.Send(ctx, &Message{MsgType: "text", Content: label, MenuID: id})
}

// Click sends a click on the account's menu.
func (u *User) Click(ctx context.Context, key string) (*Reply, error) {
	return u.Send(ctx, &Message{MsgType: "event", Event: "CLICK", EventKey: key})
}

// Image uploads data as the user's picture and sends it.
func (u *User) Image(ctx context.Context, data []byte) (*Reply, error) {
	u.s.mu.Lock()
	id := u.s.putMedia(data)
	u.s.mu.Unlock()
	return u.Send(ctx, &Message{MsgType: "image", MediaID: id})
}

// Send signs, encrypts and posts m as WeChat would, after opening the
// user's customer-service window.
func (u *User) Send(ctx context.Context, m *Message) (*Reply, error) {
	s := u.s
	s.mu.Lock()
	now := s.cfg.Clock.Now()
	if m.MsgID == 0 && m.MsgType != "event" {
		s.nextMsg++
		m.MsgID = s.nextMsg
	}
	s.lastIn[u.OpenID] = now
	s.used[u.OpenID] = 0
	s.mu.Unlock()
	return u.Post(ctx, u.Encrypted(m, now), now)
}

// Resend posts m again as it was (WeChat's retry of the same MsgId).
func (u *User) Resend(ctx context.Context, m *Message) (*Reply, error) {
	now := u.s.cfg.Clock.Now()
	return u.Post(ctx, u.Encrypted(m, now), now)
}

// Encrypted returns the inner XML of m, encrypted.
func (u *User) Encrypted(m *Message, now time.Time) string {
	var b strings.Builder
	b.WriteString("<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><FromUserName><![CDATA[" + u.OpenID + "]]></FromUserName>")
	fmt.Fprintf(&b, "<CreateTime>%d</CreateTime><MsgType><![CDATA[%s]]></MsgType>", now.Unix(), m.MsgType)
	if m.MsgType == "text" {
		b.WriteString("<Content><![CDATA[" + strings.ReplaceAll(m.Content, "]]>", "]]]]><![CDATA[>") + "]]></Content>")
		if m.MenuID != "" {
			b.WriteString("<bizmsgmenuid>" + xmlEscape(m.MenuID) + "</bizmsgmenuid>")
		}
	}
	if m.MediaID != "" {
		b.WriteString("<PicUrl><![CDATA[http://mmbiz.example/x]]></PicUrl><MediaId><![CDATA[" + m.MediaID + "]]></MediaId>")
	}
	if m.Event != "" {
		b.WriteString("<Event><![CDATA[" + m.Event + "]]></Event><EventKey><![CDATA[" + m.EventKey + "]]></EventKey>")
	}
	if m.MsgID != 0 {
		fmt.Fprintf(&b, "<MsgId>%d</MsgId>", m.MsgID)
	}
	b.WriteString("</xml>")
	return u.s.Encrypt([]byte(b.String()))
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Post posts an encrypted message with valid signatures.
func (u *User) Post(ctx context.Context, encrypted string, now time.Time) (*Reply, error) {
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := strconv.Itoa(int(now.UnixNano() % 1e9))
	q := url.Values{"signature": {Sign(u.s.cfg.Token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce},
		"openid": {u.OpenID}, "encrypt_type": {"aes"}, "msg_signature": {Sign(u.s.cfg.Token, ts, nonce, encrypted)}}
	body := "<xml><ToUserName><![CDATA[gh_fake]]></ToUserName><Encrypt><![CDATA[" + encrypted + "]]></Encrypt></xml>"
	return u.s.PostRaw(ctx, u.target+"?"+q.Encode(), body, u.OpenID)
}

// PostRaw posts body to target and reads the reply, recording a passive
// text reply as sent to openID.
func (s *Server) PostRaw(ctx context.Context, target, body, openID string) (*Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	rep := &Reply{Status: resp.StatusCode, Body: string(data)}
	if resp.StatusCode != http.StatusOK || rep.Body == "success" || rep.Body == "" {
		return rep, nil
	}
	text, err := s.openReply(data)
	if err != nil {
		return rep, err
	}
	rep.Text = text
	s.mu.Lock()
	s.sent[openID] = append(s.sent[openID], Sent{Kind: "passive", Text: text})
	s.notify()
	s.mu.Unlock()
	return rep, nil
}

// openReply checks and opens an encrypted passive reply.
func (s *Server) openReply(data []byte) (string, error) {
	var env struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
		TimeStamp    string `xml:"TimeStamp"`
		Nonce        string `xml:"Nonce"`
	}
	if err := xml.Unmarshal(data, &env); err != nil {
		return "", fmt.Errorf("wechatsim: reply is not XML: %w", err)
	}
	if env.MsgSignature != Sign(s.cfg.Token, env.TimeStamp, env.Nonce, env.Encrypt) {
		return "", errors.New("wechatsim: reply signature wrong")
	}
	plain, err := s.Decrypt(env.Encrypt)
	if err != nil {
		return "", err
	}
	var msg struct {
		MsgType string `xml:"MsgType"`
		Content string `xml:"Content"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil || msg.MsgType != "text" {
		return "", errors.New("wechatsim: reply is not a text message")
	}
	return msg.Content, nil
}

// Sign is WeChat's SHA-1 signature over the sorted parts.
func Sign(parts ...string) string {
	p := append([]string(nil), parts...)
	sort.Strings(p)
	h := sha1.Sum([]byte(strings.Join(p, "")))
	return hex.EncodeToString(h[:])
}

// Encrypt seals msg as WeChat's safe mode does.
func (s *Server) Encrypt(msg []byte) string {
	var buf bytes.Buffer
	r := make([]byte, 16)
	rand.Read(r)
	buf.Write(r)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	buf.Write(n[:])
	buf.Write(msg)
	buf.WriteString(s.cfg.AppID)
	pad := 32 - buf.Len()%32
	buf.Write(bytes.Repeat([]byte{byte(pad)}, pad))
	block, _ := aes.NewCipher(s.key)
	out := make([]byte, buf.Len())
	cipher.NewCBCEncrypter(block, s.key[:16]).CryptBlocks(out, buf.Bytes())
	return base64.StdEncoding.EncodeToString(out)
}

// Decrypt opens a safe-mode ciphertext addressed to the simulated account's AppID.
func (s *Server) Decrypt(enc string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(ct)%16 != 0 || len(ct) == 0 {
		return nil, errors.New("wechatsim: bad ciphertext")
	}
	block, _ := aes.NewCipher(s.key)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, s.key[:16]).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > 32 {
		return nil, errors.New("wechatsim: bad padding")
	}
	pt = pt[:len(pt)-pad]
	n := int(binary.BigEndian.Uint32(pt[16:20]))
	if 20+n > len(pt) || string(pt[20+n:]) != s.cfg.AppID {
		return nil, errors.New("wechatsim: wrong AppID")
	}
	return pt[20 : 20+n], nil
}

// SetTarget points the user at another server URL (a restarted server).
func (u *User) SetTarget(serverURL string) { u.target = serverURL }
