package poster

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"

	"github.com/skip2/go-qrcode"
)

// Slip is one cut-out of a code sheet: a one-time survey code and the
// address its QR code opens.
type Slip struct {
	Code string
	URL  string
}

// CodeSheet is a class's one-time survey codes as A4 pages of slips to
// print, cut and hand out at random: ten slips a page, each with a QR code,
// the code in large type, the class and how to answer.
type CodeSheet struct {
	Title string // school · class · wave
	Hint  string // how to answer
	Slips []Slip
}

const slipCols, slipRows = 2, 5

var (
	slipTitle = style{size: 10, color: gray, leading: 1.3}
	slipHint  = style{size: 9, color: gray, leading: 1.3}
	slipCode  = style{size: 22, color: ink, leading: 1.2}
	cutLine   = color.RGBA{0xbb, 0xbb, 0xbb, 0xff}
)

// Pages draws the sheet, one image per A4 page at 150 dpi.
func (s CodeSheet) Pages() ([]*image.RGBA, error) {
	pages, _, err := s.draw()
	return pages, err
}

// draw draws the pages and returns, per page, the lines of text it placed.
func (s CodeSheet) draw() ([]*image.RGBA, [][]placed, error) {
	fonts, err := loadFonts()
	if err != nil {
		return nil, nil, err
	}
	var lines [][]placed
	per := slipCols * slipRows
	var pages []*image.RGBA
	for start := 0; start < len(s.Slips) || start == 0; start += per {
		img := image.NewRGBA(image.Rect(0, 0, Width, Height))
		draw.Draw(img, img.Bounds(), image.NewUniform(pageColor), image.Point{}, draw.Src)
		c := &canvas{dst: img, fonts: fonts, scale: 1}
		margin := mm(10)
		cw := (Width - 2*margin) / slipCols
		ch := (Height - 2*margin) / slipRows
		// Cut lines between the slips.
		for i := 0; i <= slipCols; i++ {
			x := int(margin + float64(i)*cw)
			for y := int(margin); y < int(Height-margin); y += 6 {
				img.Set(x, y, cutLine)
				img.Set(x, y+1, cutLine)
			}
		}
		for j := 0; j <= slipRows; j++ {
			y := int(margin + float64(j)*ch)
			for x := int(margin); x < int(Width-margin); x += 6 {
				img.Set(x, y, cutLine)
				img.Set(x+1, y, cutLine)
			}
		}
		for i := start; i < len(s.Slips) && i < start+per; i++ {
			k := i - start
			x0 := margin + float64(k%slipCols)*cw
			y0 := margin + float64(k/slipCols)*ch
			qr := int(mm(34))
			q, err := qrcode.New(s.Slips[i].URL, qrcode.Medium)
			if err != nil {
				return nil, nil, err
			}
			at := image.Pt(int(x0+mm(3)), int(y0+(ch-float64(qr))/2))
			draw.Draw(img, image.Rectangle{at, at.Add(image.Pt(qr, qr))}, q.Image(qr), image.Point{}, draw.Src)
			tx := x0 + mm(4) + float64(qr)
			tw := cw - float64(qr) - mm(8)
			c.y = y0 + mm(5)
			for _, t := range []struct {
				st style
				s  string
			}{{slipTitle, s.Title}, {slipHint, s.Hint}} {
				if err := c.text(t.st, t.s, tx, tw); err != nil {
					return nil, nil, err
				}
			}
			c.y += mm(3)
			// The code on one line, whatever its length: a code broken
			// across lines is copied wrong.
			st, err := c.fitLine(slipCode, s.Slips[i].Code, tw)
			if err != nil {
				return nil, nil, err
			}
			if err := c.text(st, s.Slips[i].Code, tx, tw); err != nil {
				return nil, nil, err
			}
		}
		pages = append(pages, img)
		lines = append(lines, c.placed)
		if len(s.Slips) == 0 {
			break
		}
	}
	return pages, lines, nil
}

// PNG draws the sheet as one PNG: the pages one under the other.
func (s CodeSheet) PNG() ([]byte, error) {
	pages, err := s.Pages()
	if err != nil {
		return nil, err
	}
	all := image.NewRGBA(image.Rect(0, 0, Width, Height*len(pages)))
	for i, p := range pages {
		draw.Draw(all, p.Bounds().Add(image.Pt(0, i*Height)), p, image.Point{}, draw.Src)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, all); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// PDF writes the sheet as an A4 PDF, one page image per page (the text is
// drawn with the embedded font, so no font goes into the PDF).
func (s CodeSheet) PDF() ([]byte, error) {
	pages, err := s.Pages()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) {
		offsets = append(offsets, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s", len(offsets), body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(pages)
	// Objects: 1 catalog, 2 pages, then per page: page, content, image.
	kids := ""
	for i := range n {
		kids += fmt.Sprintf("%d 0 R ", 3+3*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n), nil)
	const w, h = 595.28, 841.89 // A4 in points
	for i, p := range pages {
		content := []byte(fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", w, h))
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>", w, h, 5+3*i, 4+3*i), nil)
		obj(fmt.Sprintf("<< /Length %d >>", len(content)), content)
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		row := make([]byte, 3*Width)
		for y := range Height {
			for x := range Width {
				o := p.PixOffset(x, y)
				copy(row[3*x:], p.Pix[o:o+3])
			}
			zw.Write(row)
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>", Width, Height, z.Len()), z.Bytes())
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes(), nil
}
