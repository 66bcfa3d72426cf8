package vault

import (
	"errors"
	"strings"
	"testing"
)

func TestSurveyCodeRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewSurveyCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 14 || seen[c] {
			t.Fatalf("code %q: length %d or repeated", c, len(c))
		}
		seen[c] = true
		typed := strings.ToLower(strings.ReplaceAll(c, "-", " "))
		got, err := ParseSurveyCode(typed)
		if err != nil || got != c {
			t.Fatalf("ParseSurveyCode(%q) = %q, %v; want %q", typed, got, err, c)
		}
		// One changed character is always caught by the check character.
		b := []byte(c)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		if _, err := ParseSurveyCode(string(b)); !errors.Is(err, ErrSurveyCodeFormat) {
			t.Fatalf("typo %q accepted: %v", b, err)
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JK*N", "日本語"} {
		if _, err := ParseSurveyCode(bad); !errors.Is(err, ErrSurveyCodeFormat) {
			t.Errorf("ParseSurveyCode(%q) = %v, want a format error", bad, err)
		}
	}
}
