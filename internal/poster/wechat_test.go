package poster

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
	xdraw "golang.org/x/image/draw"
)

// fakeWechatQR is a stand-in for the code 公众平台 gives to download: a
// QR code of a weixin.qq.com address as a JPEG of 430 px, its usual size,
// with a marker comment (APP segment) the re-encoding must drop.
func fakeWechatQR(t *testing.T) []byte {
	t.Helper()
	q, err := qrcode.New("http://weixin.qq.com/q/02FAKE-hotline-test", qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, q.Image(430), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	// A COM segment after SOI, as an editor leaves.
	com := []byte("\xff\xfe\x00\x14QR-META-CANARY-wx01")
	data := append([]byte{}, b.Bytes()[:2]...)
	data = append(data, com...)
	return append(data, b.Bytes()[2:]...)
}

// TestPosterCarriesTheWechatQR: with the account's QR code the PNG is
// still A4, the code is printed beside the others with its caption, the
// pixels where it goes are the given code (compared with an independent
// nearest-neighbour scaling of it), and that region differs from the
// poster without it. With no bot it is printed instead of the Telegram one.
func TestPosterCarriesTheWechatQR(t *testing.T) {
	data := fakeWechatQR(t)
	code, err := ReadWechatQR(data)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(code.PNG(), []byte("QR-META-CANARY")) {
		t.Fatal("the served QR code kept the file's metadata")
	}
	for _, c := range []struct {
		name  string
		bot   string
		codes int
	}{{"beside Telegram", "HotlineBot", 3}, {"instead of Telegram", "", 2}} {
		t.Run(c.name, func(t *testing.T) {
			plain := New(demoSchool(), "https://hotline.example.cn", c.bot)
			with := plain
			with.Wechat = code

			b, err := with.PNG()
			if err != nil {
				t.Fatal(err)
			}
			m, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Bounds().Size(); got != image.Pt(Width, Height) {
				t.Fatalf("got size %v, want %dx%d", got, Width, Height)
			}
			cv, err := with.render()
			if err != nil {
				t.Fatal(err)
			}
			if len(cv.drawn) != c.codes {
				t.Fatalf("%d codes drawn, want %d", len(cv.drawn), c.codes)
			}
			var captions []string
			for _, pl := range cv.placed {
				if strings.Contains(pl.text, "·") || strings.Contains(pl.text, "扫码关注") {
					captions = append(captions, pl.text)
				}
			}
			joined := strings.Join(captions, "|")
			if !strings.Contains(joined, "微信公众号 · WeChat") || !strings.Contains(joined, "微信扫码关注") {
				t.Fatalf("no WeChat caption: %q", captions)
			}
			if strings.Contains(joined, "Telegram") != (c.bot != "") {
				t.Fatalf("Telegram caption present %v with bot %q", strings.Contains(joined, "Telegram"), c.bot)
			}
			// The codes fit the page side by side without overlapping.
			for i, r := range cv.drawn {
				if !r.In(image.Rect(0, 0, Width, Height)) {
					t.Fatalf("code %d at %v is off the page", i, r)
				}
				if i > 0 && r.Overlaps(cv.drawn[i-1]) {
					t.Fatalf("codes %d and %d overlap", i-1, i)
				}
			}

			// The last code is WeChat's: its pixels are the given image.
			region := cv.drawn[len(cv.drawn)-1]
			want := image.NewRGBA(image.Rect(0, 0, region.Dx(), region.Dy()))
			xdraw.NearestNeighbor.Scale(want, want.Bounds(), code.Image(), code.Image().Bounds(), xdraw.Src, nil)
			if off := mismatch(m, region, want); off > 0.03 {
				t.Fatalf("%.1f%% of the WeChat code's pixels are not the given code", off*100)
			}

			// Without it, that region is something else (blank, or moved).
			pb, err := plain.PNG()
			if err != nil {
				t.Fatal(err)
			}
			pm, err := png.Decode(bytes.NewReader(pb))
			if err != nil {
				t.Fatal(err)
			}
			if off := mismatch(pm, region, want); off < 0.2 {
				t.Fatalf("the poster without the WeChat code matches it in that region (%.1f%% differ)", off*100)
			}
		})
	}
}

// mismatch is the share of pixels of region in got that are on the other
// side of mid-grey from want's.
func mismatch(got image.Image, region image.Rectangle, want image.Image) float64 {
	bad, n := 0, 0
	for y := 0; y < region.Dy(); y++ {
		for x := 0; x < region.Dx(); x++ {
			g := color.GrayModel.Convert(got.At(region.Min.X+x, region.Min.Y+y)).(color.Gray).Y
			w := color.GrayModel.Convert(want.At(x, y)).(color.Gray).Y
			if (g < 128) != (w < 128) {
				bad++
			}
			n++
		}
	}
	return float64(bad) / float64(n)
}

// TestReadWechatQRRefusesBadImages: not an image, empty, too large in
// bytes or pixels, or too small to be a code: each a clear error.
func TestReadWechatQRRefusesBadImages(t *testing.T) {
	huge := image.NewGray(image.Rect(0, 0, 5000, 30))
	var hb bytes.Buffer
	png.Encode(&hb, huge)
	tiny := image.NewGray(image.Rect(0, 0, 8, 8))
	var tb bytes.Buffer
	png.Encode(&tb, tiny)
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"text", []byte("this is not an image at all"), "not a PNG"},
		{"too many bytes", make([]byte, MaxWechatQRBytes+1), "larger than"},
		{"too wide", hb.Bytes(), "5000×30"},
		{"too small", tb.Bytes(), "8×8"},
		{"truncated", func() []byte { d := fakeWechatQR(t); return d[:len(d)/2] }(), "does not decode"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadWechatQR(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error saying %q", err, c.want)
			}
		})
	}
}
