// Package throttle limits what one client, one network and all clients
// together can make the server do: token buckets per client and per
// action, optionally per network (a share of the ceiling), plus a ceiling
// per action over everyone.
//
// A client is known only by a keyed hash of its address (IPv4 address, or
// IPv6 /64), a network by one of its prefix (IPv4 /24, IPv6 /48), under a
// random key that is replaced every Config.Rotate; the
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
	// PerNetwork holds each action's bucket for one network (see
	// NetworkOf): the share of the ceiling that the clients of one
	// network may take together, so that a subscriber with a whole IPv6
	// /48 (65,536 /64s) or a rented IPv4 block cannot drain it alone.
	PerNetwork []Rule
	// MaxHolds caps what one client may hold at once (see Hold); zero:
	// no cap.
	MaxHolds int
	// MaxClients bounds the clients tracked, and separately the networks;
	// default 50 000 (about 300 B each with six actions, so some 15 MB).
	MaxClients int
	// Rotate is how often the hash key is replaced; default one hour.
	Rotate time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Limiter keeps the buckets. It is safe for concurrent use.
type Limiter struct {
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
	clients table
	nets    table
	ceil    []bucket
	sum     [sha256.Size]byte
}

// table is one kind of bucket holder: clients, or networks. Its ids are
// hashed from what key reduces an address to, under the Limiter's keys.
type table struct {
	rules []Rule
	m     map[id]*client
	key   func(netip.Addr) [17]byte
}

// id is the keyed hash of a client address (or network), truncated: 128
// bits leave no practical chance of two clients sharing buckets.
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
	n := max(len(c.PerClient), len(c.Global), len(c.PerNetwork))
	l := &Limiter{
		global:  pad(c.Global, n),
		max:     c.MaxClients,
		rotate:  c.Rotate,
		maxHold: c.MaxHolds,
		now:     c.Now,
		clients: table{rules: pad(c.PerClient, n), m: map[id]*client{}, key: key},
		nets:    table{rules: pad(c.PerNetwork, n), m: map[id]*client{}, key: netKey},
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
// The first byte keeps clients and networks apart.
func key(a netip.Addr) [17]byte {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	var k [17]byte
	k[0] = 'c'
	b := a.As16()
	copy(k[1:], b[:])
	return k
}

// NetworkOf is the network a client belongs to for PerNetwork limits: an
// IPv6 /48, the usual assignment to one site (65,536 /64s, so 65,536
// clients for the per-client limits), and an IPv4 /24, the smallest block
// routed on the Internet and so the least one party rents or holds; a
// school's staff behind one NAT address sit in one /24 with at most its
// neighbours, whose share they then split.
func NetworkOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bitsLen := 24
	if a.Is6() {
		bitsLen = 48
	}
	p, _ := a.Prefix(bitsLen)
	return p
}

func netKey(a netip.Addr) [17]byte {
	var k [17]byte
	k[0] = 'n'
	b := NetworkOf(a).Addr().As16()
	copy(k[1:], b[:])
	return k
}

func (l *Limiter) hashWith(h hash.Hash, t *table, a netip.Addr) id {
	k := t.key(a)
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
	for _, t := range []*table{&l.clients, &l.nets} {
		for k, c := range t.m {
			if c.gen+1 < l.gen && c.holds == 0 {
				delete(t.m, k)
			}
		}
	}
}

// find returns the client's (or network's) state in t, creating it if
// create is set; one found under the previous key moves to the current one.
func (l *Limiter) find(t *table, a netip.Addr, now time.Time, create bool) *client {
	l.rotateIfDue(now)
	k := l.hashWith(l.cur, t, a)
	if c := t.m[k]; c != nil {
		return c
	}
	if l.prev != nil {
		pk := l.hashWith(l.prev, t, a)
		if c := t.m[pk]; c != nil && c.gen+1 == l.gen {
			delete(t.m, pk)
			c.gen = l.gen
			t.m[k] = c
			return c
		}
	}
	if !create {
		return nil
	}
	if len(t.m) >= l.max {
		l.shrink(t, now)
	}
	c := &client{gen: l.gen, last: now, buckets: make([]bucket, len(t.rules))}
	t.m[k] = c
	return c
}

// shrink makes room in t: first it drops entries whose buckets have all
// refilled; if that is not a tenth of the table, the longest idle go.
func (l *Limiter) shrink(t *table, now time.Time) {
	target := l.max - l.max/10
	for k, c := range t.m {
		if c.holds == 0 && t.rested(c, now) {
			delete(t.m, k)
		}
	}
	if len(t.m) < target {
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
	for _, c := range t.m {
		if c.holds == 0 {
			hist[bin(c)]++
		}
	}
	excess := len(t.m) - target
	cut := 63
	for n := 0; cut > 0 && n+hist[cut] < excess; cut-- {
		n += hist[cut]
	}
	for k, c := range t.m {
		if excess <= 0 {
			break
		}
		if c.holds == 0 && bin(c) >= cut {
			delete(t.m, k)
			excess--
		}
	}
}

func (t *table) rested(c *client, now time.Time) bool {
	for i := range c.buckets {
		if t.rules[i].set() && !c.buckets[i].full(t.rules[i], now) {
			return false
		}
	}
	return true
}

// Allow takes one token of action a from client's bucket, one from its
// network's and one from the action's global ceiling. If any is empty it
// takes none and says how long to wait before trying again.
func (l *Limiter) Allow(client netip.Addr, a Action) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var take []*bucket
	for _, t := range []*table{&l.clients, &l.nets} {
		r := t.rules[a]
		if !r.set() {
			continue
		}
		c := l.find(t, client, now, true)
		c.last = now
		b := &c.buckets[a]
		b.refill(r, now)
		if w := b.wait(r); w > 0 {
			return false, w
		}
		take = append(take, b)
	}
	if r := l.global[a]; r.set() {
		g := &l.ceil[a]
		g.refill(r, now)
		if w := g.wait(r); w > 0 {
			return false, w
		}
		take = append(take, g)
	}
	for _, b := range take {
		b.tokens--
	}
	return true, 0
}

// Ready reports whether client has a token of action a, without taking
// it: for work whose cost is known only afterwards (see Charge). Only the
// client's own bucket is asked.
func (l *Limiter) Ready(client netip.Addr, a Action) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.clients.rules[a]
	if !r.set() {
		return true, 0
	}
	now := l.now()
	c := l.find(&l.clients, client, now, false)
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
	r := l.clients.rules[a]
	if !r.set() {
		return
	}
	now := l.now()
	c := l.find(&l.clients, client, now, true)
	c.last = now
	b := &c.buckets[a]
	b.refill(r, now)
	b.tokens = math.Max(b.tokens-1, -float64(r.Burst))
}

// Refund gives back the token of action a that Allow took from client,
// its network and the action's ceiling, for work that turned out not to
// count (a log-in that succeeded). No bucket goes above its burst.
func (l *Limiter) Refund(client netip.Addr, a Action) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, t := range []*table{&l.clients, &l.nets} {
		if r := t.rules[a]; r.set() {
			if c := l.find(t, client, now, false); c != nil {
				b := &c.buckets[a]
				b.refill(r, now)
				b.tokens = math.Min(b.tokens+1, float64(r.Burst))
			}
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
	c := l.find(&l.clients, client, now, true)
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
	for k, v := range l.clients.m {
		if v == c {
			delete(l.clients.m, k)
			return
		}
	}
}

// Len reports how many clients are tracked, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients.m)
}
