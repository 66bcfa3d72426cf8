package photo

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

func TestFlatJPEGDecodes(t *testing.T) {
	for _, f := range []flatJPEG{
		{w: 100, h: 70, comps: 3},
		{w: 100, h: 70, comps: 3, progressive: true},
		{w: 100, h: 70, comps: 4, progressive: true},
		{w: 100, h: 70, comps: 1, progressive: true},
		{w: 101, h: 67, comps: 3, progressive: true, sampling: [4]int{0x22, 0x11, 0x11}},
		{w: 100, h: 70, comps: 4},
	} {
		img, err := jpeg.Decode(bytes.NewReader(f.bytes()))
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if img.Bounds().Dx() != f.w || img.Bounds().Dy() != f.h {
			t.Fatalf("%+v: %v", f, img.Bounds())
		}
		t.Logf("%+v: %T", f, img)
	}
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// noisyRGBA is an image that compresses badly, so encoders and their
// buffers work as hard as they can.
func noisyRGBA(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	x := uint32(2463534242)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	return img
}

type costCase struct {
	name string
	data []byte
}

func costCases(t testing.TB) []costCase {
	enc := func(img image.Image, format string) []byte {
		var b bytes.Buffer
		var err error
		switch format {
		case "jpeg":
			err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
		case "png":
			err = png.Encode(&b, img)
		case "gif":
			err = gif.Encode(&b, img, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	rgba64 := func(w, h int) image.Image {
		n := noisyRGBA(w, h)
		m := image.NewRGBA64(n.Rect)
		draw.Draw(m, m.Rect, n, image.Point{}, draw.Src)
		return m
	}
	gray := func(w, h int) image.Image {
		n := noisyRGBA(w, h)
		m := image.NewGray(n.Rect)
		draw.Draw(m, m.Rect, n, image.Point{}, draw.Src)
		return m
	}
	var cs []costCase
	for _, s := range [][2]int{{1200, 900}, {2700, 1800}} {
		w, h := s[0], s[1]
		tag := fmt.Sprintf("%dx%d", w, h)
		if w > 2000 && testing.Short() {
			break
		}
		cs = append(cs,
			costCase{"jpeg-baseline-420-noisy-" + tag, enc(noisyRGBA(w, h), "jpeg")},
			costCase{"jpeg-baseline-444-" + tag, flatJPEG{w: w, h: h, comps: 3}.bytes()},
			costCase{"jpeg-baseline-444-orient6-" + tag, flatJPEG{w: w, h: h, comps: 3, exif: exifWithOrientation(binary.BigEndian, 6)}.bytes()},
			costCase{"jpeg-progressive-420-" + tag, flatJPEG{w: w, h: h, comps: 3, progressive: true, sampling: [4]int{0x22, 0x11, 0x11}}.bytes()},
			costCase{"jpeg-progressive-444-" + tag, flatJPEG{w: w, h: h, comps: 3, progressive: true}.bytes()},
			costCase{"jpeg-progressive-gray-" + tag, flatJPEG{w: w, h: h, comps: 1, progressive: true}.bytes()},
			costCase{"jpeg-baseline-cmyk-" + tag, flatJPEG{w: w, h: h, comps: 4}.bytes()},
			costCase{"jpeg-progressive-cmyk-" + tag, flatJPEG{w: w, h: h, comps: 4, progressive: true}.bytes()},
		)
		if w > 2000 {
			// Encoding noise this large as test input takes a minute on
			// a busy machine; the small size covers PNG and GIF.
			continue
		}
		cs = append(cs,
			costCase{"png-rgba-noisy-" + tag, enc(noisyRGBA(w, h), "png")},
			costCase{"png-rgba64-" + tag, enc(rgba64(w, h), "png")},
			costCase{"png-gray-" + tag, enc(gray(w, h), "png")},
			costCase{"gif-" + tag, enc(gray(w, h), "gif")},
		)
	}
	return cs
}

// TestDecodeCostCoversDecoders measures what decoding, shrinking,
// orienting and re-encoding each kind of image allocates (TotalAlloc,
// which bounds the peak from above) and checks the header's estimate
// covers it. Run with -v to see bytes per pixel.
func TestDecodeCostCoversDecoders(t *testing.T) {
	if raceEnabled {
		// The race detector's instrumentation changes what escapes to
		// the heap (a boxed colour per pixel in encoders' generic paths),
		// so its allocation counts do not describe the real binary.
		t.Skip("allocation counts are not meaningful under -race")
	}
	for _, c := range costCases(t) {
		h, err := inspectPhoto(c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		est := h.decodeCost()
		var got uint64
		var derr error
		got = allocated(func() { _, derr = decodeClean(c.data, h) })
		if derr != nil {
			t.Fatalf("%s: %v", c.name, derr)
		}
		px := float64(h.width * h.height)
		t.Logf("%-40s %8d KB file  allocated %6.2f B/px  estimate %6.2f B/px", c.name, len(c.data)>>10, float64(got)/px, float64(est)/px)
		if uint64(est) < got {
			t.Errorf("%s: estimate %d below the %d bytes allocated", c.name, est, got)
		}
	}
}
