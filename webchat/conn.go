package webchat

// One websocket connection: its read loop and its on-demand write loop.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/live"
)

// bufPool holds the buffers that text frames are read into, so an idle
// connection keeps none.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// wsConn is one websocket. Its reader goroutine lives as long as the
// socket; a writer goroutine exists only while there is something to write
// (at most one at a time), so an idle connection costs one small stack.
type wsConn struct {
	h    *hub
	ws   *websocket.Conn
	rate bucket
	// client is the address the per-client limits count this connection
	// under (the limiter keeps only a keyed hash of it); release gives
	// back its place in the client's connection cap.
	client  netip.Addr
	release func()

	mu      sync.Mutex
	queue   [][]byte
	ping    bool
	closing []byte // a close frame to send last
	writing bool
	dead    bool

	// lang is the conversation's language: read by the read loop (errors)
	// and written by message goroutines (the engine's replies), so atomic.
	lang atomic.Value // hotline.Lang

	// Set by the reader goroutine only.
	sess    *session
	school  string
	page    string // the page secret from hello; never logged
	strikes int
	// frameDeadline, while a photo frame is read, is when reading it must
	// end: pongs extend the connection's deadline only up to it.
	frameDeadline time.Time

	subMu sync.Mutex
	sub   *live.Subscription
	subOf string
}

// Bounds on a connection that does not read what it is sent.
const (
	maxQueue   = 512
	maxStrikes = 64
)

func (c *wsConn) enqueue(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	if len(c.queue) >= maxQueue {
		// A page that reads nothing: drop the socket; the session keeps
		// the frames for its next connection.
		c.dead = true
		go c.ws.Close()
		return
	}
	c.queue = append(c.queue, b)
	c.startWriter()
}

func (c *wsConn) queuePing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	c.ping = true
	c.startWriter()
}

// replaced tells the page that another connection took its session over,
// then closes.
func (c *wsConn) replaced() {
	c.direct(c.errorFrame("", codeReplaced))
	c.closeWith(4000, codeReplaced)
}

// closeWith sends a close frame after what is queued, then closes.
func (c *wsConn) closeWith(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.closing != nil {
		return
	}
	c.closing = websocket.FormatCloseMessage(code, reason)
	c.startWriter()
}

func (c *wsConn) startWriter() {
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop is the connection's only writer. It drains the queue and ends.
func (c *wsConn) writeLoop() {
	wait := c.h.s.Limits.WriteWait
	for {
		c.mu.Lock()
		q, ping, closing := c.queue, c.ping, c.closing
		c.queue, c.ping = nil, false
		if len(q) == 0 && !ping && closing == nil || c.dead {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if closing != nil {
			c.dead = true
		}
		c.mu.Unlock()
		deadline := time.Now().Add(wait)
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.fail()
				return
			}
		}
		c.ws.SetWriteDeadline(deadline)
		for _, b := range q {
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.fail()
				return
			}
		}
		if closing != nil {
			c.ws.WriteControl(websocket.CloseMessage, closing, deadline)
			// Give the peer a moment to answer the close, then hang up.
			time.AfterFunc(time.Second, func() { c.ws.Close() })
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			return
		}
	}
}

func (c *wsConn) fail() {
	c.mu.Lock()
	c.dead, c.writing, c.queue = true, false, nil
	c.mu.Unlock()
	c.ws.Close()
}

// direct sends a frame that belongs to no session (protocol errors): it is
// not numbered and not kept.
func (c *wsConn) direct(f outFrame) {
	f.V = protocolVersion
	b, err := json.Marshal(f)
	if err == nil {
		c.enqueue(b)
	}
}

func (c *wsConn) readLoop() {
	defer c.cleanup()
	l := c.h.s.Limits
	c.ws.SetReadLimit(l.PhotoBytes + photoHeaderMax)
	c.ws.SetReadDeadline(time.Now().Add(l.PongWait))
	c.ws.SetPongHandler(func(string) error {
		// Runs in this reader goroutine, inside a read.
		d := time.Now().Add(l.PongWait)
		if !c.frameDeadline.IsZero() && c.frameDeadline.Before(d) {
			d = c.frameDeadline
		}
		c.ws.SetReadDeadline(d)
		return nil
	})
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(l.PongWait))
		switch mt {
		case websocket.TextMessage:
			buf := bufPool.Get().(*bytes.Buffer)
			buf.Reset()
			n, err := buf.ReadFrom(io.LimitReader(r, l.TextFrame+1))
			if err != nil {
				bufPool.Put(buf)
				return
			}
			if n > l.TextFrame {
				// Read the rest away so the connection stays usable.
				if _, err := io.Copy(io.Discard, r); err != nil {
					bufPool.Put(buf)
					return
				}
				c.refuse("", codeTooLarge)
			} else {
				c.handleText(buf.Bytes())
			}
			if buf.Cap() > 64<<10 {
				buf = new(bytes.Buffer) // do not pool a rare big one
			}
			bufPool.Put(buf)
		case websocket.BinaryMessage:
			if err := c.handlePhoto(r); err != nil {
				return
			}
		}
	}
}

func (c *wsConn) cleanup() {
	c.h.nconns.Add(-1)
	c.release()
	c.h.mu.Lock()
	delete(c.h.conns, c)
	c.h.mu.Unlock()
	c.unsubscribe()
	if c.sess != nil {
		c.sess.detach(c, c.h.s.Now())
	}
	c.mu.Lock()
	c.dead, c.queue = true, nil
	c.mu.Unlock()
	c.ws.Close()
}

// language returns the conversation's language (Chinese until told).
func (c *wsConn) language() hotline.Lang {
	if l, ok := c.lang.Load().(hotline.Lang); ok {
		return l
	}
	return hotline.LangZH
}

func (c *wsConn) setLanguage(l hotline.Lang) { c.lang.Store(l) }
