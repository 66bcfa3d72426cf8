package webchat

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"hotline/internal/hotline"
)

// Poster is what a school's poster says and links to.
type Poster struct {
	School  *hotline.School
	ChatURL string // PUBLIC/c/CODE
	BotURL  string // https://t.me/BOT?start=CODE, or empty when the bot is unknown
}

// NewPoster returns the poster of school for a server at publicURL.
func NewPoster(school *hotline.School, publicURL, botName string) Poster {
	p := Poster{School: school, ChatURL: strings.TrimRight(publicURL, "/") + "/c/" + url.PathEscape(school.Code)}
	if bot := strings.TrimPrefix(strings.TrimSpace(botName), "@"); bot != "" {
		p.BotURL = "https://t.me/" + url.PathEscape(bot) + "?start=" + url.QueryEscape(school.Code)
	}
	return p
}

// posterLines are the three lines on what happens to a report.
var posterLines = []hotline.Label{
	{ZH: "你的报告会加密后直接送到学校的心理老师那里。老师只看到一个代号，不知道你是谁。", EN: "Your report goes, encrypted, straight to the school's counselors. They see only a nickname, never who you are."},
	{ZH: "老师一般会在 24 小时内回复你；有人有危险时，会马上处理。", EN: "A counselor replies, usually within 24 hours; if someone is in danger, at once."},
	{ZH: "每一份报告都会登记在案，区教育局会检查它是否得到及时处理。", EN: "Every report is recorded, and the district education bureau checks that it is handled on time."},
}

var (
	posterTitle  = hotline.Label{ZH: "被欺负了？看到有人被欺负？", EN: "Being bullied? Seen someone bullied?"}
	posterLead   = hotline.Label{ZH: "匿名告诉我们。扫码就能说，不用留名字。", EN: "Tell us anonymously. Scan a code; no name needed."}
	posterChat   = hotline.Label{ZH: "网页聊天", EN: "Web chat"}
	posterBot    = hotline.Label{ZH: "Telegram 热线", EN: "Telegram"}
	posterDanger = hotline.Label{ZH: "有人现在有危险？马上打 110。需要有人听你说：12355。", EN: "Someone in danger now? Call 110 at once. Need someone to listen: 12355."}
)

func (s *Server) handlePoster(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	school := s.school(w, r, lang)
	if school == nil {
		return
	}
	s.secure(w, "")
	w.Header().Set("Cache-Control", "public, max-age=300")
	p := NewPoster(school, s.PublicURL, s.BotName)
	var lines []hotline.Label
	lines = append(lines, posterLines...)
	data := struct {
		Poster
		Title, Lead, Chat, Bot, Danger hotline.Label
		Lines                          []hotline.Label
	}{p, posterTitle, posterLead, posterChat, posterBot, posterDanger, lines}
	s.render(w, http.StatusOK, "poster.html", page{Lang: lang, School: school, Title: posterTitle.ZH + " · " + school.Name, Data: data}.fill())
}

// handlePosterQR serves the poster's QR codes as PNG.
func (s *Server) handlePosterQR(w http.ResponseWriter, r *http.Request) {
	school, err := s.Schools.SchoolByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	p := NewPoster(school, s.PublicURL, s.BotName)
	target := p.ChatURL
	switch r.PathValue("which") {
	case "chat.png":
	case "bot.png":
		target = p.BotURL
	default:
		target = ""
	}
	if target == "" {
		http.NotFound(w, r)
		return
	}
	b, err := qrcode.Encode(target, qrcode.Medium, 512)
	if err != nil {
		http.Error(w, "qr", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// PNG draws the poster as an A4 image at 150 dpi (1240×1754) without a
// browser: the QR codes, the school's code and the English lines, in the
// built-in bitmap font, scaled. Go's standard library cannot draw Chinese
// glyphs without a font parser we do not ship, so `hotline poster` prefers
// a headless Chromium rendering of the HTML poster and falls back to this.
func (p Poster) PNG() ([]byte, error) {
	const W, H, margin = 1240, 1754, 90
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	blue := color.RGBA{0x1f, 0x5f, 0xa8, 0xff}
	red := color.RGBA{0x7a, 0x1f, 0x12, 0xff}
	y := margin
	// text draws s at scale (1 = 7×13 px cells), wrapped to width.
	text := func(scale int, c color.Color, s string, x, width int) {
		f := basicfont.Face7x13
		for _, line := range wrapText(f, s, width/scale) {
			small := image.NewRGBA(image.Rect(0, 0, font.MeasureString(f, line).Ceil()+1, 16))
			d := &font.Drawer{Dst: small, Src: image.NewUniform(c), Face: f, Dot: fixed.P(0, 12)}
			d.DrawString(line)
			b := small.Bounds()
			dst := image.Rect(x, y, x+b.Dx()*scale, y+b.Dy()*scale)
			xdraw.NearestNeighbor.Scale(img, dst, small, b, draw.Over, nil)
			y += 16 * scale
		}
	}
	width := W - 2*margin
	text(5, blue, posterTitle.EN, margin, width)
	y += 20
	text(4, color.Black, p.School.DisplayName(hotline.LangEN)+" ("+p.School.Code+")", margin, width)
	text(3, color.Black, posterLead.EN, margin, width)
	y += 40
	type code struct {
		label hotline.Label
		url   string
	}
	codes := []code{{posterChat, p.ChatURL}}
	if p.BotURL != "" {
		codes = append(codes, code{posterBot, p.BotURL})
	}
	const qrSize = 440
	gap := (W - len(codes)*qrSize) / (len(codes) + 1)
	top, bottom := y, y
	for i, c := range codes {
		q, err := qrcode.New(c.url, qrcode.Medium)
		if err != nil {
			return nil, err
		}
		x := gap + i*(qrSize+gap)
		draw.Draw(img, image.Rect(x, top, x+qrSize, top+qrSize), q.Image(qrSize), image.Point{}, draw.Src)
		y = top + qrSize
		text(3, color.Black, c.label.EN, x, qrSize)
		text(2, color.Gray{0x44}, c.url, x, qrSize)
		bottom = max(bottom, y)
	}
	y = bottom + 40
	for i, l := range posterLines {
		text(3, color.Black, string(rune('1'+i))+". "+l.EN, margin, width)
		y += 14
	}
	y = max(y+30, H-margin-160)
	draw.Draw(img, image.Rect(margin, y, W-margin, y+6), image.NewUniform(red), image.Point{}, draw.Src)
	y += 20
	text(3, red, posterDanger.EN, margin, width)
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// wrapText breaks s into lines that fit width: between words for English,
// between any two characters for Chinese.
func wrapText(f font.Face, s string, width int) []string {
	var lines []string
	var line []rune
	lastSpace := -1
	for _, r := range s {
		line = append(line, r)
		if r == ' ' {
			lastSpace = len(line) - 1
		}
		if font.MeasureString(f, string(line)).Ceil() <= width {
			continue
		}
		cut := len(line) - 1
		if lastSpace > 0 && r < 0x2E80 {
			cut = lastSpace + 1
		}
		lines = append(lines, strings.TrimSpace(string(line[:cut])))
		line = append([]rune(nil), line[cut:]...)
		lastSpace = -1
		for i, r := range line {
			if r == ' ' {
				lastSpace = i
			}
		}
	}
	if len(line) > 0 {
		lines = append(lines, strings.TrimSpace(string(line)))
	}
	return lines
}
