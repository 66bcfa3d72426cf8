package webchat

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// ---- a bare gorilla/websocket server in the pattern of gorilla's chat example ----

type bareClient struct {
	hub  *bareHub
	conn *websocket.Conn
	send chan []byte
}

type bareHub struct {
	mu      sync.Mutex
	clients map[*bareClient]bool
	byName  map[string]*bareClient
}

var bareUpgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024}

func (h *bareHub) serve(w http.ResponseWriter, r *http.Request) {
	conn, err := bareUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &bareClient{hub: h, conn: conn, send: make(chan []byte, 256)}
	h.mu.Lock()
	h.clients[c] = true
	if n := r.URL.Query().Get("name"); n != "" {
		h.byName[n] = c
	}
	h.mu.Unlock()
	go c.writePump()
	go c.readPump()
}

func (c *bareClient) readPump() {
	defer func() {
		c.hub.mu.Lock()
		delete(c.hub.clients, c)
		c.hub.mu.Unlock()
		c.conn.Close()
	}()
	c.conn.SetReadLimit(512)
	c.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(60 * time.Second)); return nil })
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			return
		}
	}
}

func (c *bareClient) writePump() {
	ticker := time.NewTicker(54 * time.Second)
	defer func() { ticker.Stop(); c.conn.Close() }()
	for {
		select {
		case m, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if !ok {
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, m); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// ---- idle connections ----

// raiseNoFile lifts the open-file limit as far as allowed.
func raiseNoFile(want uint64) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Max < want {
		l.Max = want
	}
	l.Cur = l.Max
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l)
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

const idleConns = 10_000

// BenchmarkIdleConnections holds 10,000 idle websockets on the web chat's
// endpoint (each has said hello, so it has a session) and on a bare gorilla
// chat-example server, and reports the server's memory per connection.
// The clients run in a child process, so only the server is measured.
func BenchmarkIdleConnections(b *testing.B) {
	raiseNoFile(4 * idleConns)
	run := func(b *testing.B, h http.Handler, path string, hello bool, count func() int) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go srv.Serve(ln)
		defer srv.Close()
		for range b.N {
			before := heapAndStacks()
			cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), pgtest.EnvEngine+"=sqlite", "WEBCHAT_IDLE_ADDR="+ln.Addr().String(), "WEBCHAT_IDLE_PATH="+path,
				"WEBCHAT_IDLE_N="+strconv.Itoa(idleConns), "WEBCHAT_IDLE_HELLO="+strconv.FormatBool(hello))
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			if !strings.HasPrefix(line, "ready") {
				b.Fatalf("client helper: %q", line)
			}
			for deadline := time.Now().Add(30 * time.Second); count() < idleConns && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(500 * time.Millisecond)
			after := heapAndStacks()
			b.ReportMetric(float64(after-before)/idleConns, "B/conn")
			b.ReportMetric(float64(runtime.NumGoroutine())/idleConns, "goroutines/conn")
			stdin.Close()
			cmd.Wait()
			for deadline := time.Now().Add(10 * time.Second); count() > 0 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	b.Run("hotline", func(b *testing.B) {
		e := newEnv(b, func(s *Server) {
			// Every connection comes from 127.0.0.1: one client.
			s.Limits.MaxConns, s.Limits.ClientConns = 4*idleConns, 4*idleConns
			s.Limits.ClientConnRate, s.Limits.ClientConnBurst = 1e6, 4*idleConns
		})
		e.ts.Close()
		run(b, e.srv.Handler(), "/webchat/ws", true, func() int { n, _ := e.srv.Stats(); return n })
	})
	b.Run("bare-gorilla", func(b *testing.B) {
		h := &bareHub{clients: map[*bareClient]bool{}, byName: map[string]*bareClient{}}
		run(b, http.HandlerFunc(h.serve), "/ws", false, func() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.clients) })
	})
}

// TestIdleClientsHelper is the child process of BenchmarkIdleConnections:
// it opens raw websockets (no goroutine per connection) and holds them
// until its stdin closes.
func TestIdleClientsHelper(t *testing.T) {
	addr := os.Getenv("WEBCHAT_IDLE_ADDR")
	if addr == "" {
		t.Skip("helper process only")
	}
	raiseNoFile(4 * idleConns)
	n, _ := strconv.Atoi(os.Getenv("WEBCHAT_IDLE_N"))
	hello := os.Getenv("WEBCHAT_IDLE_HELLO") == "true"
	conns := make([]net.Conn, 0, n)
	buf := make([]byte, 4096)
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", os.Getenv("WEBCHAT_IDLE_PATH"), addr)
		got := 0
		for !strings.Contains(string(buf[:got]), "\r\n\r\n") {
			k, err := c.Read(buf[got:])
			if err != nil {
				t.Fatalf("handshake %d: %v", i, err)
			}
			got += k
		}
		if hello {
			tok := make([]byte, 32)
			rand.Read(tok)
			msg, _ := json.Marshal(map[string]any{"v": 1, "type": "hello", "session": base64.RawURLEncoding.EncodeToString(tok), "school": "no3"})
			c.Write(maskedFrame(msg))
			c.Read(buf) // welcome
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// maskedFrame is a client text frame (clients must mask; a zero mask will do).
func maskedFrame(p []byte) []byte {
	f := []byte{0x81}
	switch {
	case len(p) < 126:
		f = append(f, 0x80|byte(len(p)))
	default:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(len(p)))
	}
	f = append(f, 0, 0, 0, 0)
	return append(f, p...)
}

// ---- reply → browser latency ----

const (
	latencyRate  = 500 // messages per second
	latencyMsgs  = 1500
	latencyPages = 50
)

// BenchmarkReplyLatency sends counselor replies through triage.Reply at
// 500/s to 50 open chat pages and measures the time until the page's
// websocket client has the text (sealing, durable commit, notice, sync and
// reopening included), beside a bare gorilla relay that only forwards.
func BenchmarkReplyLatency(b *testing.B) {
	b.Run("hotline", func(b *testing.B) {
		e := newEnv(b, func(s *Server) {
			s.Limits.PerConnRate, s.Limits.PerConnBurst, s.Limits.GlobalRate, s.Limits.GlobalBurst = 1e6, 1e6, 1e6, 1e6
			s.Limits.ClientMsgRate, s.Limits.ClientMsgBurst = 1e6, 1e6
		})
		ctx := context.Background()
		actor := hotline.Actor{SchoolID: e.school.ID, Role: hotline.RoleAdmin}
		type page struct {
			tip, receipt string
			ws           *websocket.Conn
		}
		var pages []*page
		lat := make(chan time.Duration, latencyMsgs)
		for i := range latencyPages {
			res, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"x"}})
			if err != nil {
				b.Fatal(err)
			}
			c := e.dial(b, newToken(), 0)
			c.ws.SetReadDeadline(time.Time{}) // dial's deadline was for the handshake
			p := &page{tip: res.TipUID, receipt: res.Receipt, ws: c.ws}
			pages = append(pages, p)
			c.send(map[string]any{"v": 1, "type": "sync", "id": fmt.Sprintf("s%d", i), "receipt": res.Receipt})
			go func() {
				var mu sync.Mutex
				last, inFlight, again, n := "", false, false, 0
				shown := map[string]bool{}
				sync := func() {
					n++
					p.ws.WriteJSON(map[string]any{"v": 1, "type": "sync", "id": fmt.Sprintf("y%d", n), "receipt": p.receipt, "after": last})
				}
				for {
					var f outFrame
					if err := p.ws.ReadJSON(&f); err != nil {
						return
					}
					mu.Lock()
					switch {
					case f.Type == "msg":
						last = f.Msg.UID
						if f.Msg.Author == "counselor" && !shown[f.Msg.UID] {
							shown[f.Msg.UID] = true
							if ns, err := strconv.ParseInt(f.Msg.Text, 10, 64); err == nil {
								lat <- time.Since(time.Unix(0, ns))
							}
						}
					case f.Type == "notice" && inFlight:
						again = true
					case f.Type == "notice":
						inFlight = true
						sync()
					case f.Type == "error":
						inFlight = false
					case f.Type == "ack" && strings.HasPrefix(f.ID, "y"):
						inFlight = false
						if again {
							again, inFlight = false, true
							sync()
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		for range b.N {
			tick := time.NewTicker(time.Second / latencyRate)
			var wg sync.WaitGroup
			// The reply's own part (seal and durable commit), beside the
			// whole way to the page: the rest is notice, sync and opening.
			committed := make(chan time.Duration, latencyMsgs)
			before := e.db.Stats()
			for i := range latencyMsgs {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := pages[i%len(pages)]
					t0 := time.Now()
					if _, err := e.triage.Reply(ctx, actor, p.tip, strconv.FormatInt(t0.UnixNano(), 10), nil); err != nil {
						b.Error(err)
					}
					committed <- time.Since(t0)
				}()
			}
			tick.Stop()
			wg.Wait()
			after := e.db.Stats()
			reportLatency(b, lat, latencyMsgs)
			reportPercentiles(b, committed, latencyMsgs, "commit-")
			b.ReportMetric(float64(after.Jobs-before.Jobs)/float64(max(1, after.Commits-before.Commits)), "writes/commit")
		}
		for _, p := range pages {
			p.ws.Close()
		}
	})
	b.Run("bare-gorilla", func(b *testing.B) {
		h := &bareHub{clients: map[*bareClient]bool{}, byName: map[string]*bareClient{}}
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		srv := &http.Server{Handler: http.HandlerFunc(h.serve)}
		go srv.Serve(ln)
		defer srv.Close()
		lat := make(chan time.Duration, latencyMsgs)
		for i := range latencyPages {
			ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://%s/ws?name=p%d", ln.Addr(), i), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			go func() {
				for {
					_, m, err := ws.ReadMessage()
					if err != nil {
						return
					}
					if ns, err := strconv.ParseInt(string(m), 10, 64); err == nil {
						lat <- time.Since(time.Unix(0, ns))
					}
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		for range b.N {
			tick := time.NewTicker(time.Second / latencyRate)
			for i := range latencyMsgs {
				<-tick.C
				h.mu.Lock()
				c := h.byName[fmt.Sprintf("p%d", i%latencyPages)]
				h.mu.Unlock()
				c.send <- []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
			}
			tick.Stop()
			reportLatency(b, lat, latencyMsgs)
		}
	})
}

func reportLatency(b *testing.B, lat chan time.Duration, n int) {
	b.Helper()
	reportPercentiles(b, lat, n, "")
}

// reportPercentiles reports the p50 and p99 of n durations from lat, its
// metrics' names prefixed.
func reportPercentiles(b *testing.B, lat chan time.Duration, n int, prefix string) {
	b.Helper()
	var all []time.Duration
	timeout := time.After(30 * time.Second)
	for len(all) < n {
		select {
		case d := <-lat:
			all = append(all, d)
		case <-timeout:
			b.Fatalf("only %d of %d messages arrived", len(all), n)
		}
	}
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, prefix+"p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, prefix+"p99-ms")
	b.ReportMetric(0, "ns/op")
}
