package webchat

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"hotline/internal/store"
)

// TestFrameAncestorsFromDatabaseRowsRevalidated: origins written to the
// database without settings validation reach the chat page's CSP only as
// canonical https origins.
func TestFrameAncestorsFromDatabaseRowsRevalidated(t *testing.T) {
	e := newEnv(t, nil)
	err := e.db.Update(context.Background(), func(tx *store.Tx) error {
		s, err := tx.SchoolByCode("no3")
		if err != nil {
			return err
		}
		s.Settings.AllowedOrigins = []string{"https://a.example.cn<x>", "https://例子.中国", "https://x.cn; script-src *", "http://plain.example.cn", "https://OK.example:443/"}
		return tx.UpdateSchool(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(e.ts.URL + "/c/no3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	_, fa, _ := strings.Cut(csp, "frame-ancestors ")
	if fa != "https://xn--fsqu00a.xn--fiqs8s https://ok.example" {
		t.Fatalf("frame-ancestors %q, want only the canonical https origins", fa)
	}
}
