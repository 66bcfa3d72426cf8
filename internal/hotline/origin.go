package hotline

import (
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// Errors of CanonicalOrigin: each says what to change.
var (
	ErrOriginFormat = Errorf(EINVALID, "来源地址格式应为 https://主机名[:端口]，每行一个。", "An origin is https://host[:port], one per line.")
	ErrOriginScheme = Errorf(EINVALID, "来源地址必须以 https:// 开头（只有本机测试可以用 http://localhost）。", "An origin must start with https:// (http:// only for localhost tests).")
	ErrOriginExtra  = Errorf(EINVALID, "来源地址只写 https://主机名[:端口]，不要带路径、?、#、用户名或空格。", "An origin is only https://host[:port]: no path, ?, #, user name or spaces.")
	ErrOriginHost   = Errorf(EINVALID, "来源地址的主机名无效：只能用字母、数字、连字符和点（中文域名也可以）。", "The origin's host name is not valid: letters, digits, hyphens and dots (international names are fine).")
	ErrOriginPort   = Errorf(EINVALID, "来源地址的端口需为 1–65535。", "An origin's port is 1–65535.")
)

// idnaProfile maps a host as a browser does (case, full-width forms, the
// ideographic full stop), then checks it by the rules of DNS host names,
// so that nothing but letters, digits, hyphens and dots is left.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.VerifyDNSLength(true))

// CanonicalOrigin checks a web origin that may frame the chat (a school's
// site) and returns it as a browser sends it in the Origin header:
// "https://host" or "https://host:port", the scheme and host in lower
// case, an international host name in punycode, an IP address in its
// canonical form (IPv6 in brackets), a default port dropped. Only https
// is allowed, except http for loopback hosts (local tests). Anything else
// — a path, query, fragment, user info, spaces, characters that are not
// part of a host name — is refused with a message saying what to change,
// so the result is always safe to put into a Content-Security-Policy.
func CanonicalOrigin(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 300 {
		return "", ErrOriginFormat
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", ErrOriginFormat
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", ErrOriginScheme
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return "", ErrOriginFormat
	}
	for _, r := range rest {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("/?#@\\", r) {
			return "", ErrOriginExtra
		}
	}
	host, port, err := splitHostPort(rest)
	if err != nil {
		return "", err
	}
	host, loopback, err := canonicalHost(host)
	if err != nil {
		return "", err
	}
	if scheme == "http" && !loopback {
		return "", ErrOriginScheme
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || strings.ContainsAny(port, "+-") {
			return "", ErrOriginPort
		}
		if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
			port = ""
		}
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

// splitHostPort separates "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPort(hp string) (host, port string, err error) {
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", "", ErrOriginHost
		}
		host, after := hp[:end+1], hp[end+1:]
		if after == "" {
			return host, "", nil
		}
		if !strings.HasPrefix(after, ":") {
			return "", "", ErrOriginHost
		}
		return host, after[1:], nil
	}
	host, port, hasPort := strings.Cut(hp, ":")
	if hasPort && port == "" {
		return "", "", ErrOriginPort
	}
	if strings.Contains(port, ":") {
		return "", "", ErrOriginHost // an IPv6 address needs brackets
	}
	return host, port, nil
}

// canonicalHost returns the host as it appears in an origin, and whether
// it is this machine.
func canonicalHost(h string) (string, bool, error) {
	if strings.HasPrefix(h, "[") {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" || a.Is4In6() {
			return "", false, ErrOriginHost
		}
		return "[" + a.String() + "]", a.IsLoopback(), nil
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if !a.Is4() {
			return "", false, ErrOriginHost
		}
		return a.String(), a.IsLoopback(), nil
	}
	if strings.HasSuffix(h, ".") {
		return "", false, ErrOriginHost
	}
	ascii, err := idnaProfile.ToASCII(h)
	if err != nil || ascii == "" || strings.HasSuffix(ascii, ".") {
		return "", false, ErrOriginHost
	}
	// A browser reads a host whose last label is a number (0x1f, 1.2.3,
	// 010) as an IPv4 address; only the canonical form above is one.
	last := ascii[strings.LastIndexByte(ascii, '.')+1:]
	if last != "" && (last[0] >= '0' && last[0] <= '9') {
		return "", false, ErrOriginHost
	}
	return ascii, ascii == "localhost", nil
}
