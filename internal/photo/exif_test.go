package photo

import (
	"encoding/binary"
)

// exifWithOrientation is a TIFF structure whose IFD0 holds a
// DateTime-like ASCII entry and then Orientation, as phones write it.
func exifWithOrientation(bo binary.AppendByteOrder, o uint16) []byte {
	var b []byte
	if bo == binary.AppendByteOrder(binary.LittleEndian) {
		b = []byte("II*\x00")
	} else {
		b = []byte("MM\x00*")
	}
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, 2)
	// 0x0132 DateTime, ASCII, 20 bytes at offset 38.
	b = bo.AppendUint16(b, 0x0132)
	b = bo.AppendUint16(b, 2)
	b = bo.AppendUint32(b, 20)
	b = bo.AppendUint32(b, 38)
	// 0x0112 Orientation, SHORT, 1.
	b = bo.AppendUint16(b, 0x0112)
	b = bo.AppendUint16(b, 3)
	b = bo.AppendUint32(b, 1)
	b = bo.AppendUint16(b, o)
	b = append(b, 0, 0)
	b = bo.AppendUint32(b, 0) // no IFD1
	return append(b, "2024:05:01 08:00:00\x00"...)
}
