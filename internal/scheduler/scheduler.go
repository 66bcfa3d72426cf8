// Package scheduler is the clock-driven worker of accountability: it
// records missed deadlines and opens follow-up reports owed to the
// district, climbs the escalation ladder of every urgent case until someone
// acknowledges it, sends the alerts owed (through the alert channels it is
// given), purges content past a school's retention and records the daily
// ledger head. It decides from metadata
// only: it never opens a case's content, and its alerts carry an alias, a
// school and what to do, never what was reported.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Scheduler is the clock-driven worker of accountability. Each pass (Tick)
// opens follow-up reports owed after changes of escalated cases, records
// every deadline that passed undone (once, in the database, with a
// deadline_missed ledger event), pages staff for urgent tips, purges
// content past its retention, records ledger checkpoints and the day's
// head (with a full walk of the ledger) and sends the alerts owed. Everything it decides is stored before it acts, so a
// restart resumes where it stopped and never fires a deadline twice.
type Scheduler struct {
	DB       *store.DB
	Vault    *vault.Vault
	Notifier hotline.Notifier // told of the cases a pass changed; may be nil
	// Staff routes alerts: the rota, everyone's targets, the ladder's
	// minutes. Nil: one is made from DB and Vault.
	Staff *staff.Service
	// Channels are the alert channels this server has configured; a
	// target of a kind missing here fails with that reason, visibly.
	Channels alert.Set
	// BaseURL, if set, is added to alerts as a link: a person's one-time
	// "I'm on it" link, or the case (behind the log-in) for a group.
	BaseURL string
	// Interval between passes; a wake-up runs one at once, and so does
	// the next rung of a ladder coming due.
	Interval time.Duration
	// SendTimeout bounds one send to one target (default 20 s).
	SendTimeout time.Duration
	// Zone sets the day boundary of daily ledger heads (default UTC+8).
	Zone   *time.Location
	Logger *slog.Logger

	counters schedulerCounters // for Stats
	alerts   alertCounters     // for AlertStats
	staffMu  sync.Mutex
	// passMu runs one pass at a time in this process: a pass a test or
	// a wake-up starts waits for the one under way, so two never send the
	// same pending alert. (Across nodes, only the leader runs passes.)
	passMu sync.Mutex
}

func (sc *Scheduler) staff() *staff.Service {
	sc.staffMu.Lock()
	defer sc.staffMu.Unlock()
	if sc.Staff == nil {
		sc.Staff = staff.New(sc.DB, sc.Vault, sc.logger())
	}
	return sc.Staff
}

func (sc *Scheduler) logger() *slog.Logger {
	if sc.Logger != nil {
		return sc.Logger
	}
	return slog.Default()
}

func (sc *Scheduler) now() time.Time { return sc.DB.Clock.Now() }

// systemEvent is a ledger event of t that the scheduler, not a person,
// caused.
func systemEvent(t *hotline.Tip, kind hotline.EventKind, detail string) *hotline.Event {
	return &hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: kind, Detail: detail}
}

// Run runs passes every Interval (default one minute) and whenever wake
// fires (e.g. a new urgent tip), until ctx ends.
func (sc *Scheduler) Run(ctx context.Context, wake <-chan struct{}) {
	interval := sc.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	due := time.NewTimer(interval)
	defer due.Stop()
	for {
		if err := sc.Tick(ctx); err != nil && ctx.Err() == nil {
			sc.logger().Error("scheduler pass failed", "err", err)
		}
		// The next rung of a ladder is paged when it is due, not at the
		// next tick.
		due.Reset(sc.untilNextRung(ctx, interval))
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-due.C:
		case <-wake:
		}
	}
}

// recordHeads records a checkpoint of the ledger's tail when one is due
// (store.HeadInterval) and the day's head once a day; with the daily head
// it walks the whole ledger (VerifyLedger), so that an edit anywhere in
// the history is found within a day even if nobody runs `hotline ledger
// verify`. A broken ledger is logged (no content: a seq and a reason).
func (sc *Scheduler) recordHeads(ctx context.Context) error {
	if err := sc.DB.Update(ctx, func(tx *store.Tx) error { _, err := tx.RecordCheckpoint(); return err }); err != nil {
		return err
	}
	h, err := sc.RecordDailyHead(ctx)
	if err != nil || h == nil {
		return err
	}
	res, err := sc.DB.VerifyLedger(ctx)
	if err != nil {
		return err
	}
	if !res.OK() {
		sc.logger().Error("ledger broken", "seq", res.Break.Seq, "reason", res.Break.Reason)
	}
	return nil
}

// expireReceipts clears the web receipts kept sealed to their pages past
// their day (store.Tx.ExpireSealedReceipts): not served after it anyway,
// and not kept longer than a pass beyond it.
func (sc *Scheduler) expireReceipts(ctx context.Context) error {
	return sc.DB.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.ExpireSealedReceipts()
		return err
	})
}

// Tick runs one pass. Each step runs even if an earlier one failed, so one
// bad row does not stop paging; the errors are joined.
func (sc *Scheduler) Tick(ctx context.Context) (err error) {
	sc.passMu.Lock()
	defer sc.passMu.Unlock()
	defer func(start time.Time) { sc.counters.pass(start, err) }(time.Now())
	var errs []error
	for _, step := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"follow-ups", sc.ScanFollowups},
		{"deadlines", func(ctx context.Context) error {
			n, err := sc.CheckDeadlines(ctx)
			sc.counters.misses.Add(int64(n))
			return err
		}},
		{"urgent ladders", sc.RunLadders},
		{"retention", func(ctx context.Context) error { _, err := sc.Purge(ctx); return err }},
		{"sealed receipts", sc.expireReceipts},
		{"ledger heads", sc.recordHeads},
		{"alerts", func(ctx context.Context) error { _, err := sc.SendAlerts(ctx); return err }},
	} {
		if err := step.fn(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", step.name, err))
		}
	}
	return errors.Join(errs...)
}
