package poster

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// The fonts are subsets of Noto Sans CJK SC (SIL OFL 1.1, fonts/OFL.txt),
// made by fonts/subset.sh: the regular one holds all of GB 2312 for school
// names, the bold one only what the poster's own headings need.
var (
	//go:embed fonts/NotoSansSC-Regular.subset.otf
	regularOTF []byte
	//go:embed fonts/NotoSansSC-Bold.subset.otf
	boldOTF []byte
)

// fontSet is the parsed pair. sfnt fonts are safe for concurrent use; the
// faces made from them are not, so each drawing makes its own.
type fontSet struct {
	regular, bold *opentype.Font
}

// loadFonts parses the embedded fonts once, on first use, so a server that
// never prints a poster does not pay for it.
var loadFonts = sync.OnceValues(func() (*fontSet, error) {
	regular, err := opentype.Parse(regularOTF)
	if err != nil {
		return nil, fmt.Errorf("poster: regular font: %w", err)
	}
	bold, err := opentype.Parse(boldOTF)
	if err != nil {
		return nil, fmt.Errorf("poster: bold font: %w", err)
	}
	return &fontSet{regular: regular, bold: bold}, nil
})

// has reports whether f has a glyph of its own for r (glyph 0 is the
// "missing" box).
func (*fontSet) has(f *opentype.Font, r rune) bool {
	var b sfnt.Buffer
	i, err := f.GlyphIndex(&b, r)
	return err == nil && i != 0
}

// face returns f at px pixels, unhinted: at print resolution hinting buys
// nothing and would make a glyph's shape depend on its size.
func face(f *opentype.Font, px float64) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
}

//go:embed fonts/NotoSansSC-Regular.subset.ttf.gz
var regularTTFgz []byte

// TrueType returns the regular subset (the same glyphs: ASCII, punctuation
// and all of GB 2312) with TrueType outlines, for PDFs that carry real,
// searchable text: go-pdf/fpdf embeds only TrueType fonts, and subsets
// them to the glyphs a document uses. fonts/ttf.sh makes it. It is
// decompressed once, on first use; each call returns a copy of its own,
// because fpdf writes into the font bytes it is given while it subsets
// them, and two documents made at once must not share them.
func TrueType() ([]byte, error) {
	b, err := trueType()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

var trueType = sync.OnceValues(func() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(regularTTFgz))
	if err != nil {
		return nil, fmt.Errorf("poster: truetype font: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("poster: truetype font: %w", err)
	}
	return b, nil
})

// HasGlyph reports whether the embedded fonts draw r (and do not show the
// empty box for it).
func HasGlyph(r rune) bool {
	fs, err := loadFonts()
	return err == nil && fs.has(fs.regular, r)
}
