package telegramsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// SecretHeader is the header carrying setWebhook's secret_token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Webhook returns the webhook state recorded by setWebhook (URL and
// SecretToken are empty when no webhook is set).
func (s *Server) Webhook() WebhookInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	wi := s.webhook
	wi.PendingUpdateCount = len(s.queue)
	return wi
}

// WebhookDeliveries is the number of updates successfully pushed to the webhook.
func (s *Server) WebhookDeliveries() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// PostUpdate POSTs update (an Update, any JSON-marshalable value, or raw
// JSON as []byte/json.RawMessage) to url as Telegram would deliver it to a
// webhook, with the X-Telegram-Bot-Api-Secret-Token header when secret is not
// empty. It returns the HTTP status code.
func (s *Server) PostUpdate(ctx context.Context, url, secret string, update any) (int, error) {
	var body []byte
	switch v := update.(type) {
	case []byte:
		body = v
	case json.RawMessage:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			return 0, fmt.Errorf("telegramsim: marshal update: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(SecretHeader, secret)
	}
	resp, err := s.hook.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// deliverWebhooks pushes queued updates to the webhook set with setWebhook
// as Telegram does: the updates of one chat one at a time and in order
// (the next once the previous was answered 2xx), different chats at once,
// up to the webhook's max_connections (Telegram's default, 40, when unset).
// A non-2xx answer or an error is retried after a pause, holding back the
// chat's later updates. One post at a time for every chat would make a
// slow answer to one reporter everybody's wait, which Telegram does not.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closed
		cancel()
	}()
	var posts sync.WaitGroup
	defer posts.Wait()
	busy := map[int64]bool{}         // chats with a post in flight (s.mu)
	retryAt := map[int64]time.Time{} // chats whose last post failed (s.mu)
	ended := make(chan struct{}, 1)
	for {
		s.mu.Lock()
		wh := s.webhook
		var start []queued
		wait := time.Duration(-1)
		if wh.URL != "" {
			kept := s.queue[:0:0]
			for _, q := range s.queue {
				if s.allowedLocked(q.kind) {
					kept = append(kept, q) // the others are never delivered, as in Telegram
				}
			}
			s.queue = kept
			limit := wh.MaxConnections
			if limit <= 0 {
				limit = 40
			}
			first := map[int64]bool{}
			now := time.Now()
			for _, q := range s.queue {
				if len(busy) >= limit {
					break
				}
				if first[q.chat] {
					continue // a chat's later updates wait for its first
				}
				first[q.chat] = true
				if busy[q.chat] {
					continue
				}
				if t, ok := retryAt[q.chat]; ok && now.Before(t) {
					if d := t.Sub(now); wait < 0 || d < wait {
						wait = d
					}
					continue
				}
				busy[q.chat] = true
				start = append(start, q)
			}
		}
		ch := s.updSignal
		if wh.URL == "" {
			// Polling: nothing to deliver until a webhook is set. (Woken
			// by every update and every poll, this loop cost the bench a
			// wake-up and a lock for each.)
			ch = s.hookSignal
		}
		s.mu.Unlock()
		for _, q := range start {
			posts.Go(func() {
				status, err := s.PostUpdate(ctx, wh.URL, wh.SecretToken, json.RawMessage(q.body))
				s.mu.Lock()
				delete(busy, q.chat)
				if err == nil && status >= 200 && status < 300 {
					delete(retryAt, q.chat)
					for i, o := range s.queue {
						if o.id == q.id {
							s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
							break
						}
					}
					s.delivered++
					s.signalMessagesLocked()
				} else {
					retryAt[q.chat] = time.Now().Add(50 * time.Millisecond)
					if s.webhook.URL == wh.URL {
						s.webhook.LastErrorDate = time.Now().Unix()
						if err != nil {
							s.webhook.LastErrorMessage = err.Error()
						} else {
							s.webhook.LastErrorMessage = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
						}
					}
				}
				s.mu.Unlock()
				select {
				case ended <- struct{}{}:
				default:
				}
			})
		}
		if len(start) > 0 {
			continue
		}
		var retry <-chan time.Time
		if wait >= 0 {
			retry = time.After(wait)
		}
		select {
		case <-ch:
		case <-ended:
		case <-retry:
		case <-s.closed:
			return
		}
	}
}
