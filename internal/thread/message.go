package thread

import (
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// MaxMessageRunes is the longest message, in characters: Telegram's limit
// (4096 UTF-16 units, so never more characters), so that no Telegram text
// is refused. The web forms keep their own, lower limit of 4000.
const MaxMessageRunes = 4096

// ValidateText checks one message, whoever writes it: valid UTF-8, not
// empty, not too long. It returns the text trimmed.
func ValidateText(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", hotline.ErrInvalidUTF8
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\x00", ""))
	if text == "" {
		return "", hotline.ErrEmptyMessage
	}
	if utf8.RuneCountInString(text) > MaxMessageRunes {
		return "", hotline.ErrTooLong
	}
	return text, nil
}
