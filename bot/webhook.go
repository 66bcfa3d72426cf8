package bot

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/go-telegram/bot/models"

	"hotline/internal/dialog"
)

// dispatch queues upd behind its chat's earlier updates; done runs once
// with the outcome when its effect is durable (nil), or its handling failed
// (the conversation could not be loaded or saved). With again, an update
// that was not applied (dialog.ErrNotApplied: the database unreachable)
// is handled again in its place, after a growing pause, until it is or
// the bot stops: the chat's later updates wait behind it, so they keep
// their order. It returns false if the update could not be queued (ctx
// ended, or shutdown).
func (b *Bot) dispatch(ctx context.Context, upd *models.Update, again bool, done func(error)) bool {
	chat, ok := chatOf(upd)
	if !ok {
		done(nil) // nothing of ours: no effect to wait for
		return true
	}
	return b.queue.Push(ctx, job{chat: chat, run: func() {
		if !again {
			b.handle(b.procCtx, upd, done)
			return
		}
		pause := b.cfg.RetryBase
		for {
			var failed error
			b.handle(b.procCtx, upd, func(err error) { failed = err })
			if !errors.Is(failed, dialog.ErrNotApplied) || b.procCtx.Err() != nil {
				done(failed)
				return
			}
			select {
			case <-b.procCtx.Done():
				done(failed)
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, maxAgainPause)
		}
	}})
}

// maxAgainPause bounds the pause between tries of an update that was not
// applied: the database is back within seconds of an outage's end.
const maxAgainPause = 5 * time.Second

// flight is one webhook delivery being handled.
type flight struct {
	done chan struct{}
	err  error
}

// WebhookHandler serves Telegram's webhook requests. It answers 200 only
// once the update's effect is stored (or it has none), and 503 when its
// handling failed or took too long, so that Telegram sends it again; the
// store's record of handled updates keeps a redelivery from being applied
// twice, and a redelivery arriving while the first still runs waits for it.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if b.secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if b.queue == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		upd, err := decodeUpdate(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 55*time.Second)
		defer cancel()
		f, fresh := b.startFlight(upd.ID)
		if fresh && !b.dispatch(ctx, upd, false, func(err error) { b.endFlight(upd.ID, f, err) }) {
			b.endFlight(upd.ID, f, errBusy)
		}
		select {
		case <-f.done:
			if f.err != nil {
				http.Error(w, "not handled", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		case <-ctx.Done():
			http.Error(w, "timeout", http.StatusServiceUnavailable)
		}
	})
}

// errBusy is a webhook update that could not be queued.
var errBusy = &statusError{http.StatusServiceUnavailable}

// startFlight returns the running delivery of update id, or a new one.
func (b *Bot) startFlight(id int64) (*flight, bool) {
	b.flightsMu.Lock()
	defer b.flightsMu.Unlock()
	if f, ok := b.flights[id]; ok {
		return f, false
	}
	f := &flight{done: make(chan struct{})}
	b.flights[id] = f
	return f, true
}

// endFlight settles a delivery (once: later calls do nothing); the next one of the same update (after a
// failure) is handled afresh.
func (b *Bot) endFlight(id int64, f *flight, err error) {
	b.flightsMu.Lock()
	defer b.flightsMu.Unlock()
	if b.flights[id] != f {
		return
	}
	delete(b.flights, id)
	f.err = err
	close(f.done)
}
