package triage

import (
	"context"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/relay"
	"hotline/internal/staff"
	"hotline/internal/store"
	"hotline/internal/thread"
)

// Queue returns a page of the actor's school queue.
func (s *Service) Queue(ctx context.Context, actor hotline.Actor, f hotline.TipFilter) ([]*hotline.Tip, *hotline.QueueCursor, error) {
	if actor.SchoolID == 0 || (actor.Role != hotline.RoleCounselor && actor.Role != hotline.RoleAdmin) {
		return nil, nil, hotline.ErrNotFound
	}
	f.SchoolID = actor.SchoolID // a filter can never reach another school
	return s.DB.Queue(ctx, f, s.DB.Clock.Now())
}

// Tip returns one tip's metadata if the actor may see it.
func (s *Service) Tip(ctx context.Context, actor hotline.Actor, uid string) (*hotline.Tip, error) {
	return s.visible(ctx, actor, uid)
}

// Thread opens a tip's messages with the session's key: school staff read
// the school's copy, district officers the district's copy of an escalated
// case.
func (s *Service) Thread(ctx context.Context, sess *staff.Session, uid string) (*hotline.Tip, []*hotline.Message, error) {
	tip, err := s.visible(ctx, sess.Actor(), uid)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.DB.Messages(ctx, tip.ID)
	if err != nil {
		return nil, nil, err
	}
	who := thread.ReadSchool
	if sess.Counselor.Role == hotline.RoleDistrict {
		who = thread.ReadDistrict
	}
	out := make([]*hotline.Message, 0, len(sealed))
	for _, m := range sealed {
		msg, err := thread.Open(sess.Key, who, tip.SchoolID, tip.UID, m)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, msg)
	}
	return tip, out, nil
}

// Timeline returns the ledger events of a case.
func (s *Service) Timeline(ctx context.Context, actor hotline.Actor, uid string) ([]*hotline.Event, error) {
	tip, err := s.visible(ctx, actor, uid)
	if err != nil {
		return nil, err
	}
	return s.DB.TipEvents(ctx, tip.ID)
}

// ReporterReachable reports whether replies can reach the reporter: web
// reporters' threads wait for them; a Telegram chat that blocked the bot or
// was forgotten, and a report entered by staff, cannot be reached.
func (s *Service) ReporterReachable(ctx context.Context, actor hotline.Actor, uid string) (bool, error) {
	tip, err := s.visible(ctx, actor, uid)
	if err != nil {
		return false, err
	}
	switch tip.Channel {
	case hotline.ChannelTelegram, hotline.ChannelWechat:
		h, err := s.DB.HandleByTip(ctx, tip.ID)
		if hotline.ErrorCode(err) == hotline.ENOTFOUND {
			return false, nil
		} else if err != nil {
			return false, err
		}
		return !h.Undeliverable, nil
	case hotline.ChannelStaff:
		// Reachable when the caller was given a receipt.
		return tip.ReporterKey != nil, nil
	}
	return true, nil
}

// update runs fn on a fresh copy of the tip inside a write transaction,
// after checking access, and notifies after commit.
func (s *Service) update(ctx context.Context, actor hotline.Actor, uid string, fn func(tx *store.Tx, t *hotline.Tip, school *hotline.School) error) (*hotline.Tip, error) {
	if actor.Role == hotline.RoleDistrict {
		return nil, hotline.ErrForbidden
	}
	tip, err := s.visible(ctx, actor, uid)
	if err != nil {
		return nil, err
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return nil, err
	}
	var out *hotline.Tip
	err = s.DB.Update(ctx, func(tx *store.Tx) error {
		t, err := tx.TipByID(tip.ID)
		if err != nil {
			return err
		}
		wasAcked, wasUrgent := !t.AcknowledgedAt.IsZero(), t.Urgent
		if err := fn(tx, t, school); err != nil {
			return err
		}
		if err := tx.UpdateTip(t); err != nil {
			return err
		}
		// The escalation ladder stops in the same transaction: once this
		// commits, no further alert about the case goes out.
		switch {
		case !wasAcked && !t.AcknowledgedAt.IsZero():
			if err := tx.StopLadder(t.ID, store.LadderAcknowledged, actor.CounselorID); err != nil {
				return err
			}
		case wasUrgent && !t.Urgent:
			if err := tx.StopLadder(t.ID, store.LadderEnded, 0); err != nil {
				return err
			}
		}
		out = t
		if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: hotline.ChangeUpdated, SchoolID: t.SchoolID, TipUID: t.UID, Urgent: t.Urgent}); err != nil {
			return err
		}
		return nil
	})
	return out, err
}

func event(t *hotline.Tip, actor hotline.Actor, kind hotline.EventKind, detail string) *hotline.Event {
	return &hotline.Event{SchoolID: t.SchoolID, TipID: t.ID, Alias: t.Alias.ZH, Kind: kind, Detail: detail, ActorID: actor.CounselorID}
}

// renew restarts the case's next-action clock (hotline.Tip.RenewProgress)
// after a counselor acted on it: a reply, a change of status or severity,
// a handling step, a report to the district. Notes, assignments and
// category changes do not count: they do nothing for the reporter.
func renew(tx *store.Tx, t *hotline.Tip) error {
	d, err := tx.CaseDeadlines(t.SchoolID)
	if err != nil {
		return err
	}
	t.RenewProgress(d, tx.Now())
	return nil
}

// acknowledge marks a new case acknowledged (受理) inside tx.
func acknowledge(tx *store.Tx, t *hotline.Tip, actor hotline.Actor) error {
	if t.Status != hotline.StatusNew {
		return nil
	}
	t.Status = hotline.StatusAcknowledged
	if t.AcknowledgedAt.IsZero() {
		t.AcknowledgedAt = tx.Now()
	}
	if err := tx.StopLadder(t.ID, store.LadderAcknowledged, actor.CounselorID); err != nil {
		return err
	}
	return tx.AppendEvent(event(t, actor, hotline.EventAcknowledged, ""))
}

// Reply seals a counselor's reply to the reporter and puts it on its way:
// a web reporter's copy waits in their thread; a Telegram reply goes into
// the relay's outbox in the same transaction.
func (s *Service) Reply(ctx context.Context, actor hotline.Actor, uid, text string, photo *hotline.Photo) (*hotline.Message, error) {
	return s.addMessage(ctx, actor, uid, hotline.AuthorCounselor, text, photo)
}

// Note adds an internal note: never sent to the reporter, read by the
// school's staff and, once the case is escalated, by the district (Escalate
// seals every message of the thread, notes included, to the district).
func (s *Service) Note(ctx context.Context, actor hotline.Actor, uid, text string) (*hotline.Message, error) {
	return s.addMessage(ctx, actor, uid, hotline.AuthorNote, text, nil)
}

func (s *Service) addMessage(ctx context.Context, actor hotline.Actor, uid string, author hotline.AuthorKind, text string, photo *hotline.Photo) (*hotline.Message, error) {
	if actor.Role == hotline.RoleDistrict {
		return nil, hotline.ErrForbidden
	}
	var err error
	if photo == nil || text != "" {
		if text, err = thread.ValidateText(text); err != nil {
			return nil, err
		}
	}
	tip, err := s.visible(ctx, actor, uid)
	if err != nil {
		return nil, err
	}
	school, err := s.DB.SchoolByID(ctx, tip.SchoolID)
	if err != nil {
		return nil, err
	}
	var handle *store.Handle
	var held bool
	m, _, err := thread.Append(ctx, s.DB, tip, school, thread.Draft{Author: author, CounselorID: actor.CounselorID, Text: text, Photo: photo}, thread.Hooks{
		Before: func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error {
			if author != hotline.AuthorCounselor {
				return nil
			}
			handle, held = nil, false
			switch t.Channel {
			case hotline.ChannelTelegram, hotline.ChannelWechat:
				m.Delivery = hotline.DeliveryUndeliverable
				h, err := tx.HandleByTip(t.ID)
				switch {
				case err == nil && !h.Undeliverable:
					m.Delivery, handle = hotline.DeliveryWaiting, h
				case err == nil:
					// The chat blocked the bot (or WeChat's window is
					// shut): held with the replies before it, and sent
					// after them if the reporter writes again.
					handle, held = h, true
				case hotline.ErrorCode(err) != hotline.ENOTFOUND:
					return err
				}
			case hotline.ChannelWebchat, hotline.ChannelMailbox:
				m.Delivery = hotline.DeliveryDelivered
			case hotline.ChannelStaff:
				m.Delivery = hotline.DeliveryUndeliverable
				if t.ReporterKey != nil {
					// The caller holds a receipt: the reply waits in
					// their thread like a web reporter's.
					m.Delivery = hotline.DeliveryDelivered
				}
			}
			return nil
		},
		After: func(tx *store.Tx, t *hotline.Tip, m *store.SealedMessage) error {
			if handle != nil {
				chatID, err := s.Vault.OpenHandleChat(t.UID, handle.ChatSealed)
				if err != nil {
					return fmt.Errorf("open chat handle: %w", err)
				}
				p := &relay.Payload{Channel: relay.PayloadChannel(t.Channel), ChatID: chatID, Text: text, Alias: t.Alias.In(handle.Lang), Lang: handle.Lang, TipUID: t.UID, MessageUID: m.UID}
				if photo != nil {
					p.Photo, p.PhotoType = photo.Data, photo.Type
				}
				enqueue := relay.Enqueue
				if held {
					enqueue = relay.EnqueueHeld
				}
				if err := enqueue(tx, s.Vault, m.ID, p); err != nil {
					return err
				}
			}
			kind := hotline.EventNoted
			if author == hotline.AuthorCounselor {
				kind = hotline.EventReplied
				if err := acknowledge(tx, t, actor); err != nil {
					return err
				}
				if t.FirstReplyAt.IsZero() {
					t.FirstReplyAt = tx.Now()
				}
				if err := renew(tx, t); err != nil {
					return err
				}
			}
			if err := tx.AppendEvent(event(t, actor, kind, "")); err != nil {
				return err
			}
			change := hotline.ChangeUpdated
			if author == hotline.AuthorCounselor {
				change = hotline.ChangeReply
			}
			if err := store.NotifyOnCommit(tx, s.Notifier, hotline.Change{Kind: change, SchoolID: t.SchoolID, TipUID: t.UID, MessageUID: m.UID, Urgent: t.Urgent}); err != nil {
				return err
			}
			if m.Delivery == hotline.DeliveryUndeliverable {
				return tx.AppendEvent(event(t, actor, hotline.EventUndeliverable, ""))
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	out := m.Message()
	out.Body, out.Photo, out.HasPhoto = text, photo, photo != nil
	return out, nil
}

// SetStatus moves a case to next if hotline.Status.CanMoveTo allows it:
// forward, investigating back to acknowledged, resolved on to closed, or a
// finished case reopened. A reopened case owes its next action again (its
// progress deadline, or a fresh assessment deadline if it was never
// assessed); a finished one owes nothing.
func (s *Service) SetStatus(ctx context.Context, actor hotline.Actor, uid string, next hotline.Status) error {
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, _ *hotline.School) error {
		if next == t.Status {
			// The status list offers the current status first, selected:
			// "change" without a choice changes nothing.
			return nil
		}
		if !t.Status.CanMoveTo(next) {
			return hotline.ErrStatusChange(t.Status, next)
		}
		prev := t.Status
		t.Status = next
		detail := "from=" + string(prev) + ";to=" + string(next)
		kind := hotline.EventStatusChanged
		switch {
		case prev.Reopens(next):
			kind = hotline.EventReopened
			t.ResolvedAt = time.Time{}
			if !t.Assessed() {
				d, err := tx.CaseDeadlines(t.SchoolID)
				if err != nil {
					return err
				}
				t.AssessDue = tx.Now().Add(d.Assess.D())
			}
		case next == hotline.StatusAcknowledged && prev == hotline.StatusNew:
			kind = hotline.EventAcknowledged
		case next == hotline.StatusResolved:
			kind = hotline.EventResolved
		case next == hotline.StatusClosed:
			kind = hotline.EventClosed
		}
		if t.AcknowledgedAt.IsZero() && next != hotline.StatusNew {
			t.AcknowledgedAt = tx.Now()
		}
		// Resolved then closed keeps the time the work ended.
		if (next == hotline.StatusResolved || next == hotline.StatusClosed) && t.ResolvedAt.IsZero() {
			t.ResolvedAt = tx.Now()
		}
		if err := renew(tx, t); err != nil {
			return err
		}
		return tx.AppendEvent(event(t, actor, kind, detail))
	})
	return err
}

// SetSeverity assesses a case on the policy's scale. Severe and criminal
// cases start the district-report deadline; every severity sets the time
// the case may wait for its next action.
func (s *Service) SetSeverity(ctx context.Context, actor hotline.Actor, uid string, sev hotline.Severity) error {
	if !sev.Valid() {
		return hotline.Errorf(hotline.EINVALID, "情节等级无效。", "Invalid severity.")
	}
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, school *hotline.School) error {
		if t.Severity == sev {
			return nil
		}
		prev := t.Severity
		t.Severity = sev
		if sev.MustReportToDistrict() && t.DistrictDue.IsZero() {
			t.DistrictDue = tx.Now().Add(school.Settings.Deadlines.WithDefaults().DistrictReport.D())
		}
		// Assessing starts the severity's clock; a graver severity
		// shortens it at once.
		if err := renew(tx, t); err != nil {
			return err
		}
		return tx.AppendEvent(event(t, actor, hotline.EventSeverityChanged, "from="+string(prev)+";to="+string(sev)))
	})
	return err
}

// SetCategory recategorizes a case.
func (s *Service) SetCategory(ctx context.Context, actor hotline.Actor, uid string, c hotline.Category) error {
	if !c.Valid() {
		return hotline.Errorf(hotline.EINVALID, "类别无效。", "Invalid category.")
	}
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, _ *hotline.School) error {
		if t.Category == c {
			return nil
		}
		prev := t.Category
		t.Category = c
		return tx.AppendEvent(event(t, actor, hotline.EventCategoryChanged, "from="+string(prev)+";to="+string(c)))
	})
	return err
}

// SetUrgent sets or clears the urgent flag (danger now). Either is also
// counted as feedback on the urgency detector (see countUrgencyFeedback).
func (s *Service) SetUrgent(ctx context.Context, actor hotline.Actor, uid string, urgent bool) error {
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, school *hotline.School) error {
		if t.Urgent == urgent {
			return nil
		}
		if err := countUrgencyFeedback(tx, t, school, urgent); err != nil {
			return err
		}
		t.Urgent = urgent
		if urgent && t.AcknowledgedAt.IsZero() {
			if due := tx.Now().Add(school.Settings.Deadlines.WithDefaults().AckUrgent.D()); due.Before(t.AckDue) {
				t.AckDue = due
			}
		}
		return tx.AppendEvent(event(t, actor, hotline.EventUrgencyChanged, fmt.Sprintf("urgent=%t", urgent)))
	})
	return err
}

// Assign gives a case to a counselor of the same school (0 unassigns).
func (s *Service) Assign(ctx context.Context, actor hotline.Actor, uid string, counselorID int64) error {
	if counselorID != 0 {
		c, err := s.DB.CounselorByID(ctx, counselorID)
		if err != nil || c.SchoolID != actor.SchoolID || !c.Active {
			return hotline.Errorf(hotline.EINVALID, "找不到这位老师。", "No such counselor.")
		}
	}
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, _ *hotline.School) error {
		if t.AssigneeID == counselorID {
			return nil
		}
		t.AssigneeID = counselorID
		return tx.AppendEvent(event(t, actor, hotline.EventAssigned, fmt.Sprintf("counselor=%d", counselorID)))
	})
	return err
}

// ErrEscalateFirst refuses to tick "reported to the district" on a case
// that was never escalated: only Escalate puts a case before the district,
// and a ticked box alone would tell the ledger it had been.
var ErrEscalateFirst = hotline.Errorf(hotline.EINVALID,
	"「已上报区教育局」只能通过上报完成：请用本页的「上报区教育局」按钮上报，区教育局才能看到这个案件。",
	"\"Reported to the district\" is done only by escalating: use the \"Escalate to the district\" button on this page, so that the district sees the case.")

// ErrDistrictReportFinal refuses to untick "reported to the district": the
// report was made (the case was escalated) and cannot be taken back.
var ErrDistrictReportFinal = hotline.Errorf(hotline.EINVALID,
	"案件已经上报区教育局，上报不能撤销。", "The case has been reported to the district; that cannot be undone.")

// RecordStep marks a handling step (warning talk, police referral,
// counseling…) done or not done. The district-report step is not a box to
// tick: on a case never escalated it is refused (ErrEscalateFirst) — the
// report is Escalate — and on an escalated case that owes a follow-up
// report (续报) ticking it is that report (ReportToDistrict).
func (s *Service) RecordStep(ctx context.Context, actor hotline.Actor, uid string, step hotline.Step, done bool) error {
	if !step.Valid() {
		return hotline.Errorf(hotline.EINVALID, "处置措施无效。", "Invalid handling step.")
	}
	if step == hotline.StepDistrictReport {
		tip, err := s.visible(ctx, actor, uid)
		if err != nil {
			return err
		}
		switch {
		case tip.Steps[step] == done:
			return nil
		case !done:
			return ErrDistrictReportFinal
		case !tip.Escalated:
			return ErrEscalateFirst
		}
		return s.ReportToDistrict(ctx, actor, uid)
	}
	_, err := s.update(ctx, actor, uid, func(tx *store.Tx, t *hotline.Tip, _ *hotline.School) error {
		if t.Steps[step] == done {
			return nil
		}
		if t.Steps == nil {
			t.Steps = map[hotline.Step]bool{}
		}
		t.Steps[step] = done
		if err := renew(tx, t); err != nil {
			return err
		}
		kind := hotline.EventStepRecorded
		if done && step == hotline.StepPoliceReferral {
			kind = hotline.EventReferredPolice
		}
		return tx.AppendEvent(event(t, actor, kind, fmt.Sprintf("step=%s;done=%t", step, done)))
	})
	return err
}

// Photo opens one message's photo for a page, if the actor may see it.
func (s *Service) Photo(ctx context.Context, sess *staff.Session, messageUID string) (*hotline.Photo, error) {
	m, err := s.DB.MessageByUID(ctx, messageUID)
	if err != nil {
		return nil, err
	}
	tip, err := s.DB.TipByID(ctx, m.TipID)
	if err != nil {
		return nil, err
	}
	if err := s.mayAccess(ctx, sess.Actor(), tip); err != nil {
		return nil, err
	}
	who := thread.ReadSchool
	if sess.Counselor.Role == hotline.RoleDistrict {
		who = thread.ReadDistrict
	}
	msg, err := thread.Open(sess.Key, who, tip.SchoolID, tip.UID, m)
	if err != nil {
		return nil, err
	}
	if msg.Photo == nil {
		return nil, hotline.ErrNotFound
	}
	return msg.Photo, nil
}
