package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Sender delivers one reply over its channel (the Telegram bot). It tells
// the worker what to do next through the error it returns: nil (delivered),
// ErrUnreachable, ErrRejected, a *RetryAfterError, or anything else
// (transient: retried with backoff).
type Sender interface {
	Deliver(ctx context.Context, p *Payload) error
}

// ErrUnreachable means the chat cannot be reached any more (it blocked the
// bot, or no longer exists): its handles become undeliverable.
var ErrUnreachable = errors.New("relay: chat unreachable")

// ErrRejected means the channel refused this one message for good (a
// malformed request); retrying would block the chat's later replies forever.
var ErrRejected = errors.New("relay: message rejected")

// RetryAfterError asks the worker to wait before the next attempt (429).
type RetryAfterError struct{ After time.Duration }

func (e *RetryAfterError) Error() string { return fmt.Sprintf("relay: retry after %s", e.After) }

// Worker sends the outbox. Only a chat's oldest row is ever in flight, so
// replies arrive in the order counselors wrote them; different chats are
// sent in parallel. It never logs a chat id or a reply's text.
type Worker struct {
	DB       *store.DB
	Vault    *vault.Vault
	Sender   Sender
	Notifier hotline.Notifier
	Logger   *slog.Logger

	// Concurrency is how many chats are sent to at once (default 16).
	Concurrency int
	// SendTimeout bounds one delivery attempt (default 30s).
	SendTimeout time.Duration
	// BaseBackoff and MaxBackoff shape the exponential backoff of transient
	// failures (default 1s and 5 min).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// PollInterval is how often the outbox is read when nothing wakes the
	// worker (default 5s): a safety net for a missed wake-up.
	PollInterval time.Duration

	wakeOnce sync.Once
	wake     chan struct{}
	counters counters // for Stats
}

func (w *Worker) init() {
	w.wakeOnce.Do(func() {
		w.wake = make(chan struct{}, 1)
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Concurrency <= 0 {
			w.Concurrency = 16
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
		if w.PollInterval <= 0 {
			w.PollInterval = 5 * time.Second
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

type result struct{ mac string }

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
	for {
		if ctx.Err() != nil {
			return
		}
		if len(inflight) < w.Concurrency {
			heads, err := w.DB.OutboxHeads(ctx, w.DB.Clock.Now(), 2*w.Concurrency+16)
			if err != nil && ctx.Err() == nil {
				w.Logger.Error("relay: read outbox", "err", err)
			}
			for _, item := range heads {
				if len(inflight) >= w.Concurrency {
					break
				}
				mac := string(item.ChatMAC)
				if inflight[mac] {
					continue
				}
				inflight[mac] = true
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.attempt(ctx, item)
					results <- result{mac}
				}()
			}
		}
		wait := w.PollInterval
		if next, err := w.DB.NextOutboxAttempt(ctx); err == nil && !next.IsZero() {
			if d := next.Sub(w.DB.Clock.Now()); d > 0 && d < wait {
				wait = d
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
			delete(inflight, r.mac)
			// Take every other finished attempt too, then read the outbox
			// once for all of them.
			for drained := false; !drained; {
				select {
				case r := <-results:
					delete(inflight, r.mac)
				default:
					drained = true
				}
			}
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// attempt sends one outbox row and records the outcome. It runs on a
// context that outlives ctx by SendTimeout, so that shutdown does not cut a
// send whose answer would tell us it was delivered.
func (w *Worker) attempt(ctx context.Context, item *store.OutboxItem) {
	bg := context.WithoutCancel(ctx)
	p, err := OpenPayload(w.Vault, item)
	if err != nil {
		// A row that cannot be opened can never be sent: drop it rather
		// than block the chat's later replies.
		w.Logger.Error("relay: open outbox row", "outbox_id", item.ID, "err", err)
		w.counters.unopenable.Add(1)
		w.finish(bg, item, hotline.DeliveryUndeliverable, false)
		return
	}
	sctx, cancel := context.WithTimeout(bg, w.SendTimeout)
	err = w.Sender.Deliver(sctx, p)
	cancel()
	var ra *RetryAfterError
	switch {
	case err == nil:
		w.counters.delivered.Add(1)
		w.finish(bg, item, hotline.DeliveryDelivered, false)
	case errors.Is(err, ErrUnreachable):
		w.counters.unreachable.Add(1)
		w.Logger.Info("relay: chat unreachable, marking its replies undeliverable", "outbox_id", item.ID)
		w.finish(bg, item, hotline.DeliveryUndeliverable, true)
	case errors.Is(err, ErrRejected):
		w.counters.rejected.Add(1)
		w.Logger.Warn("relay: reply rejected by the channel", "outbox_id", item.ID)
		w.finish(bg, item, hotline.DeliveryUndeliverable, false)
	case errors.As(err, &ra):
		w.counters.rateLimited.Add(1)
		w.reschedule(bg, item, ra.After)
	default:
		w.counters.transient.Add(1)
		d := w.backoff(item.Attempts)
		w.Logger.Debug("relay: delivery failed, will retry", "outbox_id", item.ID, "attempts", item.Attempts+1, "in", d.Round(time.Millisecond))
		w.reschedule(bg, item, d)
	}
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

func (w *Worker) reschedule(ctx context.Context, item *store.OutboxItem, after time.Duration) {
	err := w.DB.Update(ctx, func(tx *store.Tx) error {
		return tx.RescheduleOutbox(item.ID, tx.Now().Add(after))
	})
	if err != nil {
		w.Logger.Error("relay: reschedule", "outbox_id", item.ID, "err", err)
	}
}

// finish records a final outcome: the row goes, the message's delivery
// state is set, and for an unreachable chat every waiting reply of that
// chat and its handles are marked, with a ledger event per case.
func (w *Worker) finish(ctx context.Context, item *store.OutboxItem, d hotline.Delivery, wholeChat bool) {
	var changes []hotline.Change
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
		}
		evented := map[int64]bool{}
		for _, it := range items {
			if err := tx.DeleteOutbox(it.ID); err != nil {
				return err
			}
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
		w.Logger.Error("relay: record delivery", "outbox_id", item.ID, "err", err)
		return
	}
	if w.Notifier != nil {
		for _, c := range changes {
			w.Notifier.Notify(c)
		}
	}
}
