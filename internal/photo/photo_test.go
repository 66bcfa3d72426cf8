package photo

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/hotline"
)

// pngHead is the start of a PNG: signature, IHDR and the first bytes of
// an IDAT, enough for every header check and nothing to decode.
func pngHead(w, h uint32, depth, colorType, interlace byte) []byte {
	chunk := func(out []byte, typ string, body []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
		c := append([]byte(typ), body...)
		out = append(out, c...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, interlace)
	out := chunk(append([]byte{}, pngSignature...), "IHDR", ihdr)
	return chunk(out, "IDAT", []byte{0x78, 0x9c})
}

func TestCleanPhotoRefusesCostlyImages(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		// The attack: 40 MP, progressive, CMYK, a few hundred KB.
		{"progressive CMYK 40 MP", flatJPEG{w: 7300, h: 5470, comps: 4, progressive: true}.bytes()},
		{"progressive 4:4:4 12 MP", flatJPEG{w: 4000, h: 3000, comps: 3, progressive: true}.bytes()},
		{"baseline CMYK 30 MP", flatJPEG{w: 6000, h: 5000, comps: 4}.bytes()},
		{"16-bit PNG 30 MP", pngHead(6000, 5000, 16, 6, 0)},
		{"interlaced PNG 30 MP", pngHead(6000, 5000, 8, 6, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.data) > MaxBytes {
				t.Fatalf("test image is %d bytes", len(c.data))
			}
			var err error
			alloc := allocated(func() { _, err = Clean(c.data) })
			if !errors.Is(err, ErrTooCostly) || hotline.ErrorCode(err) != hotline.ETOOLARGE {
				t.Fatalf("got %v, want ErrTooCostly", err)
			}
			if m := hotline.ErrorMessage(err, hotline.LangEN); m == "" || m == hotline.ErrorMessage(errors.New("x"), hotline.LangEN) {
				t.Fatalf("message %q is not the photo's own", m)
			}
			// Refused from the header: nothing was decoded.
			if alloc > 4<<20 {
				t.Fatalf("refusing took %d bytes", alloc)
			}
		})
	}
	t.Logf("the 40 MP progressive CMYK attack file is %d KB", len(cases[0].data)>>10)
}

func TestCleanPhotoAcceptsPhoneSizePhotos(t *testing.T) {
	// A 12 MP phone photo as cameras write it: baseline 4:2:0, held
	// sideways with orientation 6.
	exif := exifWithOrientation(binary.LittleEndian, 6)
	data := flatJPEG{w: 4032, h: 3024, comps: 3, sampling: [4]int{0x22, 0x11, 0x11}, exif: exif}.bytes()
	h, err := inspectPhoto(data)
	if err != nil {
		t.Fatal(err)
	}
	if h.progressive() || h.orientation != 6 || len(h.comps) != 3 {
		t.Fatalf("header read as %+v", h)
	}
	// Three of them decode side by side within the default budget.
	if cost := h.decodeCost(); cost > DefaultBudget/3 {
		t.Fatalf("a phone photo is estimated at %d MiB", cost>>20)
	}
	// The largest baseline camera JPEG still fits, sideways or not.
	for _, o := range []uint16{1, 6} {
		big, _ := scanJPEG(flatJPEG{w: 7728, h: 5152, comps: 3, sampling: [4]int{0x22, 0x11, 0x11}, exif: exifWithOrientation(binary.BigEndian, o)}.bytes())
		if big.decodeCost() > photoImageLimit() {
			t.Fatalf("a 40 MP baseline photo (orientation %d) is estimated at %d MiB", o, big.decodeCost()>>20)
		}
	}
	if raceEnabled {
		return // the decode below takes a minute under the race detector
	}
	p, err := Clean(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(p.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1920 || b.Dy() != 2560 {
		t.Fatalf("cleaned to %v, want 1920x2560 (upright, shrunk)", b)
	}
}

func TestCleanPhotoRejectsHostileHeaders(t *testing.T) {
	good := flatJPEG{w: 40, h: 30, comps: 3, exif: exifWithOrientation(binary.BigEndian, 6)}.bytes()
	if _, err := Clean(good); err != nil {
		t.Fatalf("the untouched image: %v", err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	var hostile [][]byte
	// Every truncation of a JPEG and of a PNG header.
	for n := range len(good) {
		hostile = append(hostile, good[:n])
	}
	png := pngHead(40, 30, 8, 6, 0)
	for n := range len(png) {
		hostile = append(hostile, png[:n])
	}
	mut := func(b []byte, at int, v ...byte) []byte {
		c := bytes.Clone(b)
		copy(c[at:], v)
		return c
	}
	sof := bytes.Index(good, []byte{0xFF, 0xC0})
	hostile = append(hostile,
		mut(good, sof+2, 0xFF, 0xFF),                // SOF length past the end
		mut(good, sof+2, 0x00, 0x01),                // SOF length below its own size
		mut(good, sof+4, 12),                        // 12-bit samples
		mut(good, sof+9, 2),                         // two components
		mut(good, sof+11, 0x55),                     // sampling 5x5
		mut(good, sof+11, 0x00),                     // sampling 0x0
		mut(good, sof, 0xFF, 0xC3),                  // lossless
		mut(good, sof, 0xFF, 0xC9),                  // arithmetic coding
		mut(good, sof+5, 0, 0),                      // zero height
		mut(good, 2, 0x00, 0x00),                    // no marker after SOI
		append(bytes.Clone(good[:sof]), 0xFF, 0xDA), // SOS before any SOF
		pngHead(0, 30, 8, 6, 0),
		pngHead(1<<31, 1, 8, 6, 0),
		pngHead(40, 30, 8, 9, 0), // no such colour type
		[]byte("\x89PNG\r\n\x1a\n\xff\xff\xff\xffIHDR"),
	)
	for i, b := range hostile {
		var err error
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("case %d (%d bytes): panic %v", i, len(b), r)
				}
			}()
			_, err = Clean(b)
		}()
		if err == nil {
			t.Errorf("case %d (%d bytes): accepted", i, len(b))
		} else if c := hotline.ErrorCode(err); c != hotline.EINVALID && c != hotline.ETOOLARGE {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

// quadrants is a w x h image whose top-left quadrant is red and the rest
// white, so where red ends up tells how it was turned.
func quadrants(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// withExif puts an Exif APP1 segment right after a JPEG's SOI.
func withExif(jpg, tiff []byte) []byte {
	body := append(append([]byte{}, exifPrefix...), tiff...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(body)+2))
	out := append(append([]byte{}, jpg[:2]...), seg...)
	out = append(out, body...)
	return append(out, jpg[2:]...)
}

func TestCleanPhotoAppliesExifOrientation(t *testing.T) {
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, quadrants(80, 40), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	// Where the red quadrant lands, as (column, row) of a 2x2 grid, on an
	// output of the given size.
	cases := []struct {
		orientation uint16
		w, h        int
		red         image.Point
	}{
		{1, 80, 40, image.Pt(0, 0)},
		{2, 80, 40, image.Pt(1, 0)},
		{3, 80, 40, image.Pt(1, 1)},
		{4, 80, 40, image.Pt(0, 1)},
		{5, 40, 80, image.Pt(0, 0)},
		{6, 40, 80, image.Pt(1, 0)},
		{7, 40, 80, image.Pt(1, 1)},
		{8, 40, 80, image.Pt(0, 1)},
	}
	for _, c := range cases {
		for _, bo := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
			data := withExif(plain.Bytes(), exifWithOrientation(bo, c.orientation))
			p, err := Clean(data)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(p.Data, []byte("Exif")) {
				t.Fatal("Exif survived")
			}
			img, err := jpeg.Decode(bytes.NewReader(p.Data))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
				t.Fatalf("orientation %d (%v): got %v, want %dx%d", c.orientation, bo, b, c.w, c.h)
			}
			for qy := range 2 {
				for qx := range 2 {
					r, g, _, _ := img.At(qx*c.w/2+c.w/4, qy*c.h/2+c.h/4).RGBA()
					red := r > 0xC000 && g < 0x4000
					if red != (image.Pt(qx, qy) == c.red) {
						t.Fatalf("orientation %d (%v): quadrant (%d,%d) red=%v, want red at %v", c.orientation, bo, qx, qy, red, c.red)
					}
				}
			}
		}
	}
}

func TestExifOrientationIsBoundsChecked(t *testing.T) {
	le := exifWithOrientation(binary.LittleEndian, 8)
	if o := exifOrientation(le); o != 8 {
		t.Fatalf("got %d, want 8", o)
	}
	// An entry count beyond the data: the entries present are still read.
	if o := exifOrientation(append(bytes.Clone(le[:8]), append([]byte{0xFF, 0xFF}, le[10:]...)...)); o != 8 {
		t.Fatalf("overlong IFD: got %d, want 8", o)
	}
	mut := func(at int, v ...byte) []byte {
		c := bytes.Clone(le)
		copy(c[at:], v)
		return c
	}
	cases := map[string][]byte{
		"empty":              nil,
		"bad magic":          mut(0, 'X'),
		"IFD offset past":    mut(4, 0xFF, 0xFF, 0xFF, 0x7F),
		"IFD offset at 0":    mut(4, 0, 0, 0, 0),
		"IFD at the end":     mut(4, byte(len(le)-1), 0, 0, 0),
		"entry count huge":   mut(8, 0xFF, 0xFF)[:10+12+6], // and the entry cut short
		"value 0":            mut(10+12+8, 0, 0),
		"value 9":            mut(10+12+8, 9, 0),
		"type LONG":          mut(10+12+2, 4, 0),
		"count 2":            mut(10+12+4, 2, 0, 0, 0),
		"truncated in entry": le[:10+12+6],
	}
	for name, b := range cases {
		if o := exifOrientation(b); o != 1 {
			t.Errorf("%s: got %d, want 1", name, o)
		}
	}
}

func FuzzExifOrientation(f *testing.F) {
	f.Add(exifWithOrientation(binary.LittleEndian, 6))
	f.Add(exifWithOrientation(binary.BigEndian, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := exifOrientation(b); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func FuzzPhotoHeader(f *testing.F) {
	f.Add(flatJPEG{w: 40, h: 30, comps: 3, exif: exifWithOrientation(binary.BigEndian, 6)}.bytes())
	f.Add(flatJPEG{w: 40, h: 30, comps: 4, progressive: true}.bytes())
	f.Add(pngHead(40, 30, 16, 6, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The scanners must never panic, and what they accept must be an
		// image whose estimate is at least its pixels.
		for _, scan := range []func([]byte) (*photoHeader, bool){scanJPEG, scanPNG} {
			if h, ok := scan(b); ok && (h.width <= 0 || h.height <= 0 || h.decodeCost() < int64(h.width)*int64(h.height)) {
				t.Fatalf("header %+v", h)
			}
		}
	})
}

// setBudget sets the decode budget for one test.
func setBudget(t *testing.T, n int64) {
	t.Helper()
	SetBudget(n)
	t.Cleanup(func() { SetBudget(DefaultBudget) })
}

func TestConcurrentCleanPhotoStaysWithinBudget(t *testing.T) {
	setBudget(t, 16<<20)
	var inFlight, peak atomic.Int64
	testHookDecoding = func(cost int64) func() {
		n := inFlight.Add(cost)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond) // hold it, so calls overlap
		return func() { inFlight.Add(-cost) }
	}
	t.Cleanup(func() { testHookDecoding = nil })
	// Photos of about 2.5, 5 and 10 MB: at most a few fit at once.
	imgs := [][]byte{
		flatJPEG{w: 200, h: 200, comps: 3}.bytes(),
		flatJPEG{w: 400, h: 300, comps: 3, progressive: true}.bytes(),
		flatJPEG{w: 600, h: 400, comps: 4, progressive: true}.bytes(),
	}
	var costs []int64
	for _, b := range imgs {
		h, err := inspectPhoto(b)
		if err != nil {
			t.Fatal(err)
		}
		costs = append(costs, h.decodeCost())
	}
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Go(func() {
			if _, err := Clean(imgs[i%len(imgs)]); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 16<<20 || p <= costs[2] {
		t.Fatalf("peak in flight %d bytes; budget %d, costs %v", p, 16<<20, costs)
	}
	if n := inFlight.Load(); n != 0 {
		t.Fatalf("%d bytes still in flight", n)
	}
	t.Logf("costs %v, peak in flight %d of %d", costs, peak.Load(), 16<<20)
}

func TestWaitingCallerGivesUp(t *testing.T) {
	setBudget(t, 16<<20)
	hold, held := make(chan struct{}), make(chan struct{})
	testHookDecoding = func(int64) func() {
		close(held)
		<-hold
		return func() {}
	}
	t.Cleanup(func() { testHookDecoding = nil })
	// 800x500 progressive 4:4:4: about 9 MiB, over half the budget.
	big := flatJPEG{w: 800, h: 500, comps: 3, progressive: true}.bytes()
	done := make(chan error, 1)
	go func() {
		_, err := Clean(big)
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the first call did not decode: %v", err)
	}
	testHookDecoding = nil
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := CleanContext(ctx, big); !errors.Is(err, ErrBusy) || hotline.ErrorCode(err) != hotline.ERATELIMIT {
		t.Fatalf("got %v, want ErrBusy", err)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The giving-up caller left nothing behind: the budget is whole.
	if err := photoBudget.acquire(context.Background(), 16<<20); err != nil {
		t.Fatal(err)
	}
	photoBudget.release(16 << 20)
}

func TestByteSemaphoreServesInOrder(t *testing.T) {
	s := newByteSemaphore(10)
	ctx := context.Background()
	if err := s.acquire(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if err := s.acquire(ctx, 11); !errors.Is(err, errOverBudget) {
		t.Fatalf("over budget: %v", err)
	}
	order := make(chan int64, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		if s.acquire(ctx, 6) == nil {
			order <- 6
		}
	})
	for s.waitersLen() == 0 {
		time.Sleep(time.Millisecond)
	}
	// 2 bytes are free, but the 6-byte waiter came first: the small one
	// queues behind it rather than starving it.
	wg.Go(func() {
		if s.acquire(ctx, 2) == nil {
			order <- 2
		}
	})
	for s.waitersLen() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	if len(order) != 0 {
		t.Fatalf("granted %d out of turn", <-order)
	}
	s.release(8)
	wg.Wait()
	if a, b := <-order, <-order; a+b != 8 || s.cur != 8 {
		t.Fatalf("granted %d and %d, %d in use", a, b, s.cur)
	}
}

func (s *byteSemaphore) waitersLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiters.Len()
}
