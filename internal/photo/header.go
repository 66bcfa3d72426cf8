package photo

import (
	"bytes"
	"encoding/binary"
	"math"
)

// photoHeader is what the first bytes of an image say about the memory
// Go's decoders will need for it. It is read before any pixel is
// decoded, from a bounds-checked scan of the markers or chunks that
// precede the pixel data.
type photoHeader struct {
	format        string // "jpeg", "png" or "gif"
	width, height int

	// JPEG: the SOF marker (0xC0 baseline, 0xC1 extended, 0xC2
	// progressive), sample precision and components with their sampling
	// factors; whether the colours are stored as RGB rather than YCbCr
	// (the decoder then converts to a full RGBA image); the Exif
	// orientation (1 when absent or unreadable).
	sof         byte
	precision   int
	comps       []jpegComp
	rgb         bool
	orientation int

	// PNG: bit depth, colour type, Adam7 interlacing, a tRNS chunk (which
	// turns gray and truecolour images into NRGBA).
	depth, colorType int
	interlaced, trns bool
}

type jpegComp struct {
	id   byte
	h, v int
}

// progressive reports whether a JPEG is progressive: Go's decoder then
// keeps every DCT coefficient of the image (256 bytes per 8x8 block and
// component) until the last scan.
func (h *photoHeader) progressive() bool { return h.format == "jpeg" && h.sof == 0xC2 }

// scanJPEG reads the marker segments of a JPEG up to its first scan. It
// returns false for anything Go's decoder would refuse anyway (no SOF,
// arithmetic coding, lossless, 12-bit, a component count other than 1, 3
// or 4, sampling factors outside 1–4) or that is malformed before the
// first scan. It never reads past data.
func scanJPEG(data []byte) (*photoHeader, bool) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, false
	}
	h := &photoHeader{format: "jpeg", orientation: 1}
	var jfif, adobe bool
	var adobeTransform byte
	exifSeen := false
	p := 2
	for {
		// A marker is 0xFF, optional 0xFF fill bytes, then the code.
		if p >= len(data) || data[p] != 0xFF {
			return nil, false
		}
		for p < len(data) && data[p] == 0xFF {
			p++
		}
		if p >= len(data) {
			return nil, false
		}
		marker := data[p]
		p++
		switch {
		case marker == 0x00 || marker == 0xD8 || marker == 0xD9:
			// A stuffed zero, a second SOI or EOI before any scan.
			return nil, false
		case marker >= 0xD0 && marker <= 0xD7 || marker == 0x01:
			continue // RSTn and TEM carry no length.
		}
		if p+2 > len(data) {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(data[p:]))
		if n < 2 || p+n > len(data) {
			return nil, false
		}
		seg := data[p+2 : p+n]
		p += n
		switch {
		case marker == 0xDA: // SOS: pixel data follows.
			if h.sof == 0 {
				return nil, false
			}
			h.rgb = len(h.comps) == 3 && !jfif && (adobe && adobeTransform == 0 ||
				h.comps[0].id == 'R' && h.comps[1].id == 'G' && h.comps[2].id == 'B')
			return h, true
		case marker == 0xC0 || marker == 0xC1 || marker == 0xC2:
			if h.sof != 0 || !h.readSOF(marker, seg) {
				return nil, false
			}
		case marker >= 0xC3 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			return nil, false // lossless, hierarchical or arithmetic coding
		case marker == 0xE0:
			jfif = jfif || bytes.HasPrefix(seg, []byte("JFIF\x00"))
		case marker == 0xE1:
			if !exifSeen && bytes.HasPrefix(seg, exifPrefix) {
				exifSeen = true
				h.orientation = exifOrientation(seg[len(exifPrefix):])
			}
		case marker == 0xEE:
			if len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")) {
				adobe, adobeTransform = true, seg[11]
			}
		}
	}
}

// readSOF reads a start-of-frame segment.
func (h *photoHeader) readSOF(marker byte, seg []byte) bool {
	if len(seg) < 6 {
		return false
	}
	h.sof = marker
	h.precision = int(seg[0])
	h.height = int(binary.BigEndian.Uint16(seg[1:]))
	h.width = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if h.precision != 8 || h.width == 0 || h.height == 0 || nc != 1 && nc != 3 && nc != 4 || len(seg) != 6+3*nc {
		return false
	}
	for i := range nc {
		c := seg[6+3*i:]
		hf, vf := int(c[1]>>4), int(c[1]&0x0F)
		if hf < 1 || hf > 4 || vf < 1 || vf > 4 {
			return false
		}
		if nc == 1 {
			hf, vf = 1, 1 // the decoder ignores a lone component's factors
		}
		h.comps = append(h.comps, jpegComp{id: c[0], h: hf, v: vf})
	}
	return true
}

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// scanPNG reads the IHDR chunk of a PNG and looks for a tRNS chunk before
// the first IDAT. It returns false for a malformed header.
func scanPNG(data []byte) (*photoHeader, bool) {
	if !bytes.HasPrefix(data, pngSignature) {
		return nil, false
	}
	h := &photoHeader{format: "png", orientation: 1}
	p := len(pngSignature)
	for first := true; ; first = false {
		if p+8 > len(data) {
			// A truncated file is rejected by the decoder later; what
			// matters here is the size, known from IHDR.
			return h, !first
		}
		n := int(binary.BigEndian.Uint32(data[p:]))
		typ := string(data[p+4 : p+8])
		if n < 0 || n > len(data) {
			return nil, false
		}
		body := data[p+8:]
		switch {
		case first && (typ != "IHDR" || n != 13 || len(body) < 13):
			return nil, false
		case first:
			w, hh := binary.BigEndian.Uint32(body), binary.BigEndian.Uint32(body[4:])
			if w == 0 || hh == 0 || w > 1<<31-1 || hh > 1<<31-1 {
				return nil, false
			}
			h.width, h.height = int(w), int(hh)
			h.depth, h.colorType = int(body[8]), int(body[9])
			h.interlaced = body[12] == 1
		case typ == "tRNS":
			h.trns = true
		case typ == "IDAT":
			return h, true
		}
		p += 12 + n // length, type, body, CRC
	}
}

// decodeSlack covers what the decoders and encoders allocate beyond pixel
// buffers: Huffman and zlib state, row buffers, the decoder structs.
const decodeSlack = 2 << 20

// decodeCost estimates the peak bytes that decoding, shrinking, orienting
// and re-encoding the image take, from the allocations Go's decoders make
// for it (image/jpeg: one plane per component padded to whole MCUs, plus
// 256 bytes per 8x8 block and component for progressive images, plus a
// 4-byte-per-pixel image for CMYK/YCCK and RGB; image/png: the image at
// 1–8 bytes per pixel, twice for Adam7). TestDecodeCostCoversDecoders
// checks it against the bytes the decoders actually allocate.
func (h *photoHeader) decodeCost() int64 {
	w, ht := int64(h.width), int64(h.height)
	px := w * ht
	if w > MaxPixels || ht > MaxPixels || px > MaxPixels {
		return math.MaxInt64 // never decoded; and the products below stay small
	}
	var dec int64
	switch h.format {
	case "jpeg":
		hmax, vmax := 1, 1
		for _, c := range h.comps {
			hmax, vmax = max(hmax, c.h), max(vmax, c.v)
		}
		mxx := (w + int64(8*hmax) - 1) / int64(8*hmax)
		myy := (ht + int64(8*vmax) - 1) / int64(8*vmax)
		for _, c := range h.comps {
			dec += mxx * int64(8*c.h) * myy * int64(8*c.v)
		}
		if h.progressive() {
			dec *= 5 // each sample kept as an int32 coefficient too
		}
		if len(h.comps) == 4 || h.rgb {
			dec += 4 * px
		}
	case "png":
		dec = pngBpp(h) * px
		if h.interlaced {
			dec *= 2 // one image per pass, merged into the whole
		}
	default: // gif: one paletted frame within the logical screen
		dec = px
	}
	ow, oh := shrunkSize(h.width, h.height)
	outPx := int64(ow) * int64(oh)
	shrunk := ow != h.width || oh != h.height
	var post int64
	if shrunk {
		post += 4 * outPx // the RGBA copy it is scaled into
	}
	if h.orientation > 1 {
		post += 4 * outPx // the turned copy
		if !shrunk {
			post += 4 * outPx // converted to RGBA before turning
		}
	}
	// The encoded photo, collected in chunks and then joined: twice its
	// size. A JPEG at quality 85 stays under 1 byte per pixel even for
	// noise (2 allows for it); a PNG of noise is as large as its pixels.
	outBpp := int64(2)
	if h.format != "jpeg" {
		outBpp = 4
		if !shrunk && h.orientation <= 1 {
			outBpp = pngBpp(h)
		}
	}
	post += 2 * outBpp * outPx
	if outBpp == 8 {
		// png.Encode reads a 16-bit image through At, one boxed colour
		// per pixel: garbage, but made faster than a collection runs.
		post += 8 * outPx
	}
	return dec + post + decodeSlack
}

// pngBpp is the bytes per pixel of the image png.Decode returns.
func pngBpp(h *photoHeader) int64 {
	switch {
	case h.depth == 16:
		return 8
	case h.colorType == 3, h.colorType == 0 && !h.trns:
		return 1
	}
	return 4
}
