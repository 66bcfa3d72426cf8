package poster

import (
	"bytes"
	"regexp"
	"testing"
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
