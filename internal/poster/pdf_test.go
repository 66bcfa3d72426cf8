package poster

import (
	"bytes"
	"regexp"
	"testing"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
)

// TestPDFIsOneA4Page: the PDF is one A4 portrait page holding the poster
// drawing as its image.
func TestPDFIsOneA4Page(t *testing.T) {
	b, err := New(demoSchool(), "https://hotline.example.cn", "HotlineBot").PDF()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("%%EOF")) {
		t.Fatalf("not a PDF: %q…", b[:min(20, len(b))])
	}
	if n := len(regexp.MustCompile(`/Type /Page\b`).FindAll(b, -1)); n != 1 {
		t.Fatalf("%d pages, want 1", n)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 595\.2[0-9]* 841\.8[0-9]*\]`).Match(b) {
		t.Fatal("the page is not A4 portrait")
	}
	if !bytes.Contains(b, []byte("/Subtype /Image")) || !bytes.Contains(b, []byte("/Width 1240")) {
		t.Fatal("the poster's 1240-px drawing is not on the page")
	}
}

// TestTrueTypeFontHasTheSubset: the TrueType twin holds the same glyphs as
// the poster's font (it is what evidence PDFs write their text with).
func TestTrueTypeFontHasTheSubset(t *testing.T) {
	ttf, err := TrueType()
	if err != nil {
		t.Fatal(err)
	}
	f, err := opentype.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	var b sfnt.Buffer
	for _, r := range "证据包案件记录蓝狐第三中学ABCxyz0123，。「」" {
		if i, err := f.GlyphIndex(&b, r); err != nil || i == 0 {
			t.Errorf("%q: no glyph", r)
		}
		if !HasGlyph(r) {
			t.Errorf("HasGlyph(%q) = false", r)
		}
	}
	if HasGlyph('😀') {
		t.Error("HasGlyph of an emoji")
	}
}
