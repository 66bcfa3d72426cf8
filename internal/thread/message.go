package thread

import (
	"strings"
	"unicode/utf8"

	"hotline/internal/hotline"
)

// MaxMessageRunes is the longest message, in characters.
const MaxMessageRunes = 4000

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
