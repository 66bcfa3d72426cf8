package poster

import (
	"testing"

	"golang.org/x/image/font"

	"hotline/internal/vault"
)

// Every survey code on a sheet is drawn on one line, inside its slip:
// a code broken across lines is copied wrong. Real codes from the vault,
// in a slip as narrow as the layout gives.
func TestCodeSheetKeepsEachCodeOnOneLine(t *testing.T) {
	var sheet CodeSheet
	sheet.Title = "北京市海淀区第三中学附属实验学校 · 初二（3）班 · 第一轮"
	sheet.Hint = "扫码作答，或打开 https://hotline.example.edu.cn/q 输入问卷码 / Scan, or open the address and type the code"
	for range 12 {
		code, err := vault.NewSurveyCode()
		if err != nil {
			t.Fatal(err)
		}
		sheet.Slips = append(sheet.Slips, Slip{Code: code, URL: "https://hotline.example.edu.cn/q/" + code})
	}
	_, pages, err := sheet.draw()
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	margin := mm(10)
	cw := (Width - 2*margin) / slipCols
	found := map[string]int{}
	for _, lines := range pages {
		for _, l := range lines {
			found[l.text]++
			for _, s := range sheet.Slips {
				if l.text != s.Code {
					continue
				}
				fc, err := face(fonts.regular, l.px)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := font.BoundString(fc, l.text)
				x := (l.dot.X + b.Max.X).Ceil()
				col := int((float64(l.dot.X.Floor()) - margin) / cw)
				if right := int(margin + float64(col+1)*cw); x > right {
					t.Errorf("code %s ends at x=%d, past its slip's edge %d", l.text, x, right)
				}
				if l.px < pt(slipCode.size)/2 {
					t.Errorf("code %s drawn at %v px, too small to read", l.text, l.px)
				}
			}
		}
	}
	for _, s := range sheet.Slips {
		if found[s.Code] != 1 {
			t.Errorf("code %s (%d characters) is on %d whole lines, want 1 (broken across lines?)", s.Code, len(s.Code), found[s.Code])
		}
	}
}
