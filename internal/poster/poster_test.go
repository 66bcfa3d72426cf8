package poster

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"hotline/internal/hotline"
)

func demoSchool() *hotline.School {
	return &hotline.School{Code: "demo", Name: "第三中学（演示）", Settings: hotline.SchoolSettings{NameEN: "No. 3 Middle School (demo)"}}
}

func TestNewLinks(t *testing.T) {
	p := New(demoSchool(), "https://hotline.example.cn/", "@HotlineBot ")
	for _, c := range []struct{ got, want string }{
		{p.ChatURL, "https://hotline.example.cn/c/demo"},
		{p.MailboxURL, "https://hotline.example.cn/m/demo"},
		{p.BotURL, "https://t.me/HotlineBot?start=demo"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if p := New(demoSchool(), "https://hotline.example.cn", ""); p.BotURL != "" {
		t.Errorf("got bot URL %q without a bot, want none", p.BotURL)
	}
}

// TestPNGDrawsTheChineseTitle decodes the PNG and finds the glyph 欺 of
// the embedded bold font where the title's second character belongs: the
// poster is the Chinese one, not an English-only fallback or a row of
// empty boxes.
func TestPNGDrawsTheChineseTitle(t *testing.T) {
	p := New(demoSchool(), "https://hotline.example.cn", "HotlineBot")
	b, err := p.PNG()
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Bounds().Size(); got != image.Pt(Width, Height) {
		t.Fatalf("got size %v, want A4 at 150 dpi %dx%d", got, Width, Height)
	}
	_, placed, err := p.draw()
	if err != nil {
		t.Fatal(err)
	}
	title := placed[0]
	if !strings.HasPrefix(title.text, "被欺负了") || !title.bold {
		t.Fatalf("got first line %+v, want the bold Chinese title", title)
	}
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	if !fonts.has(fonts.bold, '欺') {
		t.Fatal("the bold font has no 欺")
	}
	fc, err := face(fonts.bold, title.px)
	if err != nil {
		t.Fatal(err)
	}
	// The reference: 欺 alone, after 被, on a blank page.
	adv, _ := fc.GlyphAdvance('被')
	dot := fixed.Point26_6{X: title.dot.X + adv, Y: title.dot.Y}
	ref := image.NewRGBA(m.Bounds())
	draw.Draw(ref, ref.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: ref, Src: image.NewUniform(blue), Face: fc, Dot: dot}
	d.DrawString("欺")
	bounds, _ := font.BoundString(fc, "欺")
	box := image.Rect((dot.X + bounds.Min.X).Floor(), (dot.Y + bounds.Min.Y).Floor(), (dot.X + bounds.Max.X).Ceil(), (dot.Y + bounds.Max.Y).Ceil())
	if box.Dx() < 40 || box.Dy() < 40 {
		t.Fatalf("got glyph box %v, want a title-sized glyph", box)
	}
	inked, differ := 0, 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			want := color.RGBAModel.Convert(ref.At(x, y)).(color.RGBA)
			got := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			if want != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
				inked++
			}
			if absDiff(got.R, want.R)+absDiff(got.G, want.G)+absDiff(got.B, want.B) > 6 {
				differ++
			}
		}
	}
	if inked < box.Dx()*box.Dy()/5 {
		t.Fatalf("the reference 欺 inks %d of %d pixels: not a glyph", inked, box.Dx()*box.Dy())
	}
	if differ > 0 {
		t.Fatalf("%d of %d pixels of the title's 欺 at %v differ from the font's glyph", differ, box.Dx()*box.Dy(), box)
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestFontsCoverTheTexts: every character of the poster's own texts has a
// glyph in the font it is drawn with, so none prints as an empty box.
// When it fails, run fonts/subset.sh.
func TestFontsCoverTheTexts(t *testing.T) {
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	labels := []hotline.Label{Title, Lead, Chat, Bot, Mailbox, Danger, Wechat, WechatHow}
	for _, dl := range []hotline.Deadlines{{}, {AckUrgent: hotline.Duration(30 * time.Minute), FirstReply: hotline.Duration(48 * time.Hour)}} {
		labels = append(labels, New(&hotline.School{Code: "x", Settings: hotline.SchoolSettings{Deadlines: dl}}, "", "").Lines()...)
	}
	var all, bold strings.Builder
	for _, l := range labels {
		all.WriteString(l.ZH + l.EN)
	}
	for _, l := range []hotline.Label{Title, Chat, Bot, Danger, Wechat} {
		bold.WriteString(l.ZH + l.EN)
	}
	bold.WriteString(" · 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:/?=&%._-~")
	for _, c := range []struct {
		name string
		s    string
		has  func(rune) bool
	}{
		{"regular", all.String(), func(r rune) bool { return fonts.has(fonts.regular, r) }},
		{"bold", bold.String(), func(r rune) bool { return fonts.has(fonts.bold, r) }},
	} {
		for _, r := range c.s {
			if !c.has(r) {
				t.Errorf("the %s font lacks %q (U+%04X); run internal/poster/fonts/subset.sh", c.name, r, r)
			}
		}
	}
}

// TestMissingNamesCharactersOutsideTheFont: GB 2312's hanzi, level 2
// included, are in; a character from CJK extension B is reported.
func TestMissingNamesCharactersOutsideTheFont(t *testing.T) {
	for _, c := range []struct {
		name string
		want []rune
	}{
		{"第三中学（演示）", nil},
		{"琅琊路小学", nil},        // 琊 is a GB 2312 level-2 character
		{"鄞州区 中学", nil},       // a space is not a glyph
		{"𠀀𠀀中学", []rune{'𠀀'}}, // U+20000, reported once
	} {
		s := demoSchool()
		s.Name = c.name
		if got := New(s, "http://x", "").Missing(); !slices.Equal(got, c.want) {
			t.Errorf("%s: got missing %q, want %q", c.name, got, c.want)
		}
	}
}

// TestLongTextsShrinkInsteadOfClipping: a very long school name and
// address still put every line on the page, none over another.
func TestLongTextsShrinkInsteadOfClipping(t *testing.T) {
	s := demoSchool()
	s.Name = strings.Repeat("北京市海淀区第三中学附属实验学校", 6)
	s.Settings.NameEN = strings.Repeat("The Experimental School attached to No. 3 Middle School, Haidian District, Beijing; ", 4)
	p := New(s, "https://hotline.education-bureau.haidian.beijing.example.edu.cn/a/long/path", "AVeryLongHotlineBotNameForTheDistrict")
	_, placed, err := p.draw()
	if err != nil {
		t.Fatal(err)
	}
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	var boxes []image.Rectangle
	for _, l := range placed {
		f := fonts.regular
		if l.bold {
			f = fonts.bold
		}
		fc, err := face(f, l.px)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := font.BoundString(fc, l.text)
		r := image.Rect((l.dot.X + b.Min.X).Floor(), (l.dot.Y + b.Min.Y).Floor(), (l.dot.X + b.Max.X).Ceil(), (l.dot.Y + b.Max.Y).Ceil())
		if !r.In(image.Rect(0, 0, Width, Height)) {
			t.Errorf("line %q at %v is off the page", l.text, r)
		}
		for _, o := range boxes {
			if r.Overlaps(o) {
				t.Errorf("line %q at %v overlaps another at %v", l.text, r, o)
			}
		}
		boxes = append(boxes, r)
	}
	if len(placed) < 20 {
		t.Fatalf("got %d lines, want the whole poster", len(placed))
	}
}

func TestWrap(t *testing.T) {
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	fc, err := face(fonts.regular, 20)
	if err != nil {
		t.Fatal(err)
	}
	em := 20 // a Chinese character is one em wide
	for _, c := range []struct {
		s     string
		width int
		want  []string
	}{
		{"老师只看到一个代号", 5 * em, []string{"老师只看到", "一个代号"}},
		// 。 may not start a line: it hangs past the edge instead.
		{"不知道你是谁。好", 6 * em, []string{"不知道你是谁。", "好"}},
		// “ may not end a line: it goes down with what it opens.
		{"一二三四“五”", 5 * em, []string{"一二三四", "“五”"}},
		// English and numbers break between words, not inside them.
		{"打 12355 热线", 3 * em, []string{"打", "12355", "热线"}},
		{"Call us at once", 80, []string{"Call us", "at once"}},
		// A word longer than the line breaks where it overflows.
		{"https://t.me/HotlineBot", 100, nil},
	} {
		got := wrap(fc, c.s, c.width)
		if c.want == nil {
			if strings.Join(got, "") != c.s || len(got) < 2 {
				t.Errorf("wrap(%q, %d): got %q, want the word broken", c.s, c.width, got)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("wrap(%q, %d): got %q, want %q", c.s, c.width, got, c.want)
		}
	}
}

// TestWriteSample writes the poster to $POSTER_SAMPLE, to look at it.
func TestWriteSample(t *testing.T) {
	out := os.Getenv("POSTER_SAMPLE")
	if out == "" {
		t.Skip("set POSTER_SAMPLE=FILE.png to write a sample poster")
	}
	p := New(demoSchool(), "https://hotline.example.edu.cn", "HotlineBot")
	if os.Getenv("POSTER_SAMPLE_WECHAT") != "" {
		code, err := ReadWechatQR(fakeWechatQR(t))
		if err != nil {
			t.Fatal(err)
		}
		p.Wechat = code
	}
	b, err := p.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLinesPromiseTheSchoolsTimes: the poster promises the school's own
// reply and on-call times, never a fixed 24 hours.
func TestLinesPromiseTheSchoolsTimes(t *testing.T) {
	for _, c := range []struct {
		dl     hotline.Deadlines
		zh, en string
	}{
		{hotline.Deadlines{}, "老师一般会在 24 小时内回复你；紧急情况，学校值班老师 1 小时内处理。", "usually within 24 hours; in an emergency, the school's on-call staff act within 1 hour."},
		{hotline.Deadlines{AckUrgent: hotline.Duration(30 * time.Minute), FirstReply: hotline.Duration(48 * time.Hour)}, "老师一般会在 48 小时内回复你；紧急情况，学校值班老师 30 分钟内处理。", "usually within 48 hours; in an emergency, the school's on-call staff act within 30 minutes."},
	} {
		lines := New(&hotline.School{Code: "x", Settings: hotline.SchoolSettings{Deadlines: c.dl}}, "", "").Lines()
		var zh, en string
		for _, l := range lines {
			zh, en = zh+l.ZH, en+l.EN
		}
		if !strings.Contains(zh, c.zh) || !strings.Contains(en, c.en) {
			t.Errorf("deadlines %+v: got\n%s\n%s\nwant %q and %q", c.dl, zh, en, c.zh, c.en)
		}
	}
}
