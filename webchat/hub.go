package webchat

// The hub: the registry of a Server's websocket connections and chat
// sessions, the one goroutine that pings them all, the eviction of idle
// sessions, the origin check and the upgrade.

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
)

// hub holds the connections and sessions of one Server.
type hub struct {
	s        *Server
	upgrader websocket.Upgrader
	uploads  chan struct{} // photo frames being read into memory
	nconns   atomic.Int64
	ctx      context.Context
	cancel   context.CancelFunc

	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	sessions map[string]*session

	// applying counts messages being applied; once closing is set no new
	// one starts, and closeAll waits for those under way, so that a
	// shutdown leaves each message applied and marked, or not begun.
	applyMu  sync.Mutex
	closing  bool
	applying sync.WaitGroup
}

// beginApply admits a message for applying, unless the hub is closing.
func (h *hub) beginApply() bool {
	h.applyMu.Lock()
	defer h.applyMu.Unlock()
	if h.closing {
		return false
	}
	h.applying.Add(1)
	return true
}

// applyWait bounds how long a shutdown waits for messages being applied.
const applyWait = 10 * time.Second

func newHub(s *Server) *hub {
	h := &hub{s: s, conns: map[*wsConn]struct{}{}, sessions: map[string]*session{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.uploads = make(chan struct{}, s.Limits.PhotoUploads)
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// A small read buffer and pooled write buffers: an idle connection
		// holds 512 bytes of buffer instead of two 4 KiB ones.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			http.Error(w, http.StatusText(status), status)
		},
	}
	return h
}

// checkOrigin accepts only our own origin. The chat page is served from
// our origin even inside a school's site (the widget frames it), so a
// school's origin never has a reason to open the socket itself. A missing
// Origin is a non-browser client, which cannot be tricked into anything.
func (s *Server) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	o = cleanOrigin(o)
	if o == "" {
		return false
	}
	if o == s.origin() {
		return true
	}
	return o == "https://"+strings.ToLower(r.Host) || o == "http://"+strings.ToLower(r.Host)
}

func (h *hub) stats() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns), len(h.sessions)
}

// run pings every connection from one goroutine, rather than a ticker per
// connection, and forgets idle sessions.
func (h *hub) run(ctx context.Context) {
	ping := time.NewTicker(h.s.Limits.PingInterval)
	defer ping.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return
		case <-ping.C:
			for _, c := range h.connList() {
				c.queuePing()
			}
		case <-sweep.C:
			h.sweep(h.s.Now())
		}
	}
}

func (h *hub) sweep(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for tok, ss := range h.sessions {
		if ss.idleFor(now) > h.s.Limits.SessionIdle {
			delete(h.sessions, tok)
		}
	}
}

func (h *hub) closeAll() {
	h.applyMu.Lock()
	h.closing = true
	h.applyMu.Unlock()
	for _, c := range h.connList() {
		c.ws.Close()
	}
	// Messages under way finish (their effect and its mark) before the
	// parts they write to close; a page resends whatever was not acked.
	done := make(chan struct{})
	go func() { h.applying.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(applyWait):
	}
	h.cancel()
}

// connList copies the registry, so that no connection is written to or
// closed under the hub's lock.
func (h *hub) connList() []*wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	conns := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	return conns
}

// session finds or creates the session of a token. A full table evicts
// the longest idle session that has no connection.
func (h *hub) session(token string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ss := h.sessions[token]; ss != nil {
		return ss
	}
	if len(h.sessions) >= h.s.Limits.MaxSessions {
		var oldest *session
		var oldestTok string
		now := h.s.Now()
		for tok, ss := range h.sessions {
			if d := ss.idleFor(now); d > 0 && (oldest == nil || d > oldest.idleFor(now)) {
				oldest, oldestTok = ss, tok
			}
		}
		if oldest == nil {
			return nil
		}
		delete(h.sessions, oldestTok)
	}
	ss := newSession(token, h.s.sessionMAC(token), h.s.Now())
	h.sessions[token] = ss
	return ss
}

// handleWS upgrades to a websocket and starts its reader; the handler's own
// goroutine (with the stack the HTTP handling grew) then ends.
// One client (address) opens connections at a bounded rate and holds a
// bounded number; the global cap comes after, so a client refused by its
// own limits takes nothing from everyone's.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	h := s.hub
	client := s.clientOf(r)
	if ok, wait := s.limits.Allow(client, actConnect); !ok {
		retryAfter(w, wait)
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	release, ok := s.limits.Hold(client)
	if !ok {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many connections from this address", http.StatusTooManyRequests)
		return
	}
	if h.nconns.Add(1) > int64(s.Limits.MaxConns) {
		h.nconns.Add(-1)
		release()
		w.Header().Set("Retry-After", "10")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.nconns.Add(-1)
		release()
		return
	}
	c := &wsConn{h: h, ws: ws, client: client, release: release}
	c.setLanguage(hotline.LangZH)
	c.rate.init(s.Limits.PerConnRate, s.Limits.PerConnBurst, s.Now)
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	go c.readLoop()
}
