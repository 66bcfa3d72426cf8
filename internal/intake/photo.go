package intake

import (
	"bytes"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	xdraw "golang.org/x/image/draw"

	"hotline/internal/hotline"
)

// Photo limits: a phone photo fits easily; a decompression bomb does not.
const (
	MaxPhotoBytes  = 10 << 20
	MaxPhotoPixels = 40_000_000
	// MaxPhotoSide is the longest side kept; larger photos are scaled down,
	// which also keeps a sealed thread small.
	MaxPhotoSide = 2560
)

// CleanPhoto decodes an image within byte and pixel limits and re-encodes
// it from its pixels alone, so EXIF, GPS and every other metadata block is
// gone. JPEG stays JPEG; PNG and GIF become PNG.
func CleanPhoto(data []byte) (*hotline.Photo, error) {
	if len(data) > MaxPhotoBytes {
		return nil, hotline.ErrPhotoTooLarge
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, hotline.ErrPhotoTooLarge
	}
	var img image.Image
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		return nil, hotline.ErrPhotoInvalid
	}
	if err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	img = shrink(img)
	var out bytes.Buffer
	if format == "jpeg" {
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 85}); err != nil {
			return nil, hotline.ErrPhotoInvalid
		}
		return &hotline.Photo{Data: out.Bytes(), Type: "image/jpeg"}, nil
	}
	if err := png.Encode(&out, img); err != nil {
		return nil, hotline.ErrPhotoInvalid
	}
	return &hotline.Photo{Data: out.Bytes(), Type: "image/png"}, nil
}

func shrink(img image.Image) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= MaxPhotoSide && h <= MaxPhotoSide {
		return img
	}
	if w >= h {
		h, w = h*MaxPhotoSide/w, MaxPhotoSide
	} else {
		w, h = w*MaxPhotoSide/h, MaxPhotoSide
	}
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
