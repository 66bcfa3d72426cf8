package webchat

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"hotline/internal/hotline"
	"hotline/internal/throttle"
)

// bucket is a token bucket: rate tokens a second, at most burst saved up,
// full at the start. It wraps golang.org/x/time/rate and asks it with the
// server's clock, so tests that move Server.Now move the limits too. One
// lives in every connection.
type bucket struct {
	lim *rate.Limiter
	now func() time.Time
}

func newBucket(r float64, burst int, now func() time.Time) *bucket {
	b := &bucket{}
	b.init(r, burst, now)
	return b
}

func (b *bucket) init(r float64, burst int, now func() time.Time) {
	b.lim, b.now = rate.NewLimiter(rate.Limit(r), burst), now
}

// allow takes a token if there is one.
func (b *bucket) allow() bool {
	return b.lim.AllowN(b.now(), 1)
}

// What a reporter's requests are limited by, per client (a keyed hash of
// the client's address, see internal/throttle) and over everyone. Each has
// its own bucket, so that guessing receipts spends only the guesser's
// guesses: never submissions, nor a valid receipt's reads, nor anything
// of another client.
const (
	actPost    throttle.Action = iota // mailbox submissions and replies
	actRead                           // status pages opened with a receipt
	actGuess                          // receipts that opened nothing
	actConnect                        // websocket connections opened
	actMessage                        // websocket messages
	actPhoto                          // websocket photos
	numActions
)

func (s *Server) newLimiter() *throttle.Limiter {
	l := s.Limits
	per := make([]throttle.Rule, numActions)
	glob := make([]throttle.Rule, numActions)
	per[actPost] = throttle.Rule{Rate: l.ClientPostRate, Burst: l.ClientPostBurst}
	glob[actPost] = throttle.Rule{Rate: l.MailboxRate, Burst: l.MailboxBurst}
	per[actRead] = throttle.Rule{Rate: l.ClientReadRate, Burst: l.ClientReadBurst}
	glob[actRead] = throttle.Rule{Rate: l.ReadRate, Burst: l.ReadBurst}
	per[actGuess] = throttle.Rule{Rate: l.GuessRate, Burst: l.GuessBurst}
	per[actConnect] = throttle.Rule{Rate: l.ClientConnRate, Burst: l.ClientConnBurst}
	per[actMessage] = throttle.Rule{Rate: l.ClientMsgRate, Burst: l.ClientMsgBurst}
	glob[actMessage] = throttle.Rule{Rate: l.GlobalRate, Burst: l.GlobalBurst}
	per[actPhoto] = throttle.Rule{Rate: l.ClientPhotoRate, Burst: l.ClientPhotoBurst}
	return throttle.New(throttle.Config{PerClient: per, Global: glob, MaxHolds: l.ClientConns,
		MaxClients: l.MaxClients, Rotate: l.KeyRotate, Now: s.Now})
}

// clientOf is the address a request is limited under. It is passed to the
// limiter, which keeps only a keyed hash of it; it is never logged.
func (s *Server) clientOf(r *http.Request) netip.Addr {
	return s.ClientIP.Of(r)
}

// missedReceipt reports whether a lookup failed because no tip has that
// receipt (or it is mistyped): what costs a guess.
func missedReceipt(err error) bool {
	c := hotline.ErrorCode(err)
	return c == hotline.ENOTFOUND || c == hotline.EINVALID
}

// retryAfter sets Retry-After in whole seconds, at least one.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(d.Seconds())))))
}

// Refusals of the per-client limits, with how long to wait.
var (
	txtTooManyGuesses = hotline.Label{
		ZH: "从这台设备（或同一个网络）输错回执码的次数太多了。为了保护大家的报告，请%s后再试。",
		EN: "Too many wrong receipt codes from this device (or this network). To protect everyone's reports, please try again in %s.",
	}
	txtTooManyPosts = hotline.Label{
		ZH: "从这台设备（或同一个网络）提交得太频繁了，请%s后再提交。你写的内容还在下面。",
		EN: "Too many submissions from this device (or this network) in a short time; please submit again in %s. What you wrote is still below.",
	}
	txtTooManyReads = hotline.Label{
		ZH: "打开得太频繁了，请%s后再试。",
		EN: "Opened too often; please try again in %s.",
	}
)

// waitError is a rate-limit error that says how long to wait, in words.
func waitError(l hotline.Label, d time.Duration) error {
	return hotline.Errorf(hotline.ERATELIMIT, fmt.Sprintf(l.ZH, waitWords(d, hotline.LangZH)), fmt.Sprintf(l.EN, waitWords(d, hotline.LangEN)))
}

func waitWords(d time.Duration, lang hotline.Lang) string {
	secs := max(1, int(math.Ceil(d.Seconds())))
	if secs < 60 {
		if lang == hotline.LangEN {
			if secs == 1 {
				return "1 second"
			}
			return strconv.Itoa(secs) + " seconds"
		}
		return " " + strconv.Itoa(secs) + " 秒"
	}
	mins := (secs + 59) / 60
	if lang == hotline.LangEN {
		if mins == 1 {
			return "1 minute"
		}
		return strconv.Itoa(mins) + " minutes"
	}
	return " " + strconv.Itoa(mins) + " 分钟"
}
