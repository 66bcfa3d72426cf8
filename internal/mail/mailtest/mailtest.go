// Package mailtest is a small SMTP server on 127.0.0.1 for tests: it
// speaks enough ESMTP for a real client (EHLO, STARTTLS, AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT), keeps what it receives and decodes it, as
// httptest does for HTTP.
package mailtest

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape the server.
type Options struct {
	// TLS, if set, makes the listener speak TLS from the first byte
	// (implicit TLS, as on port 465).
	TLS *tls.Config
	// StartTLS, if set, is offered as the STARTTLS extension.
	StartTLS *tls.Config
	// RejectRcpt answers every RCPT TO with 550, echoing the address as
	// real servers do.
	RejectRcpt bool
}

// Message is one message the server accepted.
type Message struct {
	From   string   // envelope sender
	To     []string // envelope recipients
	Raw    string   // the DATA as received, dot-unstuffed
	Header mail.Header
	Body   string // decoded by Content-Transfer-Encoding, CRLF as LF
	TLS    bool   // whether the session was encrypted
	Auth   string // "user:password" from AUTH PLAIN, or ""
}

// Server is a running fake SMTP server.
type Server struct {
	Addr string // host:port to dial

	opts Options
	ln   net.Listener
	mu   sync.Mutex
	msgs []*Message
	open map[net.Conn]bool // connections not yet closed
	wg   sync.WaitGroup
}

// NewServer starts a server on 127.0.0.1; it stops when the test ends.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS)
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts, ln: ln, open: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.open[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Idle waits up to timeout for every client connection to be closed and
// reports whether they were: a client that leaks connections fails it.
func (s *Server) Idle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		n := len(s.open)
		s.mu.Unlock()
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Messages returns what the server accepted so far.
func (s *Server) Messages() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.msgs...)
}

func (s *Server) serve(c net.Conn) {
	raw := c
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.open, raw)
		s.mu.Unlock()
	}()
	_, encrypted := c.(*tls.Conn)
	r := bufio.NewReader(c)
	say := func(lines ...string) {
		for i, l := range lines {
			sep := " "
			if i < len(lines)-1 {
				sep = "-"
			}
			io.WriteString(c, l[:3]+sep+l[4:]+"\r\n")
		}
	}
	say("220 mailtest ESMTP")
	var cur *Message
	auth := ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(verb, "EHLO"):
			ext := []string{"250 mailtest", "250 8BITMIME", "250 AUTH PLAIN"}
			if s.opts.StartTLS != nil && !encrypted {
				ext = append(ext, "250 STARTTLS")
			}
			say(ext...)
		case strings.HasPrefix(verb, "HELO"):
			say("250 mailtest")
		case verb == "STARTTLS" && s.opts.StartTLS != nil && !encrypted:
			say("220 go ahead")
			tc := tls.Server(c, s.opts.StartTLS)
			if tc.Handshake() != nil {
				return
			}
			c, r, encrypted = tc, bufio.NewReader(tc), true
		case strings.HasPrefix(verb, "AUTH PLAIN "):
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line[len("AUTH PLAIN "):]))
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 {
				say("535 bad credentials")
				continue
			}
			auth = parts[1] + ":" + parts[2]
			say("235 ok")
		case strings.HasPrefix(verb, "MAIL FROM:"):
			cur = &Message{From: addr(line[len("MAIL FROM:"):]), TLS: encrypted, Auth: auth}
			say("250 ok")
		case strings.HasPrefix(verb, "RCPT TO:"):
			to := addr(line[len("RCPT TO:"):])
			if s.opts.RejectRcpt {
				say("550 5.1.1 <" + to + ">: recipient unknown")
				continue
			}
			if cur != nil {
				cur.To = append(cur.To, to)
			}
			say("250 ok")
		case verb == "DATA":
			if cur == nil || len(cur.To) == 0 {
				say("503 need MAIL and RCPT first")
				continue
			}
			say("354 end with .")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			cur.Raw = b.String()
			decode(cur)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			cur = nil
			say("250 queued")
		case verb == "RSET":
			cur = nil
			say("250 ok")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// addr takes the address out of "<a@b> SIZE=…".
func addr(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '>'); strings.HasPrefix(s, "<") && i > 0 {
		return s[1:i]
	}
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// decode parses m.Raw into Header and Body; a message that does not parse
// keeps an empty Header, which a test sees.
func decode(m *Message) {
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		return
	}
	m.Header = msg.Header
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return
	}
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
}
