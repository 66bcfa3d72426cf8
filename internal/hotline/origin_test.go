package hotline_test

import (
	"errors"
	"strings"
	"testing"

	"hotline/internal/hotline"
)

func TestCanonicalOrigin(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain", "https://school.example.cn", "https://school.example.cn"},
		{"upper case, spaces around, slash, port", " HTTPS://School.Example.CN:8443/ ", "https://school.example.cn:8443"},
		{"default port dropped", "https://school.example.cn:443", "https://school.example.cn"},
		{"IDN to punycode", "https://例子.中国", "https://xn--fsqu00a.xn--fiqs8s"},
		{"IDN with port", "https://例子.中国:8443", "https://xn--fsqu00a.xn--fiqs8s:8443"},
		{"ideographic full stop", "https://例子。中国", "https://xn--fsqu00a.xn--fiqs8s"},
		{"full-width letters", "https://ｓｃｈｏｏｌ.example.cn", "https://school.example.cn"},
		{"punycode as given", "https://xn--fsqu00a.xn--fiqs8s", "https://xn--fsqu00a.xn--fiqs8s"},
		{"mixed IDN label", "https://第一中学.edu.cn", "https://xn--4gq1d947bs34a.edu.cn"},
		{"IPv4", "https://192.0.2.1", "https://192.0.2.1"},
		{"IPv6 literal", "https://[2001:DB8:0:0::1]", "https://[2001:db8::1]"},
		{"IPv6 with port", "https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443"},
		{"http for localhost tests", "http://localhost:8080", "http://localhost:8080"},
		{"http for loopback", "http://127.0.0.1:5173", "http://127.0.0.1:5173"},
		{"http IPv6 loopback", "http://[::1]:80", "http://[::1]"},
		{"single-label intranet host", "https://intranet", "https://intranet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hotline.CanonicalOrigin(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("CanonicalOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			// Canonical is a fixed point.
			if again, err := hotline.CanonicalOrigin(got); err != nil || again != got {
				t.Fatalf("CanonicalOrigin(%q) = %q, %v; not a fixed point", got, again, err)
			}
		})
	}
	for _, tc := range []struct {
		name, in string
		want     *hotline.Error
	}{
		{"markup after the host", "https://a.example.cn<x>", hotline.ErrOriginHost},
		{"quote", `https://a.example.cn"`, hotline.ErrOriginHost},
		{"CSP separator", "https://a.example.cn;script-src", hotline.ErrOriginHost},
		{"comma", "https://a.example.cn,b.cn", hotline.ErrOriginHost},
		{"star", "https://*.example.cn", hotline.ErrOriginHost},
		{"percent", "https://a%2eexample.cn", hotline.ErrOriginHost},
		{"underscore", "https://a_b.example.cn", hotline.ErrOriginHost},
		{"empty label", "https://a..example.cn", hotline.ErrOriginHost},
		{"trailing dot", "https://example.cn.", hotline.ErrOriginHost},
		{"label too long", "https://" + strings.Repeat("a", 64) + ".cn", hotline.ErrOriginHost},
		{"numeric last label", "https://1.2.3", hotline.ErrOriginHost},
		{"hex last label", "https://example.0x1f", hotline.ErrOriginHost},
		{"IPv6 without brackets", "https://2001:db8::1", hotline.ErrOriginHost},
		{"IPv6 zone", "https://[fe80::1%25eth0]", hotline.ErrOriginHost},
		{"bracketed IPv4", "https://[192.0.2.1]", hotline.ErrOriginHost},
		{"unclosed bracket", "https://[2001:db8::1", hotline.ErrOriginHost},
		{"invalid punycode", "https://xn--a.example.cn", hotline.ErrOriginHost},
		{"bidi mix", "https://a\u05d0.example.cn", hotline.ErrOriginHost},
		{"http elsewhere", "http://school.example.cn", hotline.ErrOriginScheme},
		{"http on a public IP", "http://192.0.2.1", hotline.ErrOriginScheme},
		{"ftp", "ftp://school.example.cn", hotline.ErrOriginScheme},
		{"javascript", "javascript://alert(1)", hotline.ErrOriginScheme},
		{"no scheme", "school.example.cn", hotline.ErrOriginFormat},
		{"scheme only", "https://", hotline.ErrOriginFormat},
		{"empty", "   ", hotline.ErrOriginFormat},
		{"path", "https://school.example.cn/chat", hotline.ErrOriginExtra},
		{"two slashes", "https://school.example.cn//", hotline.ErrOriginExtra},
		{"query", "https://school.example.cn?x=1", hotline.ErrOriginExtra},
		{"bare question mark", "https://school.example.cn?", hotline.ErrOriginExtra},
		{"fragment", "https://school.example.cn#top", hotline.ErrOriginExtra},
		{"bare hash", "https://school.example.cn#", hotline.ErrOriginExtra},
		{"user info", "https://u:p@school.example.cn", hotline.ErrOriginExtra},
		{"inner space", "https://school .example.cn", hotline.ErrOriginExtra},
		{"tab", "https://school.example.cn\t:443", hotline.ErrOriginExtra},
		{"newline", "https://a.cn\nhttps://b.cn", hotline.ErrOriginExtra},
		{"backslash", `https://a.cn\@b.cn`, hotline.ErrOriginExtra},
		{"port too big", "https://x.cn:99999", hotline.ErrOriginPort},
		{"port zero", "https://x.cn:0", hotline.ErrOriginPort},
		{"port leading zero", "https://x.cn:0443", hotline.ErrOriginPort},
		{"port sign", "https://x.cn:+443", hotline.ErrOriginPort},
		{"port letters", "https://x.cn:https", hotline.ErrOriginPort},
		{"empty port", "https://x.cn:", hotline.ErrOriginPort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hotline.CanonicalOrigin(tc.in)
			if err == nil {
				t.Fatalf("CanonicalOrigin(%q) = %q, want an error", tc.in, got)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("CanonicalOrigin(%q): %q, want %q", tc.in, hotline.ErrorMessage(err, hotline.LangEN), tc.want.Message.EN)
			}
			if hotline.ErrorCode(err) != hotline.EINVALID || hotline.ErrorMessage(err, hotline.LangZH) == "" {
				t.Fatalf("CanonicalOrigin(%q): %v, want an invalid-input error with a message", tc.in, err)
			}
		})
	}
}
