package throttle

import (
	"net/http/httptest"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

const (
	actRead Action = iota
	actGuess
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newClock() *clock { return &clock{time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)} }

var (
	alice = netip.MustParseAddr("203.0.113.7")
	bob   = netip.MustParseAddr("198.51.100.9")
)

func take(l *Limiter, a netip.Addr, act Action) int {
	n := 0
	for n < 1000 {
		if ok, _ := l.Allow(a, act); !ok {
			break
		}
		n++
	}
	return n
}

// TestPerClientBuckets: each client has its own bucket per action; an empty
// one says how long to wait and refills on the clock; a step back gives
// nothing.
func TestPerClientBuckets(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{actRead: {Rate: 2, Burst: 3}, actGuess: {Rate: 0.1, Burst: 2}}, Now: c.now})
	if got := take(l, alice, actRead); got != 3 {
		t.Fatalf("alice's fresh read bucket allowed %d, want 3", got)
	}
	if ok, wait := l.Allow(alice, actRead); ok || wait != 500*time.Millisecond {
		t.Fatalf("empty bucket: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if got := take(l, bob, actRead); got != 3 {
		t.Fatalf("bob allowed %d after alice emptied hers, want 3", got)
	}
	if got := take(l, alice, actGuess); got != 2 {
		t.Fatalf("alice's guess bucket allowed %d after her reads, want 2", got)
	}
	c.t = c.t.Add(time.Second)
	if got := take(l, alice, actRead); got != 2 {
		t.Fatalf("after 1s at 2/s allowed %d, want 2", got)
	}
	c.t = c.t.Add(-time.Minute)
	if got := take(l, alice, actRead); got != 0 {
		t.Fatalf("after the clock stepped back allowed %d, want 0", got)
	}
}

// TestGlobalCeiling: the ceiling holds over all clients together, and a
// client refused by its own bucket spends nothing of the ceiling.
func TestGlobalCeiling(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{{Rate: 0, Burst: 2}}, Global: []Rule{{Rate: 0, Burst: 5}}, Now: c.now})
	for i := range 10 {
		l.Allow(alice, 0) // 2 pass, 8 refused by alice's own bucket
		_ = i
	}
	if got := take(l, bob, 0); got != 2 {
		t.Fatalf("bob allowed %d, want his burst 2", got)
	}
	carol := netip.MustParseAddr("192.0.2.1")
	if got := take(l, carol, 0); got != 1 {
		t.Fatalf("carol allowed %d, want the 1 left of the ceiling 5", got)
	}
	if ok, wait := l.Allow(netip.MustParseAddr("192.0.2.2"), 0); ok || wait <= 0 {
		t.Fatalf("spent ceiling: %v %v, want refused with a wait", ok, wait)
	}
}

// TestReadyAndCharge: Ready takes nothing; Charge takes even into debt, so
// concurrent failures all pay.
func TestReadyAndCharge(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{actRead: {}, actGuess: {Rate: 1, Burst: 2}}, Now: c.now})
	for range 5 {
		if ok, _ := l.Ready(alice, actGuess); !ok {
			t.Fatal("Ready refused a fresh client")
		}
	}
	for range 4 {
		l.Charge(alice, actGuess)
	}
	ok, wait := l.Ready(alice, actGuess)
	if ok || wait != 3*time.Second {
		t.Fatalf("after 4 charges of burst 2: %v, wait %v; want refused for 3s", ok, wait)
	}
	for range 100 {
		l.Charge(alice, actGuess)
	}
	if _, wait := l.Ready(alice, actGuess); wait != 3*time.Second {
		t.Fatalf("debt beyond minus the burst: wait %v, want 3s", wait)
	}
	if ok, _ := l.Ready(bob, actGuess); !ok {
		t.Fatal("alice's debt reached bob")
	}
	if ok, _ := l.Allow(alice, actRead); !ok {
		t.Fatal("an unlimited action was refused")
	}
}

// TestRefund: a refunded token is back for the client and the ceiling,
// never above the burst.
func TestRefund(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{{Rate: 0, Burst: 2}}, Global: []Rule{{Rate: 0, Burst: 3}}, Now: c.now})
	for range 5 {
		if ok, _ := l.Allow(alice, 0); !ok {
			t.Fatal("refunded attempts were refused")
		}
		l.Refund(alice, 0)
	}
	l.Refund(alice, 0)
	l.Refund(bob, 0)
	if got := take(l, alice, 0); got != 2 {
		t.Fatalf("after refunds alice got %d, want her burst 2", got)
	}
	if got := take(l, bob, 0); got != 1 {
		t.Fatalf("bob got %d, want the 1 left of the ceiling 3", got)
	}
}

// TestNetworkShare: the clients of one network (an IPv6 /48, an IPv4 /24)
// take together at most the network's share of the ceiling, however many
// /64s or addresses they use; other networks keep the rest; a refund goes
// back to the network too.
func TestNetworkShare(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{{Rate: 0, Burst: 10}}, PerNetwork: []Rule{{Rate: 0, Burst: 25}}, Global: []Rule{{Rate: 0, Burst: 100}}, Now: c.now})
	got := 0
	for i := range 300 { // 300 /64s of 2001:db8:7::/48
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 7, byte(i >> 8), byte(i), 15: 1})
		got += take(l, a, 0)
	}
	if got != 25 {
		t.Fatalf("300 /64s of one /48 took %d, want its share 25", got)
	}
	got = 0
	for i := range 50 { // 50 addresses of one /24
		got += take(l, netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 0)
	}
	if got != 25 {
		t.Fatalf("50 addresses of one /24 took %d, want its share 25", got)
	}
	if got := take(l, netip.MustParseAddr("2001:db8:8::1"), 0); got != 10 {
		t.Fatalf("a client of another /48 took %d, want its own burst 10", got)
	}
	first := netip.MustParseAddr("2001:db8:7::1")
	l.Refund(first, 0)
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:7:ffff::1"), 0); !ok {
		t.Fatal("a refund did not go back to the network's share")
	}
	for _, tc := range []struct{ addr, want string }{
		{"203.0.113.77", "203.0.113.0/24"},
		{"::ffff:203.0.113.77", "203.0.113.0/24"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"},
	} {
		if got := NetworkOf(netip.MustParseAddr(tc.addr)).String(); got != tc.want {
			t.Errorf("NetworkOf(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestKeyRotates: the hash key changes every period; a client's buckets
// follow it across one change, and a client unseen for two periods is
// forgotten.
func TestKeyRotates(t *testing.T) {
	c := newClock()
	l := New(Config{PerClient: []Rule{{Rate: 1.0 / 3600, Burst: 3}}, Rotate: time.Hour, Now: c.now})
	take(l, alice, 0)
	before := l.hashWith(l.cur, &l.clients, alice)
	c.t = c.t.Add(61 * time.Minute)
	if ok, _ := l.Allow(alice, 0); !ok {
		t.Fatal("an hour refilled nothing")
	}
	after := l.hashWith(l.cur, &l.clients, alice)
	if before == after {
		t.Fatal("the key did not rotate after an hour")
	}
	if _, ok := l.clients.m[before]; ok {
		t.Fatal("alice is still kept under the old key's hash")
	}
	if got := take(l, alice, 0); got != 0 {
		t.Fatalf("after rotation alice got %d more, want 0: her bucket must follow her", got)
	}
	take(l, bob, 0)
	c.t = c.t.Add(61 * time.Minute)
	l.Allow(bob, 0)
	c.t = c.t.Add(61 * time.Minute)
	l.Allow(bob, 0)
	if n := l.Len(); n != 1 {
		t.Fatalf("after two periods without alice %d clients tracked, want bob only", n)
	}
	if l.gen != 3 {
		t.Fatalf("generation %d, want 3 rotations", l.gen)
	}
}

// TestMemoryBounded: 60 000 distinct addresses leave at most MaxClients
// tracked and a bounded heap; the global ceiling still holds.
func TestMemoryBounded(t *testing.T) {
	c := newClock()
	const maxClients = 5_000
	l := New(Config{PerClient: []Rule{{Rate: 0.01, Burst: 5}, {Rate: 0.01, Burst: 5}}, Global: []Rule{{Rate: 1000, Burst: 1000}}, MaxClients: maxClients, Now: c.now})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	allowed := 0
	for i := range 60_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if ok, _ := l.Allow(a, 0); ok {
			allowed++
		}
		l.Charge(a, 1)
		if i%200 == 0 {
			c.t = c.t.Add(time.Millisecond)
		}
		if n := len(l.clients.m); n > maxClients {
			t.Fatalf("%d clients tracked after %d addresses, want at most %d", n, i+1, maxClients)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Fatalf("heap grew %d MiB for %d clients, want under 8", grew>>20, maxClients)
	}
	// The clock moved less than a second: at most the burst of 1000 plus 1000/s.
	if allowed > 2001 {
		t.Fatalf("%d allowed past a global ceiling of 1000 + 1000/s", allowed)
	}
}

// TestIPv6SharesSlash64: the addresses of one /64 are one client.
func TestIPv6SharesSlash64(t *testing.T) {
	l := New(Config{PerClient: []Rule{{Rate: 0, Burst: 2}}})
	take(l, netip.MustParseAddr("2001:db8:1:2::1"), 0)
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:2:ffff::9"), 0); ok {
		t.Fatal("another address of the same /64 got a fresh bucket")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:3::1"), 0); !ok {
		t.Fatal("another /64 was refused")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("::ffff:192.0.2.1"), 0); !ok {
		t.Fatal("a mapped IPv4 address was refused")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.1"), 0); !ok {
		t.Fatal("192.0.2.1 refused after one use as a mapped address; burst is 2")
	}
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.1"), 0); ok {
		t.Fatal("a mapped IPv4 address and its plain form are different clients")
	}
}

// TestHolds: a client holds at most MaxHolds; releasing frees one, twice
// frees nothing more.
func TestHolds(t *testing.T) {
	l := New(Config{PerClient: []Rule{{}}, MaxHolds: 2})
	r1, ok1 := l.Hold(alice)
	_, ok2 := l.Hold(alice)
	_, ok3 := l.Hold(alice)
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("holds %v %v %v, want two then refused", ok1, ok2, ok3)
	}
	if _, ok := l.Hold(bob); !ok {
		t.Fatal("bob refused for alice's holds")
	}
	r1()
	r1()
	if _, ok := l.Hold(alice); !ok {
		t.Fatal("a released hold was not freed")
	}
	if _, ok := l.Hold(alice); ok {
		t.Fatal("a release called twice freed two holds")
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := ParsePrefixes(" 10.0.0.0/8, 192.0.2.10 ,")
	if err != nil || len(trusted) != 2 {
		t.Fatalf("ParsePrefixes: %v %v", trusted, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		name, remote, header string
		xff                  []string
		want                 string
	}{
		{"direct client", "203.0.113.7:5555", "", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5555", "", []string{"1.2.3.4"}, "203.0.113.7"},
		{"trusted proxy", "10.1.2.3:80", "", []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-written entries left of the hop are not read", "10.1.2.3:80", "", []string{"1.2.3.4, 203.0.113.7"}, "203.0.113.7"},
		{"a chain of our proxies", "10.1.2.3:80", "", []string{"1.2.3.4, 203.0.113.7, 192.0.2.10", "10.9.9.9"}, "203.0.113.7"},
		{"garbage at the hop: the proxy", "10.1.2.3:80", "", []string{"203.0.113.7, nonsense"}, "10.1.2.3"},
		{"no header: the proxy", "10.1.2.3:80", "", nil, "10.1.2.3"},
		{"X-Real-IP", "10.1.2.3:80", "X-Real-IP", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 peer", "[2001:db8::5]:443", "", nil, "2001:db8::5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			h := tc.header
			if h == "" {
				h = "X-Forwarded-For"
			}
			for _, v := range tc.xff {
				r.Header.Add(h, v)
			}
			got := ClientIP{Trusted: trusted, Header: tc.header}.Of(r)
			if got.String() != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// The --trusted-proxy rule: a request from a trusted address is attributed
// to whatever its header names. Trusting a network that holds clients lets
// each of them pick a fresh address per request (and so a fresh bucket);
// trusting only the proxy keeps them to their own. Wide names the first.
func TestTrustOnlyTheProxies(t *testing.T) {
	r := httptest.NewRequest("POST", "/inbox/login", nil)
	r.RemoteAddr = "10.20.30.40:5555" // a client on the office network, no proxy in between
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	wide := ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	if got := wide.Of(r); got.String() != "198.51.100.1" {
		t.Fatalf("trusting 10.0.0.0/8: the client is %s, want the address it chose (the danger this test documents)", got)
	}
	if w := wide.Wide(); len(w) != 1 {
		t.Fatalf("Wide() of 10.0.0.0/8 = %v", w)
	}
	narrow := ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("2001:db8::5/128"), netip.MustParsePrefix("10.0.1.0/24")}}
	if got := narrow.Of(r); got.String() != "10.20.30.40" {
		t.Fatalf("trusting only the proxy: the client is %s, want its own address", got)
	}
	if w := narrow.Wide(); len(w) != 0 {
		t.Fatalf("Wide() of single proxies and a /24 = %v, want none", w)
	}
	if w := (ClientIP{Trusted: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}}).Wide(); len(w) != 1 {
		t.Fatalf("Wide() of an IPv6 /32 = %v", w)
	}
}
