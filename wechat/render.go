package wechat

import (
	"net/url"
	"strings"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
)

// WeChat limits a text message to 2048 bytes; parts stay under it.
const (
	maxPassive = 2000
	maxPart    = 2000
)

var (
	txtPhotoFailed = hotline.Label{ZH: "这张图片没有收到，请再发一次。", EN: "That picture did not come through. Please send it again."}
	txtUnsupported = hotline.Label{ZH: "这里可以收文字和图片。请用文字写下发生了什么，或者发图片。", EN: "This chat takes text and pictures. Please write what happened, or send a picture."}
)

// neutral keeps text that is not ours (a reporter's or a counselor's words)
// from being read by WeChat as a link: the angle brackets of markup become
// full-width ones, which look the same to a reader.
func neutral(s string) string {
	return strings.NewReplacer("<", "＜", ">", "＞").Replace(s)
}

// menuLink is a tappable choice in a WeChat text (消息菜单): tapping it
// sends its label back with bizmsgmenuid set to the choice's data.
func menuLink(b hotline.Button) string {
	label := neutral(b.Label)
	return `<a href="weixin://bizmsgmenu?msgmenucontent=` + url.QueryEscape(b.Label) + `&msgmenuid=` + url.QueryEscape(b.Data) + `">` + label + `</a>`
}

// replyText renders one reply: its text, then its buttons, a row per line.
func replyText(r dialog.Reply) string {
	var b strings.Builder
	b.WriteString(neutral(r.Text))
	for _, row := range r.Buttons {
		b.WriteString("\n")
		for i, btn := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(menuLink(btn))
		}
	}
	return b.String()
}

// render joins the replies into one passive text; a reply list with a
// photo cannot be one text, and renders as too long.
func render(replies []dialog.Reply) string {
	var parts []string
	for _, r := range replies {
		if r.Kind == dialog.ReplyReceipt {
			continue // web only: never sent to a messenger
		}
		if r.Photo != nil {
			return strings.Repeat(" ", maxPassive+1)
		}
		parts = append(parts, replyText(r))
	}
	return strings.Join(parts, "\n\n")
}

type part struct {
	text  string
	photo *hotline.Photo
}

// renderParts splits replies into customer-service messages: one per
// reply, long ones cut at line breaks under WeChat's limit.
func renderParts(replies []dialog.Reply) []part {
	var out []part
	for _, r := range replies {
		if r.Kind == dialog.ReplyReceipt {
			continue
		}
		if r.Photo != nil {
			out = append(out, part{photo: r.Photo})
			if r.Text == "" {
				continue
			}
		}
		for _, t := range splitText(replyText(r), maxPart) {
			out = append(out, part{text: t})
		}
	}
	return out
}

// splitText cuts s into parts of at most limit bytes, at a line break
// when there is one in the second half, never inside a character.
func splitText(s string, limit int) []string {
	var out []string
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		if i := strings.LastIndexByte(s[:cut], '\n'); i > limit/2 {
			cut = i + 1
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
