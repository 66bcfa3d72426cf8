package store

import (
	"encoding/binary"
	"os"
)

// walCounter counts the WAL frames the writer's commits append: each is one
// page write (4 KiB plus a 24-byte header) and, at synchronous=FULL, part of
// the fsync every commit waits for, so frames per tip is the measure of how
// much a submission writes.
//
// It reads mxFrame (the number of valid frames in the WAL) and the WAL salt
// from the wal-index header at the start of the -shm file, whose layout is
// part of SQLite's documented file formats ("The WAL-Index Format"): a
// 48-byte header, stored twice, in native byte order, with mxFrame at
// offset 16 and the salt at offset 32. A new salt means the WAL was
// restarted after a checkpoint, and the frames counted from zero again.
// Only the writer goroutine uses it, after each commit.
type walCounter struct {
	shm    *os.File
	failed bool
	last   uint32
	salt   uint64
}

// count returns the frames appended since its previous call.
func (w *walCounter) count(dbPath string) int64 {
	if w.failed {
		return 0
	}
	if w.shm == nil {
		f, err := os.Open(dbPath + "-shm")
		if err != nil {
			// No wal-index (not WAL, or not SQLite): nothing to count.
			w.failed = true
			return 0
		}
		w.shm = f
	}
	var hdr [48]byte
	if _, err := w.shm.ReadAt(hdr[:], 0); err != nil {
		return 0
	}
	mx := binary.NativeEndian.Uint32(hdr[16:])
	salt := binary.NativeEndian.Uint64(hdr[32:])
	var n int64
	if salt == w.salt && mx >= w.last {
		n = int64(mx - w.last)
	} else {
		n = int64(mx) // restarted: these frames are all new
	}
	w.last, w.salt = mx, salt
	return n
}

func (w *walCounter) close() {
	if w.shm != nil {
		w.shm.Close()
		w.shm = nil
	}
}
