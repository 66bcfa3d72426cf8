package poster

import (
	"bytes"
	"fmt"

	"github.com/go-pdf/fpdf"
)

// PDF returns the poster as a one-page A4 PDF: the PNG drawing (PNG, 150
// dpi) placed edge to edge, so that the PDF and the PNG are the same
// poster. go-pdf/fpdf writes the PDF: a correct PDF by hand is a format
// of its own, and a school's print shop asks for PDF.
func (p Poster) PDF() ([]byte, error) {
	img, err := p.PNG()
	if err != nil {
		return nil, err
	}
	doc := fpdf.New("P", "mm", "A4", "")
	doc.SetCreator("hotline", false)
	doc.SetTitle(Title.ZH+" · "+p.School.Name, true)
	doc.SetCompression(true)
	doc.SetMargins(0, 0, 0)
	doc.SetAutoPageBreak(false, 0)
	doc.AddPage()
	opt := fpdf.ImageOptions{ImageType: "PNG", ReadDpi: false}
	doc.RegisterImageOptionsReader("poster", opt, bytes.NewReader(img))
	w, h := doc.GetPageSize()
	doc.ImageOptions("poster", 0, 0, w, h, false, opt, 0, "")
	var out bytes.Buffer
	if err := doc.Output(&out); err != nil {
		return nil, fmt.Errorf("poster pdf: %w", err)
	}
	return out.Bytes(), nil
}
