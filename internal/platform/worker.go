package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/survey"
	"hotline/internal/vault"
)

// Worker delivers the platform's outbox: webhooks to the districts'
// endpoints and the daily head to their robots and officers' e-mail. Every
// node may run one: rows are claimed with a lease, so two never send one
// row at once, and a node that dies mid-send leaves its rows to another
// (or to itself after a restart) once the lease runs out. Delivery is at
// least once: a node killed after the receiver took a row but before it
// recorded so sends it again, with the same id, which the receiver drops.
type Worker struct {
	DB    *store.DB
	Vault *vault.Vault
	// Staff opens the alert targets of daily notices; Channels sends them
	// (nil: notices wait, and are abandoned at MaxAge).
	Staff    *staff.Service
	Channels alert.Set
	// Client posts the webhooks (default: one with Timeout).
	Client *http.Client
	// Surveys computes a closed questionnaire wave's figures (nil: no
	// survey.closed events).
	Surveys *survey.Service
	// BaseURL links the district's ledger page from daily notices.
	BaseURL string
	Logger  *slog.Logger

	// Node names this process in its claims (default: random).
	Node string
	// Timeout bounds one delivery (default 15 s); Lease how long a claim
	// keeps other nodes off a row (default Timeout + 15 s).
	Timeout time.Duration
	Lease   time.Duration
	// BaseBackoff and MaxBackoff shape the retries (default 5 s, 1 h);
	// MaxAge is when a row is given up (default 7 days): a platform down
	// for a week gets the week's events when it returns, no older.
	BaseBackoff, MaxBackoff, MaxAge time.Duration
	// PollInterval is how often the outbox is read when nothing wakes the
	// worker (default 5 s), and Concurrency how many rows go at once (4).
	PollInterval time.Duration
	Concurrency  int

	once sync.Once
	wake chan struct{}
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Timeout <= 0 {
			w.Timeout = 15 * time.Second
		}
		if w.Lease <= w.Timeout {
			w.Lease = w.Timeout + 15*time.Second
		}
		if w.BaseBackoff <= 0 {
			w.BaseBackoff = 5 * time.Second
		}
		if w.MaxBackoff <= 0 {
			w.MaxBackoff = time.Hour
		}
		if w.MaxAge <= 0 {
			w.MaxAge = 7 * 24 * time.Hour
		}
		if w.PollInterval <= 0 {
			w.PollInterval = 5 * time.Second
		}
		if w.Concurrency <= 0 {
			w.Concurrency = 4
		}
		if w.Node == "" {
			w.Node = fmt.Sprintf("%016x", rand.Uint64())
		}
		if w.Client == nil {
			w.Client = &http.Client{Timeout: w.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
	})
}

// Wake tells the worker that rows were queued; it never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; attempts under way finish and are recorded.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	var lastPurge, lastScan time.Time
	for {
		now := w.DB.Clock.Now()
		if now.Sub(lastPurge) > time.Hour {
			lastPurge = now
			w.purge(ctx, now)
		}
		if now.Sub(lastScan) >= time.Minute {
			lastScan = now
			if err := w.AnnounceWaves(ctx); err != nil && ctx.Err() == nil {
				w.Logger.Error("platform: announce closed surveys", "err", err)
			}
		}
		n := w.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if n > 0 {
			continue // more may be due
		}
		wait := w.PollInterval
		if next, err := w.DB.NextWebhookAttempt(ctx); err == nil && !next.IsZero() {
			if d := next.Sub(w.DB.Clock.Now()); d < wait {
				wait = max(d, 10*time.Millisecond)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(wait):
		}
	}
}

// Pass claims the rows due now and delivers them, Concurrency at a time;
// it returns how many it tried.
func (w *Worker) Pass(ctx context.Context) int {
	w.init()
	var rows []*store.WebhookOut
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		// No more than go at once: a claim must not wait out its lease
		// behind others.
		rows, err = tx.ClaimWebhooks(w.Node, w.Lease, w.Concurrency)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Error("platform: claim outbox", "err", err)
		}
		return 0
	}
	var wg sync.WaitGroup
	for _, row := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.attempt(context.WithoutCancel(ctx), row)
		}()
	}
	wg.Wait()
	return len(rows)
}

// outcome of one attempt.
type outcome struct {
	ok        bool
	permanent bool   // will never go: give it up
	code      string // an HTTP status, a vendor's code, or a category
	reason    string // safe to show the district
}

// attempt sends one row and records how it went.
func (w *Worker) attempt(ctx context.Context, row *store.WebhookOut) {
	var o outcome
	var endpoint int64
	switch {
	case row.EndpointID != 0:
		endpoint = row.EndpointID
		o = w.post(ctx, row)
	case row.TargetID != 0:
		o = w.notify(ctx, row)
	default:
		o = outcome{permanent: true, code: "no_destination"}
	}
	now := w.DB.Clock.Now()
	abandon := !o.ok && (o.permanent || now.Sub(row.CreatedAt) >= w.MaxAge)
	next := now.Add(w.backoff(row.Attempts))
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		mine, err := tx.FinishWebhook(row.ID, w.Node, o.ok, abandon, next, o.code)
		if err != nil || !mine {
			return err
		}
		if endpoint != 0 && row.Kind != KindTest {
			return tx.MarkWebhookEndpoint(endpoint, o.ok, o.code, o.reason)
		}
		return nil
	})
	if err != nil {
		w.Logger.Error("platform: record delivery", "row", row.ID, "err", err)
		return
	}
	if !o.ok {
		w.Logger.Warn("platform: delivery failed", "row", row.ID, "kind", row.Kind, "code", o.code, "attempts", row.Attempts+1, "abandoned", abandon)
	}
}

// backoff is exponential with jitter, capped.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.BaseBackoff << min(attempts, 20)
	if d <= 0 || d > w.MaxBackoff {
		d = w.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// Reasons of failed deliveries, safe to show.
const (
	reasonUnreachable = "平台无法连接或超时 / the platform could not be reached, or did not answer in time"
	reasonRefused     = "平台拒绝了签名（密钥不一致）/ the platform refused the signature (the secrets differ)"
	reasonStatus      = "平台返回错误 / the platform answered with an error"
	reasonGone        = "地址已不存在 / the address no longer exists"
	reasonOpen        = "地址无法打开 / the address could not be opened"
)

// post sends a webhook, signed as internal/alert signs its own.
func (w *Worker) post(ctx context.Context, row *store.WebhookOut) outcome {
	e, err := w.DB.WebhookEndpointByID(ctx, row.EndpointID)
	if err != nil {
		return outcome{permanent: true, code: "no_endpoint", reason: reasonOpen}
	}
	url, secret, err := w.Vault.OpenAlertTarget(endpointRow(e), e.Sealed)
	if err != nil {
		return outcome{permanent: true, code: "sealed", reason: reasonOpen}
	}
	return w.postTo(ctx, url, secret, row.EventID, row.Kind, []byte(row.Payload))
}

func (w *Worker) postTo(ctx context.Context, url, secret, id, kind string, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return outcome{permanent: true, code: "url", reason: reasonOpen}
	}
	alert.SignWebhook(req.Header, secret, id, w.DB.Clock.Now().Unix(), body)
	req.Header.Set(HeaderEvent, kind)
	req.Header.Set("User-Agent", "hotline-webhook/1")
	resp, err := w.Client.Do(req)
	if err != nil {
		// The error's text holds the URL: it is not kept.
		code := alert.CodeNetwork
		if errors.Is(err, context.DeadlineExceeded) {
			code = alert.CodeTimeout
		}
		return outcome{code: code, reason: reasonUnreachable}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := strconv.Itoa(resp.StatusCode)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return outcome{ok: true, code: code}
	case resp.StatusCode == http.StatusGone:
		return outcome{permanent: true, code: code, reason: reasonGone}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		// Kept and retried: the district fixes the secret on either side
		// and the events still arrive.
		return outcome{code: code, reason: reasonRefused}
	}
	return outcome{code: code, reason: reasonStatus}
}

// notify sends a daily head to a district robot or an officer's e-mail
// through the alert channels.
func (w *Worker) notify(ctx context.Context, row *store.WebhookOut) outcome {
	if w.Staff == nil || w.Channels == nil {
		return outcome{code: alert.CodeNotConfigured}
	}
	var n DailyNotice
	if err := json.Unmarshal([]byte(row.Payload), &n); err != nil {
		return outcome{permanent: true, code: "payload"}
	}
	t, err := w.DB.AlertTargetByID(ctx, row.TargetID)
	if err != nil {
		return outcome{permanent: true, code: "no_target"} // unlinked since
	}
	var rec *store.CounselorRecord
	if t.CounselorID != 0 {
		if rec, err = w.DB.CounselorByID(ctx, t.CounselorID); err != nil || !rec.Active {
			return outcome{permanent: true, code: "no_target"}
		}
	}
	to, err := w.Staff.OpenTarget(t, rec)
	if err != nil {
		return outcome{permanent: true, code: "sealed"}
	}
	link := ""
	if w.BaseURL != "" {
		link = w.BaseURL + "/district/ledger/heads/" + n.Day
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	err = w.Channels.Send(ctx, to, alert.Message{Reason: "ledger_head", Text: n.Text(link), Link: link, ID: fmt.Sprintf("%s-%d", row.EventID, row.TargetID)})
	if ae := alert.AsError(to.Kind, err); ae != nil {
		return outcome{permanent: ae.Permanent, code: ae.Code, reason: ae.Reason}
	}
	return outcome{ok: true, code: "sent"}
}

// purge drops rows delivered or given up more than 30 days ago.
func (w *Worker) purge(ctx context.Context, now time.Time) {
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.PurgeWebhooks(now.Add(-30 * 24 * time.Hour))
		return err
	})
	if err != nil && ctx.Err() == nil {
		w.Logger.Error("platform: purge outbox", "err", err)
	}
}

// endpointRow names an endpoint's row for its seal: a URL and secret
// copied into another row, or another district's, do not open there.
func endpointRow(e *store.WebhookEndpoint) string {
	return "webhook-endpoint|" + strconv.FormatInt(e.ID, 10) + "|" + e.District
}
