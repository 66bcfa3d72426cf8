package scheduler

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// missed lists the deadlines of t that have passed undone at now: like
// hotline.Tip.Overdue, a deadline is missed once now is after it.
func missed(t *hotline.Tip, now time.Time) []struct {
	kind hotline.DeadlineKind
	due  time.Time
} {
	var out []struct {
		kind hotline.DeadlineKind
		due  time.Time
	}
	add := func(k hotline.DeadlineKind, due time.Time) {
		out = append(out, struct {
			kind hotline.DeadlineKind
			due  time.Time
		}{k, due})
	}
	if t.Status.Open() {
		if !t.AckDue.IsZero() && t.AcknowledgedAt.IsZero() && now.After(t.AckDue) {
			add(hotline.DeadlineAck, t.AckDue)
		}
		if !t.ReplyDue.IsZero() && t.FirstReplyAt.IsZero() && now.After(t.ReplyDue) {
			add(hotline.DeadlineReply, t.ReplyDue)
		}
		if !t.AssessDue.IsZero() && !t.Assessed() && now.After(t.AssessDue) {
			add(hotline.DeadlineAssess, t.AssessDue)
		}
		if !t.ProgressDue.IsZero() && now.After(t.ProgressDue) {
			add(hotline.DeadlineProgress, t.ProgressDue)
		}
	}
	// A report the district is owed stays owed when the case closes.
	if !t.DistrictDue.IsZero() && !t.Steps[hotline.StepDistrictReport] && now.After(t.DistrictDue) {
		add(hotline.DeadlineDistrict, t.DistrictDue)
	}
	return out
}

// CheckDeadlines records every deadline that has passed undone: once per
// deadline (the deadline_misses key), with a deadline_missed ledger event
// and alerts to the school and the district in the same transaction. It
// returns how many it recorded.
func (sc *Scheduler) CheckDeadlines(ctx context.Context) (int, error) {
	db := sc.DB
	now := sc.now()
	tips, err := db.TipsPastDue(ctx, now)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tip := range tips {
		// recorded is what this tip's transaction recorded; it is set, not
		// accumulated, inside the closure and counted once Update has
		// committed, so n holds committed misses only.
		var recorded int
		err := db.Update(ctx, func(tx *store.Tx) error {
			recorded = 0
			t, err := tx.TipByID(tip.ID)
			if err != nil {
				return err
			}
			for _, m := range missed(t, tx.Now()) {
				kind := m.kind
				if kind == hotline.DeadlineDistrict {
					if f, err := tx.IsFollowupDue(t.ID, m.due); err != nil {
						return err
					} else if f {
						kind = hotline.DeadlineFollowup
					}
				}
				fresh, err := tx.RecordDeadlineMiss(t.ID, string(kind), m.due)
				if err != nil {
					return err
				} else if !fresh {
					continue
				}
				recorded++
				ev := systemEvent(t, hotline.EventDeadlineMissed, "deadline="+string(kind))
				if err := tx.AppendEvent(ev); err != nil {
					return err
				}
				reason := ReasonDeadlinePrefix + string(kind)
				if kind == hotline.DeadlineAck && t.Urgent {
					// The last stage of paging for an urgent tip: the district.
					reason = ReasonUrgentOverdue
				}
				key := fmt.Sprintf("miss:%d:%s:%d", t.ID, kind, m.due.UnixMicro())
				for _, aud := range []string{AudienceSchool, AudienceDistrict} {
					if _, err := tx.QueueAlert(&store.Alert{Key: key + ":" + aud, SchoolID: t.SchoolID, TipID: t.ID, Audience: aud, Reason: reason}); err != nil {
						return err
					}
				}
			}
			if err := store.NotifyOnCommit(tx, sc.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent}); err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += recorded
	}
	return n, nil
}

// followupKinds are the ledger events that change an escalated case in a way
// the district must hear about again (及时续报), plus the follow-up report
// itself, which meets the deadline.
var followupKinds = []hotline.EventKind{
	hotline.EventStatusChanged, hotline.EventAcknowledged, hotline.EventResolved, hotline.EventClosed,
	hotline.EventReopened, hotline.EventSeverityChanged, hotline.EventDistrictReport,
}

const followupCursor = "followups"

// ScanFollowups reads the ledger from where it last stopped and, for each
// change of status or severity of an escalated case whose district report
// is up to date, opens a follow-up report due after the school's district
// deadline: the district-report step is unchecked and DistrictDue set, so
// the queue, the case page and CheckDeadlines all see it. A recorded
// district report completes pending follow-ups.
func (sc *Scheduler) ScanFollowups(ctx context.Context) error {
	for {
		more := false
		err := sc.DB.Update(ctx, func(tx *store.Tx) error {
			after, err := tx.Cursor(followupCursor)
			if err != nil {
				return err
			}
			evs, err := tx.EventsOfKinds(after, followupKinds, 200)
			more = err == nil && len(evs) == 200
			if err != nil || len(evs) == 0 {
				return err
			}
			for _, ev := range evs {
				if err := sc.followup(tx, ev); err != nil {
					return err
				}
			}
			return tx.SetCursor(followupCursor, evs[len(evs)-1].Seq)
		})
		if err != nil || !more {
			return err
		}
	}
}

func (sc *Scheduler) followup(tx *store.Tx, ev *hotline.Event) error {
	if ev.TipID == 0 {
		return nil
	}
	if ev.Kind == hotline.EventDistrictReport {
		return tx.CompleteFollowups(ev.TipID)
	}
	t, err := tx.TipByID(ev.TipID)
	if err != nil {
		return err
	}
	if !t.Escalated || !t.Steps[hotline.StepDistrictReport] {
		return nil // not reported yet, or a report is already owed
	}
	if escalatedAt, err := tx.TipEventSeq(t.ID, hotline.EventEscalated); err != nil {
		return err
	} else if escalatedAt == 0 || ev.Seq < escalatedAt {
		return nil // a change from before the district knew of the case
	}
	school, err := tx.SchoolByID(t.SchoolID)
	if err != nil {
		return err
	}
	due := ev.At.Add(school.Settings.Deadlines.WithDefaults().DistrictReport.D())
	t.Steps[hotline.StepDistrictReport] = false
	t.DistrictDue = due
	if err := tx.UpdateTip(t); err != nil {
		return err
	}
	if err := tx.AddFollowup(t.ID, due, ev.Seq); err != nil {
		return err
	}
	if err := store.NotifyOnCommit(tx, sc.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent}); err != nil {
		return err
	}
	return tx.AppendEvent(systemEvent(t, hotline.EventStepRecorded, fmt.Sprintf("step=district_report;done=false;followup_after=%d", ev.Seq)))
}

// RecordDailyHead records today's ledger head once a day, so that a later
// rewrite or truncation of history no longer matches what the district was
// shown. The head_recorded event is appended first and is itself the
// recorded head: cutting even the last row of the ledger is then caught.
// It returns the head when one was recorded now.
func (sc *Scheduler) RecordDailyHead(ctx context.Context) (*store.LedgerHead, error) {
	zone := sc.Zone
	if zone == nil {
		zone = hotline.ChinaTime
	}
	var out *store.LedgerHead
	err := sc.DB.Update(ctx, func(tx *store.Tx) error {
		out = nil
		day := tx.Now().In(zone).Format("2006-01-02")
		if done, err := tx.HasLedgerHead(day); err != nil || done {
			return err
		}
		prev, err := tx.LastEventSeq()
		if err != nil {
			return err
		}
		if err := tx.AppendEvent(&hotline.Event{Kind: hotline.EventHeadRecorded, Detail: fmt.Sprintf("day=%s;after=%d", day, prev)}); err != nil {
			return err
		}
		h, fresh, err := tx.RecordLedgerHead(day)
		if err != nil {
			return err
		} else if fresh {
			out = h
		}
		return nil
	})
	return out, err
}
