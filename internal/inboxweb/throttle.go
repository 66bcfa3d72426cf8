package inboxweb

// Flood limits on the staff's credential forms (log-in, second factor,
// recovery). They protect the server's password work, never at the price
// of the staff's own browsers: the limits are asked by the staff service
// only for an attempt that will cost a check and that comes from a browser
// the account does not know (staff.Gate), so a request refused for free
// (bad CSRF token, malformed form, a locked account or name) costs them
// nothing, a right answer gives its token back, and a browser that
// completed a log-in before is never held back by strangers. A client is
// known to the limiter only by a keyed hash of its address (or its
// network's) that changes every hour (internal/throttle); the address is
// never logged or stored.

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/throttle"
)

// LoginLimits bound credential attempts from browsers the account does not
// know. A password attempt takes a token from its client's bucket (an IPv4
// address, an IPv6 /64), from its network's share (an IPv4 /24, an IPv6
// /48) and from the ceiling over everyone, just before its argon2id
// derivation; a second factor's code or a recovery key, which cost no
// derivation, only from the client's bucket. Zero fields take
// DefaultLoginLimits.
type LoginLimits struct {
	ClientRate   float64 // failed attempts a second, per client, once the burst is spent
	ClientBurst  int
	NetworkRate  float64 // failed password attempts a second, per network
	NetworkBurst int
	GlobalRate   float64 // failed password attempts a second, all clients together
	GlobalBurst  int
}

// DefaultLoginLimits let a school's staff behind one address mistype
// freely and hold a guesser to two tries a minute per address; one network
// takes at most a quarter of the ceiling; the ceiling, which attempts in
// flight hold too, bounds the password work that strangers can ask for
// (the staff's known browsers never wait for it).
var DefaultLoginLimits = LoginLimits{ClientRate: 1.0 / 30, ClientBurst: 10, NetworkRate: 5, NetworkBurst: 100, GlobalRate: 20, GlobalBurst: 400}

// What a credential attempt costs: a password's derivation, or a cheap check.
const (
	actPassword throttle.Action = iota
	actCode
)

// credentialGuard limits the handlers it wraps; all share its buckets.
type credentialGuard struct {
	s   *Server
	lim *throttle.Limiter
	ip  throttle.ClientIP
}

func (s *Server) newCredentialGuard() *credentialGuard {
	l := s.cfg.LoginLimits
	d := DefaultLoginLimits
	setf := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	seti := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setf(&l.ClientRate, d.ClientRate)
	seti(&l.ClientBurst, d.ClientBurst)
	setf(&l.NetworkRate, d.NetworkRate)
	seti(&l.NetworkBurst, d.NetworkBurst)
	setf(&l.GlobalRate, d.GlobalRate)
	seti(&l.GlobalBurst, d.GlobalBurst)
	client := throttle.Rule{Rate: l.ClientRate, Burst: l.ClientBurst}
	lim := throttle.New(throttle.Config{
		PerClient:  []throttle.Rule{actPassword: client, actCode: client},
		PerNetwork: []throttle.Rule{actPassword: {Rate: l.NetworkRate, Burst: l.NetworkBurst}},
		Global:     []throttle.Rule{actPassword: {Rate: l.GlobalRate, Burst: l.GlobalBurst}},
		Now:        s.clock.Now,
	})
	return &credentialGuard{s: s, lim: lim, ip: s.cfg.ClientIP}
}

var txtTooManyAttempts = hotline.Label{
	ZH: "从这台设备（或同一个网络）登录失败的次数太多了，请%s后再试。",
	EN: "Too many failed log-ins from this device (or this network); please try again in %s.",
}

// wrap gives the handler's credential checks a gate of action a for the
// request's client.
func (g *credentialGuard) wrap(a throttle.Action, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		gate := &requestGate{g: g, w: w, client: g.ip.Of(r), act: a}
		next(w, r.WithContext(staff.WithGate(r.Context(), gate)))
	}
}

// requestGate is one request's staff.Gate.
type requestGate struct {
	g      *credentialGuard
	w      http.ResponseWriter
	client netip.Addr
	act    throttle.Action
	taken  bool
}

// Admit takes a token, or sets Retry-After and returns the refusal in both
// languages; the handler renders it with status 429.
func (q *requestGate) Admit() error {
	ok, wait := q.g.lim.Allow(q.client, q.act)
	if !ok {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		q.w.Header().Set("Retry-After", strconv.Itoa(secs))
		return hotline.Errorf(hotline.ERATELIMIT,
			fmt.Sprintf(txtTooManyAttempts.ZH, waitWords(secs, hotline.LangZH)),
			fmt.Sprintf(txtTooManyAttempts.EN, waitWords(secs, hotline.LangEN)))
	}
	q.taken = true
	return nil
}

// Refund gives the token back once.
func (q *requestGate) Refund() {
	if q.taken {
		q.taken = false
		q.g.lim.Refund(q.client, q.act)
	}
}

func waitWords(secs int, lang hotline.Lang) string {
	n, zh, en := secs, "秒", "second"
	if secs >= 60 {
		n, zh, en = (secs+59)/60, "分钟", "minute"
	}
	if lang == hotline.LangEN {
		if n != 1 {
			en += "s"
		}
		return strconv.Itoa(n) + " " + en
	}
	return " " + strconv.Itoa(n) + " " + zh
}
