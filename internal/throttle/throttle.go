// Package throttle limits what one client, and all clients together, can
// make the server do: token buckets per client and per action, plus a
// ceiling per action over everyone.
//
// A client is known only by a keyed hash of its address (IPv4 address, or
// IPv6 /64), under a random key that is replaced every Config.Rotate; the
// previous key is kept for one more period so that a client's buckets
// survive the change. The address itself is never kept, never logged and
// never written anywhere: once both keys are gone, nothing in memory links
// a bucket to an address. Memory is bounded: buckets that have refilled are
// as good as new and are dropped, and at most Config.MaxClients clients are
// tracked; beyond that the longest idle are forgotten, so a flood from many
// addresses weakens only the per-client limits, never the global ceilings.
package throttle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"math"
	"math/bits"
	"net/netip"
	"sync"
	"time"
)

// Action names one kind of limited work; it indexes Config.PerClient and
// Config.Global.
type Action int

// Rule is a token bucket: Rate tokens a second, at most Burst saved up,
// full at the start. A zero Rule does not limit.
type Rule struct {
	Rate  float64
	Burst int
}

func (r Rule) set() bool { return r.Burst > 0 }

// Config sets up a Limiter.
type Config struct {
	// PerClient holds each action's bucket for one client; Global each
	// action's ceiling over all clients together. Either may be shorter
	// than the other; a missing or zero rule does not limit.
	PerClient []Rule
	Global    []Rule
	// MaxHolds caps what one client may hold at once (see Hold); zero:
	// no cap.
	MaxHolds int
	// MaxClients bounds the clients tracked; default 50 000 (about 300 B
	// each with six actions, so some 15 MB).
	MaxClients int
	// Rotate is how often the hash key is replaced; default one hour.
	Rotate time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Limiter keeps the buckets. It is safe for concurrent use.
type Limiter struct {
	rules   []Rule
	global  []Rule
	max     int
	rotate  time.Duration
	maxHold int
	now     func() time.Time

	mu      sync.Mutex
	gen     uint64
	since   time.Time // when the current key was made
	cur     hash.Hash
	prev    hash.Hash // nil before the first rotation
	clients map[id]*client
	ceil    []bucket
	sum     [sha256.Size]byte
}

// id is the keyed hash of a client address, truncated: 128 bits leave no
// practical chance of two clients sharing buckets.
type id [16]byte

type client struct {
	gen     uint64 // the key generation its id was made under
	last    time.Time
	holds   int
	buckets []bucket
}

// bucket is a token bucket's state; its Rule lives in the Limiter. 16
// bytes: the time is kept as Unix nanoseconds, zero before first use.
type bucket struct {
	tokens float64
	last   int64
}

func (b *bucket) refill(r Rule, now time.Time) {
	n := now.UnixNano()
	if b.last == 0 {
		b.tokens, b.last = float64(r.Burst), n
		return
	}
	// A clock that steps back gives nothing.
	if n > b.last {
		b.tokens = math.Min(float64(r.Burst), b.tokens+r.Rate*float64(n-b.last)/1e9)
		b.last = n
	}
}

// wait is how long until the bucket holds a whole token.
func (b *bucket) wait(r Rule) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	if r.Rate <= 0 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration((1 - b.tokens) / r.Rate * float64(time.Second))
}

// full reports whether the bucket has refilled by now, so forgetting it
// changes nothing.
func (b *bucket) full(r Rule, now time.Time) bool {
	if b.last == 0 {
		return true
	}
	return b.tokens+r.Rate*float64(now.UnixNano()-b.last)/1e9 >= float64(r.Burst)
}

// New returns a Limiter with a fresh random key.
func New(c Config) *Limiter {
	if c.MaxClients <= 0 {
		c.MaxClients = 50_000
	}
	if c.Rotate <= 0 {
		c.Rotate = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	n := max(len(c.PerClient), len(c.Global))
	l := &Limiter{
		rules:   pad(c.PerClient, n),
		global:  pad(c.Global, n),
		max:     c.MaxClients,
		rotate:  c.Rotate,
		maxHold: c.MaxHolds,
		now:     c.Now,
		clients: map[id]*client{},
		ceil:    make([]bucket, n),
	}
	l.cur, l.since = newKey(), c.Now()
	return l
}

func pad(r []Rule, n int) []Rule {
	out := make([]Rule, n)
	copy(out, r)
	return out
}

func newKey() hash.Hash {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("throttle: no randomness: " + err.Error())
	}
	return hmac.New(sha256.New, k)
}

// key reduces an address to what identifies a client: IPv4 addresses
// whole, IPv6 to their /64, which one subscriber usually holds entirely.
func key(a netip.Addr) [16]byte {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a.As16()
}

func (l *Limiter) hashWith(h hash.Hash, a netip.Addr) id {
	k := key(a)
	h.Reset()
	h.Write(k[:])
	var out id
	copy(out[:], h.Sum(l.sum[:0]))
	return out
}

// rotateIfDue replaces the key once a period has passed. Clients last seen
// under the key before the previous one are unreachable now: they go.
func (l *Limiter) rotateIfDue(now time.Time) {
	if now.Sub(l.since) < l.rotate {
		return
	}
	l.prev, l.cur = l.cur, newKey()
	l.gen++
	l.since = now
	for k, c := range l.clients {
		if c.gen+1 < l.gen && c.holds == 0 {
			delete(l.clients, k)
		}
	}
}

// find returns the client's state, creating it if create is set; a client
// found under the previous key moves to the current one.
func (l *Limiter) find(a netip.Addr, now time.Time, create bool) *client {
	l.rotateIfDue(now)
	k := l.hashWith(l.cur, a)
	if c := l.clients[k]; c != nil {
		return c
	}
	if l.prev != nil {
		pk := l.hashWith(l.prev, a)
		if c := l.clients[pk]; c != nil && c.gen+1 == l.gen {
			delete(l.clients, pk)
			c.gen = l.gen
			l.clients[k] = c
			return c
		}
	}
	if !create {
		return nil
	}
	if len(l.clients) >= l.max {
		l.shrink(now)
	}
	c := &client{gen: l.gen, last: now, buckets: make([]bucket, len(l.rules))}
	l.clients[k] = c
	return c
}

// shrink makes room: first it drops clients whose buckets have all
// refilled; if that is not a tenth of the table, the longest idle go.
func (l *Limiter) shrink(now time.Time) {
	target := l.max - l.max/10
	for k, c := range l.clients {
		if c.holds == 0 && l.rested(c, now) {
			delete(l.clients, k)
		}
	}
	if len(l.clients) < target {
		return
	}
	// Evict by idle time: find the cut-off with a coarse histogram rather
	// than sorting the whole table.
	var hist [64]int
	bin := func(c *client) int {
		d := now.Sub(c.last)
		if d <= 0 {
			return 0
		}
		return min(63, 64-bits.LeadingZeros64(uint64(d)))
	}
	for _, c := range l.clients {
		if c.holds == 0 {
			hist[bin(c)]++
		}
	}
	excess := len(l.clients) - target
	cut := 63
	for n := 0; cut > 0 && n+hist[cut] < excess; cut-- {
		n += hist[cut]
	}
	for k, c := range l.clients {
		if excess <= 0 {
			break
		}
		if c.holds == 0 && bin(c) >= cut {
			delete(l.clients, k)
			excess--
		}
	}
}

func (l *Limiter) rested(c *client, now time.Time) bool {
	for i := range c.buckets {
		if l.rules[i].set() && !c.buckets[i].full(l.rules[i], now) {
			return false
		}
	}
	return true
}

// Allow takes one token of action a from client's bucket and one from the
// action's global ceiling. If either is empty it takes neither and says
// how long to wait before trying again.
func (l *Limiter) Allow(client netip.Addr, a Action) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var cb *bucket
	if r := l.rules[a]; r.set() {
		c := l.find(client, now, true)
		c.last = now
		cb = &c.buckets[a]
		cb.refill(r, now)
		if w := cb.wait(r); w > 0 {
			return false, w
		}
	}
	if r := l.global[a]; r.set() {
		g := &l.ceil[a]
		g.refill(r, now)
		if w := g.wait(r); w > 0 {
			return false, w
		}
		g.tokens--
	}
	if cb != nil {
		cb.tokens--
	}
	return true, 0
}

// Ready reports whether client has a token of action a, without taking
// it: for work whose cost is known only afterwards (see Charge). Only the
// client's own bucket is asked.
func (l *Limiter) Ready(client netip.Addr, a Action) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rules[a]
	if !r.set() {
		return true, 0
	}
	now := l.now()
	c := l.find(client, now, false)
	if c == nil {
		return true, 0
	}
	b := &c.buckets[a]
	b.refill(r, now)
	if w := b.wait(r); w > 0 {
		return false, w
	}
	return true, 0
}

// Charge takes a token of action a from client even when that leaves the
// bucket in debt (down to minus its burst): requests that passed Ready
// together all pay, and a client that keeps failing waits longer.
func (l *Limiter) Charge(client netip.Addr, a Action) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.rules[a]
	if !r.set() {
		return
	}
	now := l.now()
	c := l.find(client, now, true)
	c.last = now
	b := &c.buckets[a]
	b.refill(r, now)
	b.tokens = math.Max(b.tokens-1, -float64(r.Burst))
}

// Refund gives back the token of action a that Allow took from client and
// from the action's ceiling, for work that turned out not to count (a
// log-in that succeeded). Neither bucket goes above its burst.
func (l *Limiter) Refund(client netip.Addr, a Action) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if r := l.rules[a]; r.set() {
		if c := l.find(client, now, false); c != nil {
			b := &c.buckets[a]
			b.refill(r, now)
			b.tokens = math.Min(b.tokens+1, float64(r.Burst))
		}
	}
	if r := l.global[a]; r.set() {
		g := &l.ceil[a]
		g.refill(r, now)
		g.tokens = math.Min(g.tokens+1, float64(r.Burst))
	}
}

// Hold counts one long-lived thing (a connection) against client's cap,
// Config.MaxHolds. It returns a release func, or false when the client
// holds its cap already. A held client is never forgotten while its
// holds last, though after two key periods without new requests a new
// request from it may start a fresh count.
func (l *Limiter) Hold(client netip.Addr) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxHold <= 0 {
		return func() {}, true
	}
	now := l.now()
	c := l.find(client, now, true)
	c.last = now
	if c.holds >= l.maxHold {
		return nil, false
	}
	c.holds++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			c.holds--
			c.last = l.now()
			if c.holds == 0 && c.gen+1 < l.gen {
				l.dropStale(c)
			}
		})
	}, true
}

// dropStale removes a client whose key is gone; its map key is unknown
// now, so it is looked up by pointer.
func (l *Limiter) dropStale(c *client) {
	for k, v := range l.clients {
		if v == c {
			delete(l.clients, k)
			return
		}
	}
}

// Len reports how many clients are tracked, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}
