package main

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestPosterCommandDrawsChinese: `hotline poster --school demo --out p.png`
// draws the Chinese poster with no browser at all: the decoded PNG is A4 at
// 150 dpi and its title's second character is the glyph 欺 of the embedded
// font where the layout puts it (16 mm from the top-left corner, 34 pt
// bold), not an English-only fallback or an empty box.
func TestPosterCommandDrawsChinese(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{"init", "--data", dir},
		{"district", "add", "--data", dir, "--name", "海淀区", "--officer", "hd-officer"},
		{"school", "add", "--data", dir, "--name", "第三中学（演示）", "--code", "demo", "--district", "海淀区"},
		{"school", "add", "--data", dir, "--name", "𠀀中学", "--code", "rare", "--district", "海淀区"},
	} {
		if code := run(ctx, args, nil, &out, &errb); code != 0 {
			t.Fatalf("%s exit %d: %s", args[0], code, errb.String())
		}
	}
	file := filepath.Join(t.TempDir(), "p.png")
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"poster", "--data", dir, "--school", "demo", "--out", file, "--public-url", "https://hotline.example.edu.cn", "--telegram-bot-name", "HotlineBot"}, nil, &out, &errb); code != 0 {
		t.Fatalf("poster exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), file) || errb.Len() != 0 {
		t.Fatalf("got stdout %q, stderr %q; want the file named and no warning", out.String(), errb.String())
	}
	// The poster printed from the command line is in the audit trail, for
	// the district's rollout tracker.
	{
		dm, err := openData(dir, &Env{Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		entries, err := dm.DB.Audit(ctx, store.AuditFilter{District: "海淀区", Kind: hotline.AuditPosterDownloaded, Limit: 10})
		dm.Close()
		if err != nil || len(entries) != 1 || entries[0].Client != "cli" || entries[0].Detail != "poster.png" || entries[0].SchoolName != "第三中学（演示）" {
			t.Fatalf("audit of the printed poster: %+v %v", entries, err)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Bounds(); got != image.Rect(0, 0, 1240, 1754) {
		t.Fatalf("got %v, want A4 at 150 dpi", got)
	}

	otf, err := os.ReadFile("../../internal/poster/fonts/NotoSansSC-Bold.subset.otf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := opentype.Parse(otf)
	if err != nil {
		t.Fatal(err)
	}
	px := 34.0 * 150 / 72
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		t.Fatal(err)
	}
	margin := 16 * 150 / 25.4
	met := fc.Metrics()
	lineH := 1.25 * px
	baseline := margin + (lineH-float64(met.Ascent+met.Descent)/64)/2 + float64(met.Ascent)/64
	adv, _ := fc.GlyphAdvance('被')
	at := fixed.Point26_6{X: fixed.Int26_6(margin*64) + adv, Y: fixed.Int26_6(baseline * 64)}
	if iou := glyphMatch(m, fc, '欺', at); iou < 0.9 {
		t.Fatalf("the title's 欺 matches the font's glyph with IoU %.2f, want ≥ 0.9", iou)
	}
	// The check can tell glyphs apart: 凌 is not what is printed there.
	if iou := glyphMatch(m, fc, '凌', at); iou > 0.6 {
		t.Fatalf("凌 matches the title's second character with IoU %.2f: the check cannot tell glyphs apart", iou)
	}

	// A character the embedded font lacks is named on stderr.
	errb.Reset()
	if code := run(ctx, []string{"poster", "--data", dir, "--school", "rare", "--out", file, "--public-url", "https://hotline.example.edu.cn"}, nil, &out, &errb); code != 0 {
		t.Fatalf("poster exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "𠀀") {
		t.Fatalf("got stderr %q, want a warning naming 𠀀", errb.String())
	}

	// Without --public-url: a clear refusal, not a QR code for localhost.
	errb.Reset()
	local := filepath.Join(t.TempDir(), "local.png")
	if code := run(ctx, []string{"poster", "--data", dir, "--school", "demo", "--out", local}, nil, &out, &errb); code == 0 {
		t.Fatal("a poster without --public-url was written")
	}
	if _, err := os.Stat(local); err == nil || !strings.Contains(errb.String(), "--public-url is required") {
		t.Fatalf("stderr %q", errb.String())
	}
	// A PDF for the print shop: one A4 page.
	pdf := filepath.Join(t.TempDir(), "p.pdf")
	if code := run(ctx, []string{"poster", "--data", dir, "--school", "demo", "--out", pdf, "--public-url", "https://hotline.example.edu.cn"}, nil, &out, &errb); code != 0 {
		t.Fatalf("pdf poster exit %d: %s", code, errb.String())
	}
	if b, err := os.ReadFile(pdf); err != nil || !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("/MediaBox [0 0 595.28 841.89]")) {
		t.Fatalf("pdf poster: %v", err)
	}
}

// glyphMatch draws r alone at dot and returns how well its ink (coverage
// over half) matches the dark pixels of m around it: the best intersection
// over union within a few pixels either way, to allow for rounding.
func glyphMatch(m image.Image, fc font.Face, r rune, dot fixed.Point26_6) float64 {
	ref := image.NewGray(m.Bounds())
	draw.Draw(ref, ref.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: ref, Src: image.Black, Face: fc, Dot: dot}
	d.DrawString(string(r))
	bounds, _ := font.BoundString(fc, string(r))
	box := image.Rect((dot.X + bounds.Min.X).Floor(), (dot.Y + bounds.Min.Y).Floor(), (dot.X + bounds.Max.X).Ceil(), (dot.Y + bounds.Max.Y).Ceil())
	dark := func(x, y int) bool {
		r, g, b, _ := m.At(x, y).RGBA()
		return (r+g+b)/3 < 0x9000
	}
	best := 0.0
	for dy := -4; dy <= 4; dy++ {
		for dx := -4; dx <= 4; dx++ {
			inter, union := 0, 0
			for y := box.Min.Y - 4; y < box.Max.Y+4; y++ {
				for x := box.Min.X - 4; x < box.Max.X+4; x++ {
					a := ref.GrayAt(x, y).Y < 0x80
					b := dark(x+dx, y+dy)
					if a && b {
						inter++
					}
					if a || b {
						union++
					}
				}
			}
			if union > 0 {
				best = max(best, float64(inter)/float64(union))
			}
		}
	}
	return best
}
