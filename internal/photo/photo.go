// Package photo cleans a photo a reporter sends before it is sealed: it
// refuses what is too large or too costly to decode (a decompression bomb,
// a progressive or 16-bit image past its own limit), decodes within a
// process-wide memory budget, applies the EXIF orientation, scales it down
// and re-encodes it, so that no metadata (place, device, time) survives.
// Every channel that takes photos calls it; nothing else decodes images.
package photo

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"time"

	xdraw "golang.org/x/image/draw"

	"hotline/internal/hotline"
)

// Photo limits: a phone photo fits easily; a decompression bomb does not.
const (
	MaxBytes  = 10 << 20
	MaxPixels = 40_000_000
	// MaxSide is the longest side kept; larger photos are scaled down,
	// which also keeps a sealed thread small.
	MaxSide = 2560
	// Wait is how long Clean waits for room in the decode budget.
	Wait = 30 * time.Second
)

// Errors of photo cleaning beyond hotline.ErrPhotoTooLarge and
// hotline.ErrPhotoInvalid.
var (
	// ErrTooCostly refuses an image whose decoding would take more
	// memory than one photo may: few bytes and pixels can still cost
	// gigabytes when the JPEG is progressive or CMYK, or the PNG 16-bit.
	ErrTooCostly = hotline.Errorf(hotline.ETOOLARGE,
		"这张图片打开需要的内存太多（渐进式、CMYK 或 16 位的图片像素上限更低）。请直接发送手机拍的照片，或者截图后再发送。",
		"This image would take too much memory to open (progressive, CMYK and 16-bit images have a lower pixel limit). Please send the photo straight from the phone camera, or a screenshot of it.")
	// ErrBusy answers a photo that found the decode budget taken for
	// longer than its caller would wait.
	ErrBusy = hotline.Errorf(hotline.ERATELIMIT,
		"现在人有点多，照片没能处理，请稍等片刻再发送一次。",
		"We are busy right now and could not process the photo; please send it again in a moment.")
)

// testHookDecoding, when set by a test, runs once the decode budget is
// held, with the bytes held; the function it returns runs just before
// they are released.
var testHookDecoding func(cost int64) (done func())

// Clean is CleanContext waiting at most Wait for room in
// the decode budget.
func Clean(data []byte) (*hotline.Photo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	return CleanContext(ctx, data)
}

// CleanContext decodes an image within byte, pixel and memory limits
// and re-encodes it from its pixels alone, so EXIF, GPS and every other
// metadata block is gone; a JPEG's Exif orientation is applied first, so
// the photo stays upright. JPEG stays JPEG; PNG and GIF become PNG.
//
// The memory the decode will take is estimated from the header, and held
// in the process-wide decode budget (SetBudget) from before decoding
// until the photo is re-encoded; an image whose estimate exceeds what one
// photo may take is refused with ErrTooCostly. If ctx ends while
// waiting for room, it returns ErrBusy. Callers should read the
// upload completely before calling, so a slow upload holds no budget.
func CleanContext(ctx context.Context, data []byte) (*hotline.Photo, error) {
	if len(data) > MaxBytes {
		return nil, hotline.ErrPhotoTooLarge
	}
	h, err := inspectPhoto(data)
	if err != nil {
		return nil, err
	}
	cost := h.decodeCost()
	if cost > photoImageLimit() {
		return nil, ErrTooCostly
	}
	if err := photoBudget.acquire(ctx, cost); errors.Is(err, errOverBudget) {
		return nil, ErrTooCostly
	} else if err != nil {
		return nil, ErrBusy
	}
	defer photoBudget.release(cost)
	if hook := testHookDecoding; hook != nil {
		defer hook(cost)()
	}
	return decodeClean(data, h)
}

// inspectPhoto reads an image's header: format, size and what its
// decoding costs.
func inspectPhoto(data []byte) (*photoHeader, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, hotline.ErrPhotoTooLarge
	}
	var h *photoHeader
	ok := true
	switch format {
	case "jpeg":
		h, ok = scanJPEG(data)
	case "png":
		h, ok = scanPNG(data)
	case "gif":
		h = &photoHeader{format: "gif", width: cfg.Width, height: cfg.Height, orientation: 1}
	default:
		return nil, hotline.ErrPhotoInvalid
	}
	// The scan must describe the same image the decoder will see.
	if !ok || h.width != cfg.Width || h.height != cfg.Height {
		return nil, hotline.ErrPhotoInvalid
	}
	return h, nil
}

// decodeClean decodes, shrinks, orients and re-encodes. The decoded image
// is dropped as soon as the shrunk copy exists, so the collector can take
// it back while the copy is encoded.
func decodeClean(data []byte, h *photoHeader) (*hotline.Photo, error) {
	var img image.Image
	var err error
	switch h.format {
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	img = orient(shrink(img), h.orientation)
	var out chunkWriter
	typ := "image/png"
	if h.format == "jpeg" {
		typ = "image/jpeg"
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 85})
	} else {
		err = png.Encode(&out, img)
	}
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	return &hotline.Photo{Data: out.bytes(), Type: typ}, nil
}

// chunkWriter collects an encoded photo in fixed chunks and joins them
// once: a growing bytes.Buffer would hold up to three times the photo
// while it grows, and hand back a slice with unused capacity that the
// sealing pipeline would carry along.
type chunkWriter struct {
	chunks [][]byte
	n      int
}

const chunkSize = 64 << 10

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.chunks) == 0 || len(c.chunks[len(c.chunks)-1]) == chunkSize {
			c.chunks = append(c.chunks, make([]byte, 0, chunkSize))
		}
		last := &c.chunks[len(c.chunks)-1]
		k := min(len(p), chunkSize-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	c.n += n
	return n, nil
}

func (c *chunkWriter) bytes() []byte {
	out := make([]byte, 0, c.n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	c.chunks = nil
	return out
}

// shrunkSize is the size of a w x h photo once its longest side is at
// most MaxSide.
func shrunkSize(w, h int) (int, int) {
	if w <= MaxSide && h <= MaxSide {
		return w, h
	}
	if w >= h {
		h, w = int(int64(h)*MaxSide/int64(w)), MaxSide
	} else {
		w, h = int(int64(w)*MaxSide/int64(h)), MaxSide
	}
	return max(w, 1), max(h, 1)
}

func shrink(img image.Image) image.Image {
	b := img.Bounds()
	w, h := shrunkSize(b.Dx(), b.Dy())
	if w == b.Dx() && h == b.Dy() {
		return img
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
