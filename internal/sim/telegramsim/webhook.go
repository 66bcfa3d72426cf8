package telegramsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// deliverWebhooks pushes queued updates, one at a time and in order, to the
// webhook set with setWebhook. A non-2xx answer or error is retried.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.closed
		cancel()
	}()
	for {
		s.mu.Lock()
		wh := s.webhook
		var item queued
		ok := false
		if wh.URL != "" {
			for len(s.queue) > 0 && !s.allowedLocked(s.queue[0].kind) {
				s.queue = s.queue[1:] // never delivered, as in Telegram
			}
			if len(s.queue) > 0 {
				item, ok = s.queue[0], true
			}
		}
		ch := s.updSignal
		s.mu.Unlock()
		if !ok {
			select {
			case <-ch:
				continue
			case <-s.closed:
				return
			}
		}
		status, err := s.PostUpdate(ctx, wh.URL, wh.SecretToken, json.RawMessage(item.body))
		s.mu.Lock()
		success := err == nil && status >= 200 && status < 300
		if success {
			for i, q := range s.queue {
				if q.id == item.id {
					s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
					break
				}
			}
			s.delivered++
			s.signalMessagesLocked()
		} else if s.webhook.URL == wh.URL {
			s.webhook.LastErrorDate = time.Now().Unix()
			if err != nil {
				s.webhook.LastErrorMessage = err.Error()
			} else {
				s.webhook.LastErrorMessage = fmt.Sprintf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
			}
		}
		s.mu.Unlock()
		if !success {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.closed:
				return
			}
		}
	}
}
