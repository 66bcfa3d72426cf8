package wechat

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// /wechat/{name} answers a name no account has exactly as it answers a
// forged request to a real account (the same status and body, after the
// same signature check), so the URL does not tell which accounts exist;
// a real account still answers its own signed check.
func TestUnknownAccountAnswersLikeAForgedRequest(t *testing.T) {
	r := newRig(t)
	s := r.node()
	h := s.Handler()
	ts := strconv.FormatInt(r.clock.Now().Unix(), 10)
	do := func(method, name, query, body string) (int, string) {
		req := httptest.NewRequest(method, "/wechat/"+name+"?"+query, strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	forged := "signature=0123&timestamp=" + ts + "&nonce=42&echostr=hello&encrypt_type=aes&msg_signature=99"
	for _, method := range []string{"GET", "POST"} {
		body := "<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>"
		ks, kb := do(method, r.acct.Name, forged, body)
		before := s.refused.Load()
		us, ub := do(method, "no-such-account", forged, body)
		if ks != http.StatusForbidden || us != ks || ub != kb {
			t.Fatalf("%s: a real account's forged request %d %q, an unknown account's %d %q; want the same 403", method, ks, kb, us, ub)
		}
		if s.refused.Load() != before+1 {
			t.Fatalf("%s: the unknown account's request was not counted as refused", method)
		}
	}
	// The checks still work: 公众平台's signed check of the real account.
	sig := signature(r.acct.Token, ts, "42")
	if st, b := do("GET", r.acct.Name, "signature="+sig+"&timestamp="+ts+"&nonce=42&echostr=hello", ""); st != http.StatusOK || b != "hello" {
		t.Fatalf("signed echo check: %d %q", st, b)
	}
	if st, _ := do("GET", "no-such-account", "signature="+sig+"&timestamp="+ts+"&nonce=42&echostr=hello", ""); st != http.StatusForbidden {
		t.Fatalf("a real account's signature on an unknown name: %d, want 403", st)
	}
}
