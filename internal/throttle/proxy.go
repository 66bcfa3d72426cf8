package throttle

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP finds the address of the client that sent a request. By
// default it is the TCP peer (RemoteAddr). Behind a reverse proxy, list
// the proxy's addresses in Trusted: a request from one of them is
// attributed to the address its Header names (the nearest hop that is not
// itself trusted), and the header is ignored from anyone else, so a
// client cannot pick its own address.
type ClientIP struct {
	Trusted []netip.Prefix
	// Header is the proxy's forwarding header; default X-Forwarded-For.
	// A single-address header such as X-Real-IP works too.
	Header string
}

// Of returns the client address of r; the zero Addr if RemoteAddr is not
// an address (all such requests then share one client).
func (c ClientIP) Of(r *http.Request) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !c.trusted(peer) {
		return peer
	}
	name := c.Header
	if name == "" {
		name = "X-Forwarded-For"
	}
	vals := r.Header.Values(name)
	// The nearest hop is rightmost: walk from the right past our own
	// proxies; what a client wrote itself is further left and never read.
	for i := len(vals) - 1; i >= 0; i-- {
		parts := strings.Split(vals[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return peer
			}
			a = a.Unmap()
			if !c.trusted(a) {
				return a
			}
			peer = a
		}
	}
	return peer
}

// Wide returns the trusted prefixes wide enough to hold clients as well
// as proxies: an IPv4 prefix shorter than /24 or an IPv6 one shorter than
// /64. Any host inside a trusted prefix may name its own address in the
// header, so a client there chooses which buckets it spends: list only the
// proxies themselves.
func (c ClientIP) Wide() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range c.Trusted {
		if (p.Addr().Is4() && p.Bits() < 24) || (p.Addr().Is6() && p.Bits() < 64) {
			out = append(out, p)
		}
	}
	return out
}

func (c ClientIP) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range c.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func parseHost(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(remote)
	return a.Unmap()
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes or single
// addresses (the --trusted-proxy flag); an empty string is an empty list.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
