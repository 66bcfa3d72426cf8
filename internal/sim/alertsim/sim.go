// Package alertsim simulates the alert vendors' APIs in one http.Handler:
// 企业微信 (group robot and application messages), 钉钉 and 飞书 custom
// robots, 阿里云 SMS and voice, 腾讯云 SMS and voice, a Web Push service and
// a 平安校园 webhook receiver. Each is served on the vendor's real path
// under the simulator's base URL, so an alert.Config whose base URLs point
// here sends exactly what it would send to the vendor.
//
// Like the vendor, the simulator checks every signature (DingTalk's and
// Feishu's HMACs, Aliyun's ACS3 and Tencent's TC3 request signatures, the
// webhook's HMAC, the VAPID JWT) against the credentials it was told
// about, with its own implementation of each algorithm, checks the fields
// the vendor requires, and answers the vendor's success or error bodies.
// It decrypts Web Push payloads with the subscription keys it generated.
// It records every request it accepted (Received) and refused (Refused),
// and can be told to fail a target with a vendor code or to be
// unreachable.
//
// It is product code: the demo runs it in-process and shows what it
// received; tests and "hotline bench" use it. It imports no testing
// package. All methods are safe for concurrent use.
//
// Use:
//
//	sim, err := alertsim.Start("127.0.0.1:0")
//	cfg, err := sim.Provision()          // accounts at every vendor; cfg's base URLs point here
//	set := alert.New(cfg, mailer, bot)   // the real channels
//	robot := sim.NewDingTalkRobot()      // a target: token and SEC… secret
//	sub, err := sim.NewPushSubscription(cfg.WebPush.Keys.PublicKey())
//	set.Send(ctx, robot, m)
//	r, err := sim.Wait(ctx, func(r alertsim.Request) bool { return r.Target == robot.Address })
//	sim.Fail(alert.SMSAliyun, "+8613812345678", "isv.MOBILE_NUMBER_ILLEGAL")
//	sim.Unreachable(alert.Feishu, "")    // every Feishu bot: connections dropped
//
// Request.Target is the robot's key, token or hook id, the phone number in
// E.164, the WeCom userid, the webhook's name or the push subscription's
// id (PushID).
package alertsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"hotline/internal/alert"
)

// Request is one request the simulator accepted or refused.
type Request struct {
	Kind   alert.Kind
	Target string // robot key, access token or hook id; phone (E.164); userid; webhook name; push subscription id
	Text   string // the text as its recipient would see it (SMS: sign and filled template; push: the decrypted body)
	Link   string // the link, where the vendor carries it apart from the text (webhook, push)
	Params []string
	Urgent bool   // @all, Urgency: high, an urgent template
	Body   []byte // the body as received (Web Push: decrypted), for scans
	URL    string // the request's path and query as received
	Code   string // refused: the vendor code answered
	Time   time.Time
}

type faultKey struct {
	kind   alert.Kind
	target string
}

type fault struct {
	code        string
	unreachable bool
}

// Sim is the simulator. Make one with New or Start.
type Sim struct {
	mux *http.ServeMux
	now func() time.Time

	mu       sync.Mutex
	baseURL  string
	received []Request
	refused  []Request
	changed  chan struct{} // closed and replaced on every record
	faults   map[faultKey]fault

	wecomRobots map[string]bool
	wecomCorps  map[string]*wecomCorp
	wecomTokens map[string]wecomToken
	dingtalk    map[string]string // access token → secret
	feishu      map[string]string // hook id → secret
	aliyunKeys  map[string]string // AccessKey id → secret
	aliyunSigns map[string]bool
	aliyunTpls  map[string]string // template code → text with ${var}
	nonces      map[string]time.Time
	tcKeys      map[string]string // SecretId → SecretKey
	tcSMSApps   map[string]bool
	tcVoiceApps map[string]bool
	tcSigns     map[string]bool
	tcTpls      map[string]string // template id → text with {1}…
	webhooks    map[string]string // name → secret
	webhookIDs  map[string]bool   // delivery ids seen
	pushSubs    map[string]*pushSub

	srv *http.Server
}

// New returns a simulator that knows no account yet; SetURL tells it the
// URL it is served at (Start does).
func New() *Sim {
	s := &Sim{
		now:         time.Now,
		changed:     make(chan struct{}),
		faults:      map[faultKey]fault{},
		wecomRobots: map[string]bool{},
		wecomCorps:  map[string]*wecomCorp{},
		wecomTokens: map[string]wecomToken{},
		dingtalk:    map[string]string{},
		feishu:      map[string]string{},
		aliyunKeys:  map[string]string{},
		aliyunSigns: map[string]bool{},
		aliyunTpls:  map[string]string{},
		nonces:      map[string]time.Time{},
		tcKeys:      map[string]string{},
		tcSMSApps:   map[string]bool{},
		tcVoiceApps: map[string]bool{},
		tcSigns:     map[string]bool{},
		tcTpls:      map[string]string{},
		webhooks:    map[string]string{},
		webhookIDs:  map[string]bool{},
		pushSubs:    map[string]*pushSub{},
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /cgi-bin/webhook/send", s.handleWeComRobot)
	m.HandleFunc("GET /cgi-bin/gettoken", s.handleWeComToken)
	m.HandleFunc("POST /cgi-bin/message/send", s.handleWeComApp)
	m.HandleFunc("POST /robot/send", s.handleDingTalk)
	m.HandleFunc("POST /open-apis/bot/v2/hook/{hook}", s.handleFeishu)
	m.HandleFunc("POST /{$}", s.handleCloud)
	m.HandleFunc("POST /webhook/{name}", s.handleWebhook)
	m.HandleFunc("POST /push/{id}", s.handlePush)
	s.mux = m
	return s
}

// Start serves a new simulator on addr ("127.0.0.1:0" for any port).
func Start(addr string) (*Sim, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New()
	s.SetURL("http://" + ln.Addr().String())
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops a simulator made by Start.
func (s *Sim) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

// SetURL tells the simulator its base URL (push endpoints and the VAPID
// audience are made from it).
func (s *Sim) SetURL(u string) {
	s.mu.Lock()
	s.baseURL = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// URL is the base URL to put in every alert.Config base URL.
func (s *Sim) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// SetClock replaces the simulator's clock (signature freshness checks).
func (s *Sim) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

func (s *Sim) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// maxBody bounds a request body; the vendors refuse far smaller ones.
const maxBody = 64 << 10

// ServeHTTP serves every vendor path.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.mux.ServeHTTP(w, r)
}

// Received returns the requests accepted so far (the last 10 000),
// oldest first.
func (s *Sim) Received() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.received...)
}

// Refused returns the requests answered with an error (a vendor code or
// an HTTP error), oldest first.
func (s *Sim) Refused() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.refused...)
}

// Reset forgets what was received and refused and every fault; accounts,
// robots and subscriptions stay.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received, s.refused = nil, nil
	s.faults = map[faultKey]fault{}
}

// Wait returns the first received request (already there, or to come)
// for which pred is true, or ctx's error.
func (s *Sim) Wait(ctx context.Context, pred func(Request) bool) (Request, error) {
	for {
		s.mu.Lock()
		for _, r := range s.received {
			if pred(r) {
				s.mu.Unlock()
				return r, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Request{}, ctx.Err()
		}
	}
}

// Fail makes requests to target answer the vendor's error code (e.g.
// "93000", "310000", "isv.MOBILE_NUMBER_ILLEGAL",
// "FailedOperation.PhoneNumberInBlacklist", or for Web Push and webhooks
// an HTTP status such as "410") until Heal. target "" fails every target
// of the kind. Phone targets are written in E.164.
func (s *Sim) Fail(kind alert.Kind, target, code string) {
	s.mu.Lock()
	s.faults[faultKey{kind, target}] = fault{code: code}
	s.mu.Unlock()
}

// Unreachable makes requests to target (every target of the kind for "")
// end with a dropped connection and no answer, until Heal.
func (s *Sim) Unreachable(kind alert.Kind, target string) {
	s.mu.Lock()
	s.faults[faultKey{kind, target}] = fault{unreachable: true}
	s.mu.Unlock()
}

// Heal undoes Fail and Unreachable for target ("" for the kind-wide one).
func (s *Sim) Heal(kind alert.Kind, target string) {
	s.mu.Lock()
	delete(s.faults, faultKey{kind, target})
	s.mu.Unlock()
}

// faultFor returns the fault set for target, or for its whole kind.
func (s *Sim) faultFor(kind alert.Kind, target string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.faults[faultKey{kind, target}]; ok {
		return f, true
	}
	f, ok := s.faults[faultKey{kind, ""}]
	return f, ok
}

// drop ends the request with no answer, as a network failure would.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func (s *Sim) record(r Request, accepted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Time = s.now()
	if accepted {
		s.received = keepLast(append(s.received, r))
	} else {
		s.refused = keepLast(append(s.refused, r))
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	return b, err
}

var errTooLarge = errors.New("body too large")

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func requestURL(r *http.Request) string { return r.URL.RequestURI() }

// maxKept bounds what a long-running demo or bench keeps in memory.
const maxKept = 10000

// keepLast drops the oldest requests past maxKept.
func keepLast(rs []Request) []Request {
	if len(rs) > maxKept {
		return append([]Request(nil), rs[len(rs)-maxKept:]...)
	}
	return rs
}
