package telegramsim

import (
	"fmt"
	"strconv"
	"strings"
)

// htmlTags are the tags Telegram accepts with parse_mode=HTML.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true,
}

var htmlEntities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`, "apos": "'", "nbsp": "\u00a0"}

// checkHTML validates Telegram-flavoured HTML and returns the plain text, or
// an error description in Telegram's wording.
func checkHTML(src string) (string, string) {
	var b strings.Builder
	var stack []string
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '<':
			j := strings.IndexByte(src[i:], '>')
			if j < 0 {
				return "", fmt.Sprintf("Unclosed start tag at byte offset %d", i)
			}
			tag := src[i+1 : i+j]
			if strings.HasPrefix(tag, "/") {
				name := strings.ToLower(strings.TrimSpace(tag[1:]))
				if len(stack) == 0 {
					return "", fmt.Sprintf("Unexpected end tag at byte offset %d", i)
				}
				if top := stack[len(stack)-1]; name != top {
					return "", fmt.Sprintf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top, name)
				}
				stack = stack[:len(stack)-1]
			} else {
				name := tag
				if k := strings.IndexAny(name, " \t\n/"); k >= 0 {
					name = name[:k]
				}
				name = strings.ToLower(name)
				if name == "" {
					return "", fmt.Sprintf("Empty tag name at byte offset %d", i)
				}
				if !htmlTags[name] {
					return "", fmt.Sprintf("Unsupported start tag \"%s\" at byte offset %d", name, i)
				}
				stack = append(stack, name)
			}
			i += j + 1
		case '&':
			if j := strings.IndexByte(src[i:], ';'); j > 1 && j <= 10 {
				ent := src[i+1 : i+j]
				if v, ok := htmlEntities[ent]; ok {
					b.WriteString(v)
					i += j + 1
					continue
				}
				if strings.HasPrefix(ent, "#") {
					num, base := ent[1:], 10
					if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
						num, base = num[1:], 16
					}
					if n, err := strconv.ParseUint(num, base, 32); err == nil {
						b.WriteRune(rune(n))
						i += j + 1
						continue
					}
				}
			}
			b.WriteByte('&')
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Sprintf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1])
	}
	return b.String(), ""
}
