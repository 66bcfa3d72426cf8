package photo

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// exifPrefix opens the APP1 segment that holds Exif metadata.
var exifPrefix = []byte("Exif\x00\x00")

// exifOrientation returns the Orientation tag (1–8) of a TIFF structure
// (the body of an Exif APP1 segment after its prefix), or 1 when the tag
// is absent, malformed or out of range. Only IFD0 is read, every offset
// is checked against the data, and the number of entries read is bounded
// by the data, so hostile input costs at most one pass over it.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > uint64(len(tiff)) {
		return 1
	}
	n := uint64(bo.Uint16(tiff[off:]))
	entries := tiff[off+2:]
	if n*12 > uint64(len(entries)) {
		n = uint64(len(entries)) / 12 // a truncated IFD: read what is there
	}
	for i := range n {
		e := entries[i*12 : i*12+12]
		if bo.Uint16(e) != 0x0112 {
			continue
		}
		// Orientation is one SHORT (type 3), stored in the first two bytes
		// of the value field.
		if bo.Uint16(e[2:]) != 3 || bo.Uint32(e[4:]) != 1 {
			return 1
		}
		if v := int(bo.Uint16(e[8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// orient returns src turned as its Exif orientation says, so that the
// photo displays upright once the metadata is gone. Orientations 5–8 swap
// width and height.
func orient(src image.Image, orientation int) image.Image {
	if orientation <= 1 || orientation > 8 {
		return src
	}
	s := toRGBA(src)
	w, h := s.Rect.Dx(), s.Rect.Dy()
	dw, dh := w, h
	if orientation >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		for x := range dw {
			var sx, sy int
			switch orientation {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, h-1-x
			case 7: // transverse
				sx, sy = w-1-y, h-1-x
			case 8: // needs a quarter turn counter-clockwise
				sx, sy = w-1-y, x
			}
			si := sy*s.Stride + sx*4
			di := y*dst.Stride + x*4
			copy(dst.Pix[di:di+4], s.Pix[si:si+4])
		}
	}
	return dst
}

// toRGBA returns img as an *image.RGBA with origin (0, 0), converting it
// if needed.
func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}
