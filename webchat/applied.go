package webchat

// What the web chat has done, remembered durably and without content in
// the record of applied deliveries the messengers use (Server.Deliveries,
// the store's handled updates), so that a retry after a restart is
// answered as before instead of applied again: the client messages a
// session applied, and the mailbox forms that filed a report or a reply.
// Each is recorded in the transaction of its effect (dialog.Apply,
// dialog.Once), and forgotten with the messengers' after a week.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"sync"
)

// sessionMAC names a chat session in durable storage: a keyed MAC of its
// token, so that a copy of the database cannot link a page to its rows.
func (s *Server) sessionMAC(token string) []byte {
	if s.MAC == nil {
		return nil
	}
	return s.MAC("webchat-session", []byte(token))[:16]
}

// formUseMAC names a used form token in durable storage.
func (s *Server) formUseMAC(token string) []byte {
	return s.MAC("webchat-form-used", []byte(token))[:16]
}

// deliveryKey is the key frame f is applied with (dialog.Apply): a resend
// after a crash that took its ack finds it recorded with the message's
// effect, and applies nothing. Choices carry none: the conversation
// answers a stale choice without applying it, and a resent "send" must
// reach it to hand back the alias and the receipt sealed to this page. A
// session without a durable name has none either.
func deliveryKey(ss *session, f *inFrame) string {
	if f.Type == "choice" || ss.mac == nil {
		return ""
	}
	return webKey(ss.mac, f.ID)
}

// webKey names a web chat message in the store's record of handled
// updates: the session by its keyed MAC, and the page's client id.
func webKey(sessionMAC []byte, clientID string) string {
	return "web:" + hex.EncodeToString(sessionMAC) + ":" + clientID
}

// newEpoch names one incarnation of a session's numbering: a page that
// sees a different epoch knows the numbers started again.
func newEpoch() string {
	var b [9]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// formPosts serialises the posts of one mailbox form token, so that a
// double click waits for the first post and finds it stored, instead of
// filing a second case beside it.
type formPosts struct {
	mu       sync.Mutex
	inFlight map[string]chan struct{}
}

// claim waits until no other post of key is in flight, then holds it
// until release. It fails if ctx ends first.
func (p *formPosts) claim(ctx context.Context, key string) (release func(), err error) {
	for {
		p.mu.Lock()
		if p.inFlight == nil {
			p.inFlight = map[string]chan struct{}{}
		}
		ch, busy := p.inFlight[key]
		if !busy {
			ch = make(chan struct{})
			p.inFlight[key] = ch
			p.mu.Unlock()
			return func() {
				p.mu.Lock()
				delete(p.inFlight, key)
				p.mu.Unlock()
				close(ch)
			}, nil
		}
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
