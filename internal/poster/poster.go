// Package poster owns a school's printed poster: what it says (Chinese
// first, English second), where its QR codes lead, and its A4 PNG, drawn
// in Go with an embedded subset of Noto Sans CJK SC so that a server with
// no browser and no system fonts prints the Chinese poster. The web chat
// serves the same texts and links as an HTML page (/poster/CODE).
//
// The poster must never carry anything about a reporter or a report: it is
// printed and hung in corridors.
package poster

import (
	"fmt"
	"net/url"
	"strings"

	"hotline/internal/hotline"
)

// Poster is what a school's poster says and links to.
type Poster struct {
	School     *hotline.School
	ChatURL    string // PUBLIC/c/CODE: the web chat
	MailboxURL string // PUBLIC/m/CODE: the form that works without JavaScript
	BotURL     string // https://t.me/BOT?start=CODE, or empty when the bot is unknown
	// Wechat is the QR code of the WeChat official account serving the
	// school, or nil: it is printed beside the others (or instead of the
	// Telegram one, where no bot is named).
	Wechat *WechatCode
}

// New returns the poster of school for a server at publicURL; botName is
// the Telegram bot's username (with or without "@"), or empty for none.
func New(school *hotline.School, publicURL, botName string) Poster {
	base := strings.TrimRight(publicURL, "/")
	code := url.PathEscape(school.Code)
	p := Poster{School: school, ChatURL: base + "/c/" + code, MailboxURL: base + "/m/" + code}
	if bot := strings.TrimPrefix(strings.TrimSpace(botName), "@"); bot != "" {
		p.BotURL = "https://t.me/" + url.PathEscape(bot) + "?start=" + url.QueryEscape(school.Code)
	}
	return p
}

// The poster's texts. The embedded fonts are cut to the characters of this
// package's sources (fonts/subset.sh): after changing a text, run it again;
// TestFontsCoverTheTexts says when it is needed.
var (
	// Title is the poster's heading.
	Title = hotline.Label{ZH: "被欺负了？看到有人被欺负？", EN: "Being bullied? Seen someone bullied?"}
	// Lead tells a student what to do.
	Lead = hotline.Label{ZH: "匿名告诉我们。扫码就能说，不用留名字。", EN: "Tell us anonymously. Scan a code; no name needed."}
	// Chat captions the web chat's QR code.
	Chat = hotline.Label{ZH: "网页聊天", EN: "Web chat"}
	// Bot captions the Telegram bot's QR code.
	Bot = hotline.Label{ZH: "Telegram 热线", EN: "Telegram"}
	// Mailbox introduces the address of the form, for those who cannot scan.
	Mailbox = hotline.Label{ZH: "不能扫码？在浏览器里打开这个地址，填表告诉我们：", EN: "Can't scan? Open this address in a browser and fill in the form:"}
	// Danger gives the numbers to call when waiting is not an option.
	Danger = hotline.Label{ZH: "有人现在有危险？马上打 110 报警，120 叫救护车。需要有人听你说：12355（青少年服务台）。", EN: "Someone in danger now? Call 110 (police) or 120 (ambulance) at once. Need someone to listen: 12355 (youth helpline)."}
)

// Lines say what happens to a report; the times are the school's own
// deadlines (Settings.Deadlines), so the poster promises what it does.
func (p Poster) Lines() []hotline.Label {
	dl := p.School.Settings.Deadlines.WithDefaults()
	times := hotline.Label{
		ZH: fmt.Sprintf(lineTimes.ZH, dl.FirstReply.In(hotline.LangZH), dl.AckUrgent.In(hotline.LangZH)),
		EN: fmt.Sprintf(lineTimes.EN, dl.FirstReply.In(hotline.LangEN), dl.AckUrgent.In(hotline.LangEN)),
	}
	return []hotline.Label{lineSealed, times, lineLedger}
}

var (
	lineSealed = hotline.Label{ZH: "你的报告会加密后直接送到学校的心理老师那里。老师只看到一个代号，不知道你是谁。", EN: "Your report goes, encrypted, straight to the school's counselors. They see only a nickname, never who you are."}
	lineTimes  = hotline.Label{ZH: "老师一般会在 %s内回复你；紧急情况，学校值班老师 %s内处理。", EN: "A counselor replies, usually within %s; in an emergency, the school's on-call staff act within %s."}
	lineLedger = hotline.Label{ZH: "每一份报告都会登记在案，区教育局会检查它是否得到及时处理。", EN: "Every report is recorded, and the district education bureau checks that it is handled on time."}
)

// Missing returns the characters of the school's names that the embedded
// font cannot draw (they print as an empty box), in order, each once; nil
// when the poster prints whole. The font holds all of GB 2312, so this is
// rare: a very uncommon character in a school's name.
func (p Poster) Missing() []rune {
	f, err := loadFonts()
	if err != nil {
		return nil
	}
	var missing []rune
	seen := map[rune]bool{}
	for _, r := range p.School.Name + p.School.Settings.NameEN {
		if seen[r] || r <= ' ' {
			continue
		}
		seen[r] = true
		if !f.has(f.regular, r) {
			missing = append(missing, r)
		}
	}
	return missing
}
