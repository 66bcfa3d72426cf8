package surveyweb

import (
	"hotline/internal/poster"
)

// Sheet renders a class's slips as a PNG or a PDF (A4 pages), with the
// poster's drawing and embedded font.
func Sheet(d *sheetData, format string) ([]byte, string, error) {
	s := poster.CodeSheet{Title: d.School + " · " + d.Class.Name() + " · " + d.Wave.Name.ZH, Hint: "扫码作答，或打开 " + d.Enter + " 输入问卷码 / Scan, or open the address and type the code"}
	for _, sl := range d.Slips {
		s.Slips = append(s.Slips, poster.Slip{Code: sl.Code, URL: sl.URL})
	}
	if format == "pdf" {
		b, err := s.PDF()
		return b, "application/pdf", err
	}
	b, err := s.PNG()
	return b, "image/png", err
}
