package photo

import (
	"container/list"
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// DefaultBudget is the memory, in bytes, that all photo decodes of
// the process may hold at once unless SetBudget says otherwise.
const DefaultBudget = 256 << 20

// freeAfterBytes is how many estimated bytes of decoding, since memory
// was last handed back, make the last decode to finish return the heap's
// free pages to the OS. Go's background scavenger returns them slowly, so
// without this RSS stays near the peak of a burst long after it ends.
var freeAfterBytes int64 = 64 << 20

// photoBudget is the one process-wide limit on decoder memory. Every path
// that takes a photo (mailbox, web chat, Telegram photos and documents,
// the staff inbox) ends in CleanContext, which holds the estimate of
// its decode here from before decoding until the cleaned photo is encoded.
var photoBudget = newByteSemaphore(DefaultBudget)

// SetBudget sets the memory, in bytes, that all photo decodes of the
// process may hold at once; one image may take at most three quarters of
// it, so that small photos still pass while a large one decodes. A value
// below 16 MiB is raised to 16 MiB. Call it before serving: decodes
// already running keep what they hold.
func SetBudget(bytes int64) {
	photoBudget.resize(max(bytes, 16<<20))
}

// photoImageLimit is the most one image may be estimated to need.
func photoImageLimit() int64 { return photoBudget.capacity() / 4 * 3 }

// byteSemaphore is a weighted semaphore over bytes. Waiters are served in
// order, so a large decode is not starved by a stream of small ones.
type byteSemaphore struct {
	mu      sync.Mutex
	size    int64
	cur     int64
	waiters list.List // of *bytesWaiter

	sinceFree   int64 // estimated bytes released since the last FreeOSMemory
	freeRunning atomic.Bool
}

type bytesWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes are granted
}

func newByteSemaphore(size int64) *byteSemaphore { return &byteSemaphore{size: size} }

func (s *byteSemaphore) capacity() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// errOverBudget is returned by acquire for more bytes than the whole
// budget: they would never be free.
var errOverBudget = errors.New("photo decode estimate exceeds the whole budget")

// acquire takes n bytes, waiting until they are free or ctx is done.
func (s *byteSemaphore) acquire(ctx context.Context, n int64) error {
	s.mu.Lock()
	if n > s.size {
		s.mu.Unlock()
		return errOverBudget
	}
	if s.size-s.cur >= n && s.waiters.Len() == 0 {
		s.cur += n
		s.mu.Unlock()
		return nil
	}
	w := &bytesWaiter{n: n, ready: make(chan struct{})}
	elem := s.waiters.PushBack(w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		select {
		case <-w.ready:
			// Granted while giving up: hand the bytes back.
			s.cur -= n
		default:
			s.waiters.Remove(elem)
		}
		s.notify()
		s.mu.Unlock()
		return ctx.Err()
	}
}

// release returns n bytes and, at the end of a burst of large decodes,
// hands the freed heap back to the OS.
func (s *byteSemaphore) release(n int64) {
	s.mu.Lock()
	s.cur -= n
	s.sinceFree += n
	free := s.cur == 0 && s.sinceFree >= freeAfterBytes
	if free {
		s.sinceFree = 0
	}
	s.notify()
	s.mu.Unlock()
	if free && s.freeRunning.CompareAndSwap(false, true) {
		// FreeOSMemory runs a full collection: not on the caller's time.
		go func() {
			defer s.freeRunning.Store(false)
			debug.FreeOSMemory()
		}()
	}
}

// resize changes the size and wakes waiters that now fit.
func (s *byteSemaphore) resize(size int64) {
	s.mu.Lock()
	s.size = size
	s.notify()
	s.mu.Unlock()
}

// notify grants waiters in order while they fit; s.mu is held.
func (s *byteSemaphore) notify() {
	for {
		e := s.waiters.Front()
		if e == nil {
			return
		}
		w := e.Value.(*bytesWaiter)
		if s.size-s.cur < w.n {
			return
		}
		s.cur += w.n
		s.waiters.Remove(e)
		close(w.ready)
	}
}
