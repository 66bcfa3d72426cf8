package telegramsim

import (
	"testing"
	"unicode/utf16"
)

// TestUTF16Len: the length limits count what Telegram counts, UTF-16 code
// units, whatever the text holds (astral emoji are two, invalid bytes one).
func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "abc", "你好，世界", "👍🏽 ok", "a\xffb", "𝄞"} {
		if got, want := utf16Len(s), len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("utf16Len(%q): got %d, want %d", s, got, want)
		}
	}
}
