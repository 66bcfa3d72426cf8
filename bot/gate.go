package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// gate is the HTTP client the library polls through. getUpdates with a new
// offset confirms every earlier update to Telegram, which then forgets it;
// the library asks for the next batch as soon as it has queued the last
// one, not when it has been handled. The gate holds the next getUpdates
// until every update of the previous answers has been handled (its effect
// persisted), so that a crash loses no update: Telegram sends the
// unconfirmed ones again.
type gate struct {
	client *http.Client
	// maxWait bounds the hold, so that an update the library dropped (it
	// could not decode it) cannot stop polling for good.
	maxWait time.Duration
	// onTimeout reports that maxWait passed.
	onTimeout func()

	mu      sync.Mutex
	changed chan struct{}
	pending map[int64]bool // fetched, not yet handled
	maxSeen int64
}

func newGate(c *http.Client) *gate {
	return &gate{client: c, maxWait: 2 * time.Minute, changed: make(chan struct{}), pending: map[int64]bool{}}
}

// Do implements the library's HttpClient.
func (g *gate) Do(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/getUpdates") {
		return g.client.Do(req)
	}
	if err := g.wait(req.Context()); err != nil {
		return nil, err
	}
	resp, err := g.client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var ans struct {
		Result []struct {
			ID int64 `json:"update_id"`
		} `json:"result"`
	}
	if json.Unmarshal(body, &ans) == nil {
		g.mu.Lock()
		for _, u := range ans.Result {
			if u.ID > g.maxSeen {
				g.maxSeen = u.ID
			}
			g.pending[u.ID] = true
		}
		g.mu.Unlock()
	}
	return resp, nil
}

// wait returns once nothing fetched is unhandled, after maxWait, or when ctx ends.
func (g *gate) wait(ctx context.Context) error {
	timeout := time.NewTimer(g.maxWait)
	defer timeout.Stop()
	for {
		g.mu.Lock()
		n, ch := len(g.pending), g.changed
		g.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			g.mu.Lock()
			clear(g.pending)
			g.mu.Unlock()
			if g.onTimeout != nil {
				g.onTimeout()
			}
			return nil
		}
	}
}

// Done marks an update handled.
func (g *gate) Done(id int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending[id] {
		delete(g.pending, id)
		close(g.changed)
		g.changed = make(chan struct{})
	}
}

// Confirmable returns the highest update id up to which every fetched update
// has been handled, 0 if none.
func (g *gate) Confirmable() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	hi := g.maxSeen
	for id := range g.pending {
		if id-1 < hi {
			hi = id - 1
		}
	}
	return hi
}
