package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Sender delivers one reply over its channel (the Telegram bot). It tells
// the worker what to do next through the error it returns: nil (delivered),
// ErrUnreachable, ErrRejected, a *RetryAfterError, an error wrapping
// ErrServer, or anything else (the channel could not be reached: retried
// with backoff, like ErrServer).
type Sender interface {
	Deliver(ctx context.Context, p *Payload) error
}

// ErrUnreachable means the chat cannot be reached now (it blocked the bot,
// or no longer exists): its replies are held, and its handles marked
// undeliverable, until the reporter writes again.
var ErrUnreachable = errors.New("relay: chat unreachable")

// ErrRejected means the channel refused this one message for good (a
// malformed request); retrying would block the chat's later replies forever.
var ErrRejected = errors.New("relay: message rejected")

// ErrServer means the channel answered with a server error (5xx, or a
// garbled answer from a proxy in front of it): retried with backoff.
var ErrServer = errors.New("relay: channel server error")

// RetryAfterError asks the worker to wait before the next attempt (429). It
// is not a failure: the item waits exactly After, and its backoff does not
// grow.
type RetryAfterError struct{ After time.Duration }

func (e *RetryAfterError) Error() string { return fmt.Sprintf("relay: retry after %s", e.After) }

// Worker sends the outbox. Only a chat's oldest row is ever in flight, so
// replies arrive in the order counselors wrote them; different chats are
// sent in parallel, so one chat's failing reply holds up no other chat.
//
// A 429 is honoured exactly and not counted as a failure. Other transient
// failures back off per reply; while the channel seems down, one waiting
// reply is tried every ProbeInterval whatever its backoff, and the first
// delivery that succeeds makes every backed-off reply due at once, so the
// queue drains as soon as the channel is back rather than when the longest
// backoff ends. It never logs a chat id or a reply's text.
type Worker struct {
	DB       *store.DB
	Vault    *vault.Vault
	Sender   Sender
	Notifier hotline.Notifier
	Logger   *slog.Logger

	// Concurrency is how many chats are sent to at once
	// (DefaultConcurrency).
	Concurrency int
	// SendTimeout bounds one delivery attempt (default 30s).
	SendTimeout time.Duration
	// BaseBackoff and MaxBackoff shape the exponential backoff of transient
	// failures (default 1s and 5 min).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// ProbeInterval is how often, while the channel seems down, one waiting
	// reply is tried before its backoff ends (default 5s): one call, to
	// notice the end of an outage within that time.
	ProbeInterval time.Duration
	// PollInterval is how often the outbox is read when nothing wakes the
	// worker (default 5s): a safety net for a missed wake-up, and how soon
	// replies held for a blocked chat go out once its reporter writes again.
	PollInterval time.Duration
	// HoldFor is how long replies to a chat that blocked the bot are kept
	// for the reporter's return (default 30 days).
	HoldFor time.Duration
	// Lease is how long a claim on a reply keeps other nodes from sending
	// it (default SendTimeout + 15s): the time after which a reply whose
	// node died mid-send is taken by another. It must outlast an attempt.
	Lease time.Duration
	// Node names this process in its claims (default: random).
	Node string

	wakeOnce sync.Once
	wake     chan struct{}

	// backedOff is set once a transient failure has been recorded and
	// cleared by the delivery that resets the backoffs.
	backedOff atomic.Bool
	down      atomic.Bool
	stats     struct {
		delivered, retryAfter, server, network, blocked, rejected, probes, resets atomic.Int64
	}
}

// Stats counts the worker's outcomes since it started, for metrics.
type Stats struct {
	Delivered  int64 // replies the channel accepted
	RetryAfter int64 // 429 answers, waited out (not failures)
	Server     int64 // failures: server errors (5xx, garbled answers)
	Network    int64 // failures: the channel could not be reached, or too slowly
	Blocked    int64 // replies held because their chat blocked the bot
	Rejected   int64 // replies refused for good, or whose row could not be opened
	Probes     int64 // replies tried early while the channel seemed down
	Resets     int64 // times a delivery ended the backoff of waiting replies
	Down       bool  // the last few outcomes were transient failures
}

// Stats returns the worker's counters.
func (w *Worker) Stats() Stats {
	return Stats{
		Delivered: w.stats.delivered.Load(), RetryAfter: w.stats.retryAfter.Load(),
		Server: w.stats.server.Load(), Network: w.stats.network.Load(),
		Blocked: w.stats.blocked.Load(), Rejected: w.stats.rejected.Load(),
		Probes: w.stats.probes.Load(), Resets: w.stats.resets.Load(),
		Down: w.down.Load(),
	}
}

func (w *Worker) init() {
	w.wakeOnce.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Concurrency <= 0 {
			w.Concurrency = DefaultConcurrency
		}
		if w.SendTimeout <= 0 {
			w.SendTimeout = 30 * time.Second
		}
		if w.BaseBackoff <= 0 {
			w.BaseBackoff = time.Second
		}
		if w.MaxBackoff <= 0 {
			w.MaxBackoff = 5 * time.Minute
		}
		if w.ProbeInterval <= 0 {
			w.ProbeInterval = 5 * time.Second
		}
		if w.PollInterval <= 0 {
			w.PollInterval = 5 * time.Second
		}
		if w.HoldFor <= 0 {
			w.HoldFor = 30 * 24 * time.Hour
		}
		if w.Lease <= w.SendTimeout {
			w.Lease = w.SendTimeout + 15*time.Second
		}
		if w.Node == "" {
			w.Node = fmt.Sprintf("%016x", rand.Uint64())
		}
	})
}

// Wake tells the worker that the outbox changed (a reply was enqueued). It
// never blocks, so enqueuing a reply never waits for delivery.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// outcome is what one attempt told about the channel.
type outcome int

const (
	answered  outcome = iota // delivered, or refused for good: the channel works
	deferred                 // 429: the channel works, this reply waits
	transient                // failed: the channel may be down
)

type result struct {
	mac string
	out outcome
}

// DefaultConcurrency is how many chats a worker sends to at once unless
// told otherwise.
const DefaultConcurrency = 16

// downAfter is how many transient failures in a row make the worker treat
// the channel as down, and probe it.
const downAfter = 3

// farFuture makes OutboxHeads return heads whatever their due time (probes).
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Run sends until ctx ends, then lets the attempts in flight finish and
// record their outcome, so that a delivered reply is not sent again after a
// restart.
func (w *Worker) Run(ctx context.Context) {
	w.init()
	inflight := map[string]bool{}
	results := make(chan result, w.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var downSince, lastStart, lastSweep time.Time
	streak := 0 // transient failures in a row
	send := func(item *store.OutboxItem) {
		mac := string(item.ChatMAC)
		inflight[mac] = true
		lastStart = w.DB.Clock.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- result{mac, w.attempt(ctx, item)}
		}()
	}
	record := func(r result) {
		delete(inflight, r.mac)
		if r.out != transient {
			streak = 0
			if !downSince.IsZero() {
				w.Logger.Info("relay: channel answering again", "after", w.DB.Clock.Now().Sub(downSince).Round(time.Millisecond))
				downSince = time.Time{}
				w.down.Store(false)
			}
			return
		}
		// A few failures in a row, not one random 500, mean the channel is
		// down.
		if streak++; streak == downAfter {
			downSince = w.DB.Clock.Now()
			w.down.Store(true)
			w.Logger.Warn("relay: channel failing; backing off and probing", "probe_every", w.ProbeInterval)
		}
	}
	for {
		if ctx.Err() != nil {
			return
		}
		now := w.DB.Clock.Now()
		if now.Sub(lastSweep) >= time.Hour {
			lastSweep = now
			w.dropExpired(ctx, now)
		}
		if len(inflight) < w.Concurrency {
			for _, item := range w.claim(ctx, now, inflight, w.Concurrency-len(inflight)) {
				send(item)
			}
		}
		// While the channel seems down and nothing was tried for a
		// ProbeInterval (attempts in flight may hang until SendTimeout),
		// try the reply due first without waiting for the end of its
		// backoff.
		probing := !downSince.IsZero()
		if probing && len(inflight) < w.Concurrency && now.Sub(lastStart) >= w.ProbeInterval {
			for _, item := range w.claim(ctx, farFuture, inflight, 1) {
				w.stats.probes.Add(1)
				send(item)
			}
		}
		wait := w.PollInterval
		if next, err := w.DB.NextOutboxAttempt(ctx); err == nil && !next.IsZero() {
			if d := next.Sub(now); d > 0 && d < wait {
				wait = d
			}
		}
		if probing {
			if d := lastStart.Add(w.ProbeInterval).Sub(now); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			// results has room for every attempt in flight, so the deferred
			// wg.Wait cannot block on it.
			return
		case r := <-results:
			record(r)
			// Take every other finished attempt too, then read the outbox
			// once for all of them.
			for drained := false; !drained; {
				select {
				case r := <-results:
					record(r)
				default:
					drained = true
				}
			}
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// claim takes up to n replies due by dueBy for this node: the oldest of
// chats with none in flight here, and none claimed by another node whose
// lease still runs. A read first tells whether there is anything to
// claim, so an idle outbox costs no write.
func (w *Worker) claim(ctx context.Context, dueBy time.Time, inflight map[string]bool, n int) []*store.OutboxItem {
	heads, err := w.DB.OutboxHeads(ctx, dueBy, 2*w.Concurrency+16)
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Error("relay: read outbox", "err", err)
		}
		return nil
	}
	candidates := 0
	for _, it := range heads {
		if !inflight[string(it.ChatMAC)] {
			candidates++
		}
	}
	if candidates == 0 {
		return nil
	}
	var claimed []*store.OutboxItem
	err = w.DB.Update(ctx, func(tx *store.Tx) error {
		claimed = claimed[:0]
		items, err := tx.ClaimOutboxHeads(w.Node, dueBy, w.Lease, n+len(inflight))
		if err != nil {
			return err
		}
		for _, it := range items {
			if len(claimed) < n && !inflight[string(it.ChatMAC)] {
				claimed = append(claimed, it)
				continue
			}
			// Not taken now (or its chat is in flight here, which a
			// running lease rules out): let it go for the next round.
			if err := tx.ReleaseOutbox(it.ID, w.Node); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Error("relay: claim outbox", "err", err)
		}
		return nil
	}
	return claimed
}

// attempt sends one outbox row and records the outcome. It runs on a
// context that outlives ctx by SendTimeout, so that shutdown does not cut a
// send whose answer would tell us it was delivered.
func (w *Worker) attempt(ctx context.Context, item *store.OutboxItem) outcome {
	bg := context.WithoutCancel(ctx)
	p, err := OpenPayload(w.Vault, item)
	if err != nil {
		// A row that cannot be opened can never be sent: drop it rather
		// than block the chat's later replies.
		w.Logger.Error("relay: open outbox row", "outbox_id", item.ID, "err", err)
		w.stats.rejected.Add(1)
		w.finish(bg, item, hotline.DeliveryUndeliverable, false)
		return answered
	}
	began := time.Now()
	sctx, cancel := context.WithTimeout(bg, w.SendTimeout)
	err = w.Sender.Deliver(sctx, p)
	cancel()
	var ra *RetryAfterError
	switch {
	case err == nil:
		w.stats.delivered.Add(1)
		w.finish(bg, item, hotline.DeliveryDelivered, false)
		return answered
	case errors.Is(err, ErrUnreachable):
		w.Logger.Info("relay: chat unreachable, holding its replies", "outbox_id", item.ID)
		w.stats.blocked.Add(1)
		w.finish(bg, item, hotline.DeliveryUndeliverable, true)
		return answered
	case errors.Is(err, ErrRejected):
		w.Logger.Warn("relay: reply rejected by the channel", "outbox_id", item.ID)
		w.stats.rejected.Add(1)
		w.finish(bg, item, hotline.DeliveryUndeliverable, false)
		return answered
	case errors.As(err, &ra):
		w.stats.retryAfter.Add(1)
		w.Logger.Debug("relay: channel asked to wait", "outbox_id", item.ID, "in", ra.After)
		w.update(bg, item, func(tx *store.Tx) error { return tx.DeferOutbox(item.ID, tx.Now().Add(ra.After)) })
		return deferred
	}
	// The error's text is not logged: a sender's error may carry content.
	kind := "network"
	if errors.Is(err, ErrServer) {
		kind = "server"
		w.stats.server.Add(1)
	} else {
		w.stats.network.Add(1)
	}
	d := w.backoff(item.Attempts)
	w.Logger.Debug("relay: delivery failed, will retry", "outbox_id", item.ID, "kind", kind, "took", time.Since(began).Round(time.Millisecond), "attempts", item.Attempts+1, "in", d.Round(time.Millisecond))
	if w.update(bg, item, func(tx *store.Tx) error { return tx.RescheduleOutbox(item.ID, tx.Now().Add(d)) }) {
		// Set after the commit, so that the delivery that clears it resets
		// this item's backoff too.
		w.backedOff.Store(true)
	}
	return transient
}

// backoff is exponential with full jitter, capped: many chats failing
// together (Telegram down) do not retry in lockstep.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.BaseBackoff << min(attempts, 20)
	if d <= 0 || d > w.MaxBackoff {
		d = w.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// update records a transient outcome; it reports whether it committed.
func (w *Worker) update(ctx context.Context, item *store.OutboxItem, fn func(tx *store.Tx) error) bool {
	if err := w.DB.Update(ctx, fn); err != nil {
		w.Logger.Error("relay: reschedule", "outbox_id", item.ID, "err", err)
		return false
	}
	return true
}

// dropExpired deletes the replies held longer than HoldFor.
func (w *Worker) dropExpired(ctx context.Context, now time.Time) {
	var n int64
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DropHeldOutbox(now.Add(-w.HoldFor))
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			w.Logger.Error("relay: drop expired held replies", "err", err)
		}
		return
	}
	if n > 0 {
		w.Logger.Info("relay: dropped replies held too long for chats that blocked the bot", "count", n)
	}
}

// finish records a final outcome: the message's delivery state is set and
// the row goes. For an unreachable chat every waiting reply of that chat is
// held instead (ReviveChat sends them when the reporter writes again) and
// marked undeliverable meanwhile, its handles too, with a ledger event per
// case. A delivery also ends the backoff of replies that failed while the
// channel was failing.
func (w *Worker) finish(ctx context.Context, item *store.OutboxItem, d hotline.Delivery, wholeChat bool) {
	var changes []hotline.Change
	reset := d == hotline.DeliveryDelivered && w.backedOff.Swap(false)
	var moved int64
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		changes = changes[:0]
		items := []*store.OutboxItem{item}
		if wholeChat {
			var err error
			if items, err = tx.OutboxByChat(item.ChatMAC); err != nil {
				return err
			}
			if err := tx.SetHandleUndeliverable(item.ChatMAC); err != nil {
				return err
			}
			if err := tx.HoldOutbox(item.ChatMAC); err != nil {
				return err
			}
		} else if err := tx.DeleteOutbox(item.ID); err != nil {
			return err
		}
		if reset {
			var err error
			if moved, err = tx.ResetOutboxBackoff(); err != nil {
				return err
			}
		}
		evented := map[int64]bool{}
		for _, it := range items {
			if !it.MessageID.Valid {
				continue
			}
			if err := tx.SetDelivery(it.MessageID.Int64, d); err != nil {
				if hotline.ErrorCode(err) == hotline.ENOTFOUND {
					continue // the message is gone (purged); nothing to mark
				}
				return err
			}
			m, err := tx.MessageByID(it.MessageID.Int64)
			if err != nil {
				return err
			}
			tip, err := tx.TipByID(m.TipID)
			if err != nil {
				return err
			}
			if d == hotline.DeliveryUndeliverable && !evented[tip.ID] {
				evented[tip.ID] = true
				if err := tx.AppendEvent(&hotline.Event{SchoolID: tip.SchoolID, TipID: tip.ID, Alias: tip.Alias.ZH, Kind: hotline.EventUndeliverable}); err != nil {
					return err
				}
			}
			changes = append(changes, hotline.Change{Kind: hotline.ChangeDelivery, SchoolID: tip.SchoolID, TipUID: tip.UID, MessageUID: m.UID, Urgent: tip.Urgent})
		}
		return nil
	})
	if err != nil {
		if reset {
			w.backedOff.Store(true) // the next delivery tries again
		}
		w.Logger.Error("relay: record delivery", "outbox_id", item.ID, "err", err)
		return
	}
	if moved > 0 {
		w.stats.resets.Add(1)
		w.Logger.Info("relay: delivery succeeded; replies backing off are due now", "count", moved)
	}
	if w.Notifier != nil {
		for _, c := range changes {
			w.Notifier.Notify(c)
		}
	}
}
