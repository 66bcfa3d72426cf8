package poster

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"hotline/internal/hotline"
)

// The page: A4 at 150 dpi, the resolution print shops and office printers
// expect of a poster, and what the HTML poster's print style lays out.
const (
	Width, Height = 1240, 1754 // pixels
	dpi           = 150
)

// mm and pt convert print units to pixels on the page.
func mm(v float64) float64 { return v * dpi / 25.4 }
func pt(v float64) float64 { return v * dpi / 72 }

var (
	blue      = color.RGBA{0x1f, 0x5f, 0xa8, 0xff}
	ink       = color.RGBA{0x11, 0x11, 0x11, 0xff}
	english   = color.RGBA{0x33, 0x33, 0x33, 0xff}
	gray      = color.RGBA{0x44, 0x44, 0x44, 0xff}
	red       = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	darkRed   = color.RGBA{0x7a, 0x1f, 0x12, 0xff}
	pageColor = color.White
)

// style is one kind of text on the poster, sized as the HTML poster's CSS.
type style struct {
	size    float64 // points, at scale 1
	bold    bool
	color   color.Color
	center  bool
	leading float64 // line height over size
}

var (
	titleZH   = style{size: 34, bold: true, color: blue, leading: 1.25}
	titleEN   = style{size: 18, bold: true, color: english, leading: 1.3}
	schoolZH  = style{size: 22, color: ink, leading: 1.35}
	schoolEN  = style{size: 15, color: english, leading: 1.35}
	bodyZH    = style{size: 14, color: ink, leading: 1.5}
	bodyEN    = style{size: 12, color: english, leading: 1.4}
	caption   = style{size: 12, bold: true, color: ink, center: true, leading: 1.5}
	urlText   = style{size: 10, color: gray, center: true, leading: 1.35}
	mailboxAt = style{size: 15, bold: true, color: blue, leading: 1.4}
	listZH    = style{size: 12.5, color: ink, leading: 1.5}
	listEN    = style{size: 11, color: english, leading: 1.4}
	dangerZH  = style{size: 14, bold: true, color: darkRed, leading: 1.5}
	dangerEN  = style{size: 12, bold: true, color: darkRed, leading: 1.4}
)

// PNG draws the poster as an A4 PNG at 150 dpi (1240×1754): Chinese first,
// English second, the school's name, the QR codes with their addresses,
// the form's address, what happens to a report and the numbers to call.
func (p Poster) PNG() ([]byte, error) {
	img, err := p.Image()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Image draws the poster; see PNG.
func (p Poster) Image() (*image.RGBA, error) {
	img, _, err := p.draw()
	return img, err
}

// draw lays the poster out at the largest scale at which it fits the page
// (a long school name or address shrinks everything a little rather than
// being cut off), then draws it. It also returns where each line went.
func (p Poster) draw() (*image.RGBA, []placed, error) {
	c, err := p.render()
	if err != nil {
		return nil, nil, err
	}
	return c.dst, c.placed, nil
}

// render is draw, returning the whole canvas.
func (p Poster) render() (*canvas, error) {
	fonts, err := loadFonts()
	if err != nil {
		return nil, err
	}
	scale := 1.0
	for ; scale > 0.5; scale -= 0.05 {
		c := &canvas{fonts: fonts, scale: scale}
		fits, err := c.layout(p)
		if err != nil {
			return nil, err
		}
		if fits {
			break
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(pageColor), image.Point{}, draw.Src)
	c := &canvas{dst: img, fonts: fonts, scale: scale}
	if _, err := c.layout(p); err != nil {
		return nil, err
	}
	return c, nil
}

// placed is one line of text as drawn: what, in which face, where.
type placed struct {
	text string
	bold bool
	px   float64 // the face's size in pixels
	dot  fixed.Point26_6
}

// canvas lays text out top to bottom. Without dst it only measures.
type canvas struct {
	dst    *image.RGBA
	fonts  *fontSet
	scale  float64
	y      float64 // top of the next line, in pixels
	faces  map[[2]float64]font.Face
	placed []placed
	drawn  []image.Rectangle // where each QR code went, in order
}

func (c *canvas) face(st style) (font.Face, float64, error) {
	px := pt(st.size) * c.scale
	key := [2]float64{px, 0}
	f := c.fonts.regular
	if st.bold {
		key[1], f = 1, c.fonts.bold
	}
	if fc, ok := c.faces[key]; ok {
		return fc, px, nil
	}
	fc, err := face(f, px)
	if err != nil {
		return nil, 0, err
	}
	if c.faces == nil {
		c.faces = map[[2]float64]font.Face{}
	}
	c.faces[key] = fc
	return fc, px, nil
}

// text wraps s to width and puts it at x, from the current line down.
func (c *canvas) text(st style, s string, x, width float64) error {
	fc, px, err := c.face(st)
	if err != nil {
		return err
	}
	lineH := st.leading * px
	m := fc.Metrics()
	// Centre the glyphs' ascent and descent in the line box, as CSS does.
	above := (lineH-fixedF(m.Ascent+m.Descent))/2 + fixedF(m.Ascent)
	for _, line := range wrap(fc, s, int(width)) {
		lx := x
		if st.center {
			lx += (width - fixedF(font.MeasureString(fc, line))) / 2
		}
		dot := fixed.Point26_6{X: fixedOf(lx), Y: fixedOf(c.y + above)}
		if c.dst != nil {
			d := font.Drawer{Dst: c.dst, Src: image.NewUniform(st.color), Face: fc, Dot: dot}
			d.DrawString(line)
			c.placed = append(c.placed, placed{text: line, bold: st.bold, px: px, dot: dot})
		}
		c.y += lineH
	}
	return nil
}

// height is how tall s set in st at width is, without drawing it.
// fitLine returns st, made smaller where needed (by half a point at a
// time, down to half its size) so that s fits width on one line.
func (c *canvas) fitLine(st style, s string, width float64) (style, error) {
	for min := st.size / 2; ; st.size -= 0.5 {
		fc, _, err := c.face(st)
		if err != nil {
			return st, err
		}
		// Measured as wrap measures, so that it keeps the line whole.
		if font.MeasureString(fc, s).Ceil() <= int(width) || st.size-0.5 < min {
			return st, nil
		}
	}
}

func (c *canvas) height(st style, s string, width float64) (float64, error) {
	fc, px, err := c.face(st)
	if err != nil {
		return 0, err
	}
	return float64(len(wrap(fc, s, int(width)))) * st.leading * px, nil
}

// layout puts everything on the page at c.scale and reports whether it fit.
func (c *canvas) layout(p Poster) (bool, error) {
	s := c.scale
	left, top, bottom := mm(16), mm(16), Height-mm(12)
	width := Width - 2*left
	c.y = top
	texts := []struct {
		st    style
		s     string
		after float64
	}{
		{titleZH, Title.ZH, 0},
		{titleEN, Title.EN, mm(6) * s},
		{schoolZH, p.School.Name, 0},
		{schoolEN, p.School.Settings.NameEN, mm(2) * s},
		{bodyZH, Lead.ZH, 0},
		{bodyEN, Lead.EN, mm(6) * s},
	}
	for _, t := range texts {
		if t.s != "" { // a school without an English name
			if err := c.text(t.st, t.s, left, width); err != nil {
				return false, err
			}
		}
		c.y += t.after
	}

	if err := c.codes(p, left, width); err != nil {
		return false, err
	}
	c.y += mm(5) * s

	for _, t := range []struct {
		st style
		s  string
	}{{bodyZH, Mailbox.ZH}, {bodyEN, Mailbox.EN}, {mailboxAt, p.MailboxURL}} {
		if err := c.text(t.st, t.s, left, width); err != nil {
			return false, err
		}
	}
	c.y += mm(5) * s

	indent := mm(7) * s
	for i, l := range p.Lines() {
		y := c.y
		if err := c.text(listZH, string(rune('1'+i))+".", left, indent); err != nil {
			return false, err
		}
		c.y = y
		if err := c.text(listZH, l.ZH, left+indent, width-indent); err != nil {
			return false, err
		}
		if err := c.text(listEN, l.EN, left+indent, width-indent); err != nil {
			return false, err
		}
		c.y += mm(2.5) * s
	}

	// The numbers to call sit in a red box at the foot of the page.
	pad, border := mm(4)*s, mm(0.6)
	inner := width - 2*pad - 2*border
	hZH, err := c.height(dangerZH, Danger.ZH, inner)
	if err != nil {
		return false, err
	}
	hEN, err := c.height(dangerEN, Danger.EN, inner)
	if err != nil {
		return false, err
	}
	boxTop := bottom - (hZH + hEN + 2*pad + 2*border)
	fits := c.y+mm(3)*s <= boxTop
	if c.dst != nil {
		box := rect{left, boxTop, left + width, bottom}
		roundRect(c.dst, box, mm(4), red)
		roundRect(c.dst, box.inset(border), mm(4)-border, pageColor)
	}
	c.y = boxTop + border + pad
	if err := c.text(dangerZH, Danger.ZH, left+border+pad, inner); err != nil {
		return false, err
	}
	if err := c.text(dangerEN, Danger.EN, left+border+pad, inner); err != nil {
		return false, err
	}
	return fits, nil
}

// codes draws the QR codes side by side, centred, each with its caption
// and address under it, and moves below the tallest.
func (c *canvas) codes(p Poster, left, width float64) error {
	type code struct {
		label hotline.Label
		url   string      // what the code opens, printed under it
		img   image.Image // a given code (WeChat's) instead of one made of url
		notes []string    // printed instead of url
	}
	codes := []code{{label: Chat, url: p.ChatURL}}
	if p.BotURL != "" {
		codes = append(codes, code{label: Bot, url: p.BotURL})
	}
	if p.Wechat != nil {
		codes = append(codes, code{label: Wechat, img: p.Wechat.img, notes: []string{WechatHow.ZH, WechatHow.EN}})
	}
	s := c.scale
	fig, qr, gap := mm(70)*s, mm(62)*s, mm(10)*s
	if n := float64(len(codes)); n*fig+(n-1)*gap > width {
		// Three codes share the width, each a little smaller.
		gap = mm(6) * s
		fig = (width - (n-1)*gap) / n
		qr = fig * 62 / 70
	}
	x := left + (width-float64(len(codes))*fig-float64(len(codes)-1)*gap)/2
	top, bottom := c.y, c.y
	for _, cd := range codes {
		if c.dst != nil {
			size := int(qr)
			at := image.Pt(int(x+(fig-qr)/2), int(top))
			c.drawn = append(c.drawn, image.Rectangle{at, at.Add(image.Pt(size, size))})
			if cd.img != nil {
				drawFitted(c.dst, cd.img, at, size)
			} else {
				q, err := qrcode.New(cd.url, qrcode.Medium)
				if err != nil {
					return err
				}
				draw.Draw(c.dst, image.Rectangle{at, at.Add(image.Pt(size, size))}, q.Image(size), image.Point{}, draw.Src)
			}
		}
		c.y = top + qr + mm(1)*s
		if err := c.text(caption, cd.label.ZH+" · "+cd.label.EN, x, fig); err != nil {
			return err
		}
		lines := cd.notes
		if cd.url != "" {
			lines = []string{cd.url}
		}
		for _, l := range lines {
			if err := c.text(urlText, l, x, fig); err != nil {
				return err
			}
		}
		bottom = max(bottom, c.y)
		x += fig + gap
	}
	c.y = bottom
	return nil
}

// rect is a rectangle in fractional pixels.
type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) inset(d float64) rect { return rect{r.x0 + d, r.y0 + d, r.x1 - d, r.y1 - d} }

// roundRect fills r, with corners of radius rad, anti-aliased.
func roundRect(dst draw.Image, r rect, rad float64, c color.Color) {
	b := image.Rect(int(r.x0), int(r.y0), int(r.x1)+1, int(r.y1)+1)
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	// Path coordinates are relative to b's corner.
	ox, oy := float32(r.x0-float64(b.Min.X)), float32(r.y0-float64(b.Min.Y))
	w, h, k := float32(r.x1-r.x0), float32(r.y1-r.y0), float32(rad)
	z.MoveTo(ox+k, oy)
	z.LineTo(ox+w-k, oy)
	z.QuadTo(ox+w, oy, ox+w, oy+k)
	z.LineTo(ox+w, oy+h-k)
	z.QuadTo(ox+w, oy+h, ox+w-k, oy+h)
	z.LineTo(ox+k, oy+h)
	z.QuadTo(ox, oy+h, ox, oy+h-k)
	z.LineTo(ox, oy+k)
	z.QuadTo(ox, oy, ox+k, oy)
	z.ClosePath()
	z.Draw(dst, b, image.NewUniform(c), image.Point{})
}

// wrap breaks s into lines that fit width pixels: between words in
// English, between any two characters in Chinese, but never with a closing
// mark (，。？）…) at the start of a line, where it hangs past the edge
// instead, or an opening one at its end.
func wrap(f font.Face, s string, width int) []string {
	var lines []string
	var line []rune
	for _, r := range s {
		line = append(line, r)
		if font.MeasureString(f, string(line)).Ceil() <= width || len(line) == 1 {
			continue
		}
		// A closing mark may hang past the edge (标点悬挂) rather than
		// take the last character down with it.
		if strings.ContainsRune(noLineStart, r) && font.MeasureString(f, string(line[:len(line)-1])).Ceil() <= width {
			continue
		}
		cut := len(line) - 1
		// Within a word (English, a number, a URL), break before the word:
		// after the space or the Chinese character that precedes it. A word
		// longer than the line is broken where it overflows.
		start := cut
		for start > 0 && !breakAfter(line[start-1]) {
			start--
		}
		if !breakAfter(r) && start > 0 {
			cut = start
		}
		for cut > 1 && (strings.ContainsRune(noLineStart, line[cut]) || strings.ContainsRune(noLineEnd, line[cut-1])) {
			cut--
		}
		lines = append(lines, strings.TrimSpace(string(line[:cut])))
		line = append([]rune(nil), []rune(strings.TrimLeft(string(line[cut:]), " "))...)
	}
	if l := strings.TrimSpace(string(line)); l != "" {
		lines = append(lines, l)
	}
	return lines
}

const (
	noLineStart = "，。、；：？！）》」』”’·…—,.;:?!)"
	noLineEnd   = "（《「『“‘("
)

// breakAfter reports whether a line may break right after r: after a
// space, or after a Chinese character (anything from CJK radicals up).
func breakAfter(r rune) bool { return r == ' ' || r >= 0x2E80 }

func fixedF(v fixed.Int26_6) float64  { return float64(v) / 64 }
func fixedOf(v float64) fixed.Int26_6 { return fixed.Int26_6(v * 64) }
