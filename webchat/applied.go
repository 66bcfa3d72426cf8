package webchat

// What the web chat has done, remembered durably and without content, so
// that a retry after a restart is answered as before instead of applied
// again: the client message ids a session applied, and the mailbox form
// tokens that filed a report.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"

	"hotline/internal/store"
)

// Applied is the durable memory (store.DB implements it). The session and
// the token are named by keyed MACs only.
type Applied interface {
	WebchatApplied(ctx context.Context, sessionMAC []byte, clientID string) (bool, error)
	MarkWebchatApplied(ctx context.Context, sessionMAC []byte, clientID string) error
	FormTokenUsed(ctx context.Context, tokenMAC []byte) (bool, error)
	UseFormToken(ctx context.Context, tokenMAC []byte, expires time.Time) (fresh bool, err error)
	// PurgeWebchatApplied forgets what is past its time to live.
	PurgeWebchatApplied(ctx context.Context) (int64, error)
}

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

// wasApplied reports whether the session applied the client id before,
// in an earlier incarnation (the session's own memory answered first). A
// failed look-up answers false: the message is applied, as it was before
// this memory existed.
func (c *wsConn) wasApplied(ctx context.Context, ss *session, id string) bool {
	s := c.h.s
	if s.Applied == nil || ss.mac == nil {
		return false
	}
	done, err := s.Applied.WebchatApplied(ctx, ss.mac, id)
	if err != nil {
		s.Logger.Error("webchat applied look-up", "err", err)
		return false
	}
	return done
}

// idempotent returns the context to handle frame f with: it carries the
// message's idempotency key, which the store records in the transaction
// of the message's first write, so that a resend after a crash that took
// the mark below finds it and applies nothing. Choices carry none: the
// conversation answers a stale choice without applying it, and a resent
// "send" must reach it to hand back the alias and the receipt sealed to
// this page.
func (c *wsConn) idempotent(ctx context.Context, ss *session, f *inFrame) (context.Context, *store.Idempotency) {
	if f.Type == "choice" || ss.mac == nil || store.IdempotencyFrom(ctx) != nil {
		return ctx, nil
	}
	return store.WithIdempotency(ctx, webKey(ss.mac, f.ID))
}

// webKey names a web chat message in the store's record of handled
// updates: the session by its keyed MAC, and the page's client id.
func webKey(sessionMAC []byte, clientID string) string {
	return "web:" + hex.EncodeToString(sessionMAC) + ":" + clientID
}

// markApplied records the client id as applied before its ack goes out:
// the fast path of wasApplied. The guarantee is the idempotency key the
// store records with the effect (idempotent); this mark follows the
// commit in a transaction of its own.
func (c *wsConn) markApplied(ctx context.Context, ss *session, id string) {
	s := c.h.s
	if s.Applied == nil || ss.mac == nil {
		return
	}
	// The effect is done: record it even if the request's time ran out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Applied.MarkWebchatApplied(ctx, ss.mac, id); err != nil {
		s.Logger.Error("webchat mark applied", "err", err)
	}
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
