package photo

import (
	"encoding/binary"
	"math/bits"
)

// flatJPEG spells out the JPEG of a flat grey (or flat ink) image, the
// kind an attacker sends: a few hundred KB that Go's decoder turns into
// as many pixels as the header says. image/jpeg can only write baseline
// 4:2:0 YCbCr; this writes baseline or progressive, 1, 3 or 4 components
// (4 marked CMYK with an Adobe segment) at any sampling.
type flatJPEG struct {
	w, h        int
	progressive bool
	comps       int    // 1, 3 or 4
	sampling    [4]int // per component h<<4|v; zero means 0x11
	exif        []byte // an APP1 body after "Exif\0\0", if any
}

func (f flatJPEG) bytes() []byte {
	seg := func(out []byte, marker byte, body []byte) []byte {
		out = append(out, 0xFF, marker)
		out = binary.BigEndian.AppendUint16(out, uint16(len(body)+2))
		return append(out, body...)
	}
	out := []byte{0xFF, 0xD8}
	if f.comps == 4 {
		// Adobe APP14, transform 0: CMYK.
		out = seg(out, 0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00"))
	} else {
		out = seg(out, 0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	}
	if f.exif != nil {
		out = seg(out, 0xE1, append([]byte("Exif\x00\x00"), f.exif...))
	}
	dqt := make([]byte, 65)
	for i := 1; i < 65; i++ {
		dqt[i] = 1
	}
	out = seg(out, 0xDB, dqt)

	samp := make([]int, f.comps)
	hmax, vmax := 1, 1
	for i := range samp {
		samp[i] = f.sampling[i]
		if samp[i] == 0 || f.comps == 1 {
			samp[i] = 0x11
		}
		hmax, vmax = max(hmax, samp[i]>>4), max(vmax, samp[i]&15)
	}
	sof := []byte{8}
	sof = binary.BigEndian.AppendUint16(sof, uint16(f.h))
	sof = binary.BigEndian.AppendUint16(sof, uint16(f.w))
	sof = append(sof, byte(f.comps))
	for i := range f.comps {
		sof = append(sof, byte(i+1), byte(samp[i]), 0)
	}
	marker := byte(0xC0)
	if f.progressive {
		marker = 0xC2
	}
	out = seg(out, marker, sof)

	// DC table: one code, "0", for difference category 0 (no change).
	out = seg(out, 0xC4, append([]byte{0x00, 1}, append(make([]byte, 15), 0)...))
	// AC table: baseline needs only EOB ("0"); progressive needs EOBRUN
	// symbols r<<4 for r = 0..14, all 4-bit codes.
	if f.progressive {
		ac := append([]byte{0x10, 0, 0, 0, 15}, make([]byte, 12)...)
		for r := range 15 {
			ac = append(ac, byte(r<<4))
		}
		out = seg(out, 0xC4, ac)
	} else {
		out = seg(out, 0xC4, append([]byte{0x10, 1}, append(make([]byte, 15), 0)...))
	}

	mxx, myy := (f.w+8*hmax-1)/(8*hmax), (f.h+8*vmax-1)/(8*vmax)
	sos := func(comps []int, ss, se byte) []byte {
		b := []byte{byte(len(comps))}
		for _, c := range comps {
			b = append(b, byte(c+1), 0x00)
		}
		return append(b, ss, se, 0)
	}
	all := make([]int, f.comps)
	blocks := 0 // blocks in an interleaved scan
	for i := range all {
		all[i] = i
		blocks += (samp[i] >> 4) * (samp[i] & 15)
	}
	blocks *= mxx * myy
	if f.comps == 1 {
		// A single-component scan is not interleaved: whole blocks only.
		blocks = ((f.w + 7) / 8) * ((f.h + 7) / 8)
	}
	if !f.progressive {
		// Every block: DC "0", EOB "0".
		out = seg(out, 0xDA, sos(all, 0, 63))
		var bw bitWriter
		bw.zeros(2 * blocks)
		out = append(out, bw.flush()...)
		return append(out, 0xFF, 0xD9)
	}
	out = seg(out, 0xDA, sos(all, 0, 0))
	var bw bitWriter
	bw.zeros(blocks)
	out = append(out, bw.flush()...)
	for c := range f.comps {
		// A non-interleaved AC scan: Go's decoder visits the component's
		// blocks that start inside the image's full-resolution size.
		n := min(mxx*(samp[c]>>4), (f.w+7)/8) * min(myy*(samp[c]&15), (f.h+7)/8)
		out = seg(out, 0xDA, sos([]int{c}, 1, 63))
		var bw bitWriter
		for n > 0 {
			run := min(n, 32767)
			r := bits.Len(uint(run)) - 1
			bw.put(uint32(r), 4)
			bw.put(uint32(run-1<<r), r)
			n -= run
		}
		out = append(out, bw.flush()...)
	}
	return append(out, 0xFF, 0xD9)
}

// bitWriter writes entropy-coded bits MSB first with 0xFF byte stuffing.
type bitWriter struct {
	out  []byte
	acc  uint32
	nacc int
}

func (b *bitWriter) put(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		b.acc = b.acc<<1 | (v>>i)&1
		b.nacc++
		if b.nacc == 8 {
			b.emit(byte(b.acc))
			b.acc, b.nacc = 0, 0
		}
	}
}

func (b *bitWriter) zeros(n int) {
	for n > 0 && b.nacc != 0 {
		b.put(0, 1)
		n--
	}
	b.out = append(b.out, make([]byte, n/8)...)
	b.put(0, n%8)
}

func (b *bitWriter) emit(c byte) {
	b.out = append(b.out, c)
	if c == 0xFF {
		b.out = append(b.out, 0)
	}
}

// flush pads the last byte with ones, as the standard asks.
func (b *bitWriter) flush() []byte {
	if b.nacc > 0 {
		b.put(0xFF, 8-b.nacc)
	}
	return b.out
}
