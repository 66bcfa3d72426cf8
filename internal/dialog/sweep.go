package dialog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"hotline/internal/hotline"
)

// sweepBatch bounds the states one sweep opens; the next sweep takes the rest.
const sweepBatch = 100

// Sweep acts on drafts that waited too long. A draft urgent for
// UrgentSendAfter goes to its school as an urgent report through the same
// submission as the reporter's own tap, and the conversation moves on to
// follow-ups, as after any send; the reporter hears of it at once on
// Telegram and WeChat (intake queues the notice), at their next event on
// the web (with their receipt). A draft whose safety question went
// unanswered for hotline.SafetyQuestionWait is marked possibly urgent and,
// its school known, goes to the school the same way, with the mark and
// without paging anyone: a child who stops answering must reach a person.
// Without a school it keeps the mark and waits for its reporter. Filed
// reports whose question went unanswered are marked (Engine.Safety, when
// it is a SafetyExpirer). Every other unsent draft not touched for
// DraftKeep is deleted. It returns how many it sent and deleted.
//
// Each conversation is handled under its lock and reloaded under it, so a
// reporter's tap racing the sweeper files the report once: whoever comes
// second finds it sent.
func (e *Engine) Sweep(ctx context.Context) (sent, deleted int, err error) {
	now := e.now()
	var errs []error
	if x, ok := e.Safety.(SafetyExpirer); ok {
		if _, err := x.ExpireSafetyQuestions(ctx); err != nil {
			errs = append(errs, fmt.Errorf("dialog: sweep safety questions: %w", err))
		}
	}
	states, err := e.Store.Due(ctx, now.Add(-UrgentSendAfter), now, now.Add(-DraftKeep), sweepBatch)
	if err != nil {
		return 0, 0, errors.Join(append(errs, fmt.Errorf("dialog: sweep: %w", err))...)
	}
	for _, b := range states {
		var st state
		if json.Unmarshal(b, &st) != nil || st.Key == nil {
			continue
		}
		k := st.Key.key()
		if !validKey(k) {
			continue
		}
		s, d, err := e.sweep(ctx, k, now)
		if s {
			sent++
		}
		if d {
			deleted++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, deleted, errors.Join(errs...)
}

// sweep handles one conversation found due, if it still is.
func (e *Engine) sweep(ctx context.Context, k Key, now time.Time) (sent, deleted bool, err error) {
	unlock, err := e.lock(ctx, k)
	if err != nil {
		return false, false, err
	}
	defer unlock()
	c, err := e.open(ctx, k, "")
	if err != nil {
		return false, false, err
	}
	if c.fresh {
		return false, false, nil // gone since it was found
	}
	st := c.st
	switch {
	case st.draftWaiting() && !now.Before(st.Ask.Due):
		// No answer in time: the draft is marked possibly urgent.
		st.Ask.Answer = answerNone
		st.PossiblyUrgent = true
		c.count(hotline.SafetyCountNone)
		if st.School != nil && st.hasDraft() {
			// Filed at once with the mark, counted in the same commit;
			// if it fails, nothing is saved and the next sweep tries
			// again.
			c.auto = true
			c.submit()
			if !c.submitted {
				if c.failed != nil {
					return false, false, fmt.Errorf("dialog: automatic send of a possibly urgent draft: %w", c.failed)
				}
				return false, false, nil
			}
			if _, err := e.finish(c); err != nil {
				return true, false, err
			}
			return true, false, nil
		}
		// No school to send it to: it keeps the mark and waits for its
		// reporter, who is not interrupted.
		if _, err := e.finish(c); err != nil {
			return false, false, err
		}
		return false, false, nil
	case !st.UrgentAt.IsZero() && !now.Before(st.UrgentAt.Add(UrgentSendAfter)) && st.hasDraft() && st.School != nil:
		c.auto = true
		c.submit()
		if !c.submitted {
			// The draft stays urgent: the next sweep tries again.
			if c.failed != nil {
				return false, false, fmt.Errorf("dialog: automatic urgent send: %w", c.failed)
			}
			return false, false, nil
		}
		if _, err := e.finish(c); err != nil {
			return true, false, err
		}
		return true, false, nil
	case st.UrgentAt.IsZero() && (st.hasDraft() || st.Sent != nil) && st.Updated.Before(now.Add(-DraftKeep)):
		st.resetDraft()
		st.Sent = nil
		if st.Active == "" {
			// Nothing else to keep: the whole conversation goes, its
			// uncounted events counted first.
			if err := e.drop(c); err != nil {
				return false, false, fmt.Errorf("dialog: delete stale draft: %w", err)
			}
			return false, true, nil
		}
		// Keep the link to the reporter's sent report, without the draft.
		st.Step, st.Back = stepFollow, ""
		if _, err := e.finish(c); err != nil {
			return false, false, err
		}
		return false, true, nil
	}
	return false, false, nil
}

// drop deletes the conversation c. Events of the safety question it holds
// uncounted are counted first, in a save of the state without them (under
// no district when no school was chosen), so that a crash between the two
// neither loses nor repeats them.
func (e *Engine) drop(c *conv) error {
	if len(c.st.Counts) > 0 {
		b, meta, err := e.encode(c.st, c.k)
		if err == nil {
			err = e.Store.Save(c.ctx, c.k, b, meta)
		}
		if err != nil {
			return err
		}
	}
	return e.Store.Delete(c.ctx, c.k)
}

// SafetyExpirer is what Engine.Safety may also offer (intake does): marking
// the filed reports whose safety question went unanswered.
type SafetyExpirer interface {
	ExpireSafetyQuestions(ctx context.Context) (int, error)
}

// RunSweeper sweeps every interval until ctx ends. Errors are logged
// without content; a failed send is tried again at the next sweep.
func (e *Engine) RunSweeper(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	if logger == nil {
		logger = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		sent, deleted, err := e.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Error("dialog sweep", "err", err)
		}
		if sent+deleted > 0 {
			logger.Info("dialog sweep", "sent_urgent", sent, "deleted_drafts", deleted)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
