package inbox

// Per-client limits on the staff's credential forms (log-in, second
// factor, recovery): a guesser runs out of tries, a counselor who gets in
// pays nothing. A client is known to the limiter only by a keyed hash of
// its address that changes every hour (internal/throttle); the address is
// never logged or stored.

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"hotline/internal/hotline"
	"hotline/internal/throttle"
)

// LoginLimits bound credential attempts. An attempt takes a token from
// its client's bucket and from the global ceiling before the password is
// checked (parallel guesses are bounded too); one that succeeds gives both
// back, so only failures count. Zero fields take DefaultLoginLimits.
type LoginLimits struct {
	ClientRate  float64 // failed attempts a second, per client, once the burst is spent
	ClientBurst int
	GlobalRate  float64 // failed attempts a second, all clients together
	GlobalBurst int
}

// DefaultLoginLimits let a school's staff behind one address mistype
// freely and hold a guesser to two tries a minute per address; the
// ceiling, which attempts in flight hold too, leaves room for a
// district's staff logging in at once.
var DefaultLoginLimits = LoginLimits{ClientRate: 1.0 / 30, ClientBurst: 10, GlobalRate: 20, GlobalBurst: 400}

const actCredential throttle.Action = 0

// credentialGuard limits the handlers it wraps; all share its buckets.
type credentialGuard struct {
	s   *Server
	lim *throttle.Limiter
	ip  throttle.ClientIP
}

func (s *Server) newCredentialGuard() *credentialGuard {
	l := s.cfg.LoginLimits
	d := DefaultLoginLimits
	if l.ClientRate <= 0 {
		l.ClientRate = d.ClientRate
	}
	if l.ClientBurst <= 0 {
		l.ClientBurst = d.ClientBurst
	}
	if l.GlobalRate <= 0 {
		l.GlobalRate = d.GlobalRate
	}
	if l.GlobalBurst <= 0 {
		l.GlobalBurst = d.GlobalBurst
	}
	lim := throttle.New(throttle.Config{
		PerClient: []throttle.Rule{actCredential: {Rate: l.ClientRate, Burst: l.ClientBurst}},
		Global:    []throttle.Rule{actCredential: {Rate: l.GlobalRate, Burst: l.GlobalBurst}},
		Now:       s.clock.Now,
	})
	return &credentialGuard{s: s, lim: lim, ip: s.cfg.ClientIP}
}

var txtTooManyAttempts = hotline.Label{
	ZH: "从这台设备（或同一个网络）登录失败的次数太多了，请%s后再试。",
	EN: "Too many failed log-ins from this device (or this network); please try again in %s.",
}

// wrap refuses an attempt with 429, Retry-After and a message in the
// page's language when the client or everyone is out of tries.
func (g *credentialGuard) wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := g.ip.Of(r)
		if ok, wait := g.lim.Allow(client, actCredential); !ok {
			secs := max(1, int(math.Ceil(wait.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			g.s.fail(w, r, nil, hotline.Errorf(hotline.ERATELIMIT,
				fmt.Sprintf(txtTooManyAttempts.ZH, waitWords(secs, hotline.LangZH)),
				fmt.Sprintf(txtTooManyAttempts.EN, waitWords(secs, hotline.LangEN))))
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next(rec, r)
		if rec.status < http.StatusBadRequest {
			g.lim.Refund(client, actCredential)
		}
	}
}

// statusRecorder notes the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

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
