package scheduler

import (
	"context"
	"fmt"
	"strings"

	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// Alerter sends a staff member a short alert in their linked Telegram chat.
// The bot implements it. Alert texts never hold content: an alias, a school
// and what to do.
type Alerter interface {
	SendAlert(ctx context.Context, chatID int64, text string) error
}

// Mailer sends a staff member an alert by e-mail; internal/mail
// implements it over SMTP.
type Mailer interface {
	SendMail(ctx context.Context, to, subject, body string) error
}

// Audiences of an alert.
const (
	AudienceOnCall   = "oncall"   // the school's on-call rota, else every counselor of the school
	AudienceSchool   = "school"   // every counselor of the school
	AudienceDistrict = "district" // the officers of the school's district
)

// Reasons of an alert.
const (
	ReasonUrgent         = "urgent"         // a new urgent tip
	ReasonUrgentUnacked  = "urgent_unacked" // nobody acknowledged it within half its deadline
	ReasonUrgentOverdue  = "urgent_overdue" // nobody acknowledged it within its deadline (the hour)
	ReasonDeadlinePrefix = "deadline="      // followed by the deadline kind
)

// AlertText composes an alert from metadata only: the alias, the school,
// why, and where to look. It is the only text an alert ever carries.
func AlertText(alias hotline.Alias, school *hotline.School, reason, link string) string {
	zhName, enName := school.Name, school.DisplayName(hotline.LangEN)
	var zh, en string
	switch {
	case reason == ReasonUrgent:
		zh = fmt.Sprintf("紧急报告「%s」— %s — 请打开收件箱", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s — open the inbox", alias.EN, enName)
	case reason == ReasonUrgentUnacked:
		zh = fmt.Sprintf("紧急报告「%s」仍无人受理 — %s — 请立即打开收件箱", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s is still not acknowledged — open the inbox now", alias.EN, enName)
	case reason == ReasonUrgentOverdue:
		zh = fmt.Sprintf("紧急报告「%s」超过 1 小时无人受理 — %s — 请跟进", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s was not acknowledged in time — please follow up", alias.EN, enName)
	case strings.HasPrefix(reason, ReasonDeadlinePrefix):
		kind := DeadlineKind(strings.TrimPrefix(reason, ReasonDeadlinePrefix))
		l := kind.Label()
		zh = fmt.Sprintf("报告「%s」超过处理时限（%s）— %s — 请跟进", alias.ZH, l.ZH, zhName)
		en = fmt.Sprintf("Report %s at %s missed its deadline (%s) — please follow up", alias.EN, enName, l.EN)
	default:
		zh = fmt.Sprintf("报告「%s」需要处理 — %s", alias.ZH, zhName)
		en = fmt.Sprintf("Report %s at %s needs attention", alias.EN, enName)
	}
	text := zh + "\n" + en
	if link != "" {
		text += "\n" + link
	}
	return text
}

// alertRecipients returns the active staff an alert goes to.
func (sc *Scheduler) alertRecipients(ctx context.Context, a *store.Alert, school *hotline.School) ([]*store.CounselorRecord, error) {
	db := sc.DB
	if a.Audience == AudienceDistrict {
		officers, err := db.Counselors(ctx, 0, school.District)
		if err != nil || school.District == "" {
			return nil, err
		}
		return activeOnly(officers, nil), nil
	}
	staff, err := db.Counselors(ctx, school.ID, "")
	if err != nil {
		return nil, err
	}
	if a.Audience == AudienceOnCall {
		if onCall := activeOnly(staff, func(c *store.CounselorRecord) bool { return c.OnCall }); len(onCall) > 0 {
			return onCall, nil
		}
	}
	return activeOnly(staff, nil), nil
}

func activeOnly(cs []*store.CounselorRecord, keep func(*store.CounselorRecord) bool) []*store.CounselorRecord {
	var out []*store.CounselorRecord
	for _, c := range cs {
		if c.Active && (keep == nil || keep(c)) {
			out = append(out, c)
		}
	}
	return out
}

// maxAlertAttempts bounds retries of an alert nobody could be reached for.
const maxAlertAttempts = 5

// SendAlerts delivers the pending alerts over each recipient's linked
// channels. An alert counts as sent when every channel it tried worked
// (or there was nothing to try); otherwise it is retried on the next pass.
// Logs name the alert and the error, never a chat id or address.
func (sc *Scheduler) SendAlerts(ctx context.Context) (int, error) {
	db := sc.DB
	pending, err := db.PendingAlerts(ctx, maxAlertAttempts, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, a := range pending {
		ok, err := sc.sendAlert(ctx, a)
		if err != nil {
			sc.logger().Warn("alert not delivered", "alert", a.ID, "reason", a.Reason, "err", err)
		}
		if ok {
			sent++
		}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.FinishAlert(a.ID, ok) }); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (sc *Scheduler) sendAlert(ctx context.Context, a *store.Alert) (bool, error) {
	db, v := sc.DB, sc.Vault
	tip, err := db.TipByID(ctx, a.TipID)
	if err != nil {
		return false, err
	}
	school, err := db.SchoolByID(ctx, a.SchoolID)
	if err != nil {
		return false, err
	}
	to, err := sc.alertRecipients(ctx, a, school)
	if err != nil {
		return false, err
	}
	link := ""
	if sc.BaseURL != "" {
		link = sc.BaseURL + "/inbox/"
		if a.Audience == AudienceDistrict {
			link = sc.BaseURL + "/district/"
		}
	}
	text := AlertText(tip.Alias, school, a.Reason, link)
	subject := "Hotline 提醒 / alert: " + tip.Alias.ZH + " / " + tip.Alias.EN
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	for _, c := range to {
		if c.TelegramSealed != nil && sc.Telegram != nil {
			if chatID, err := v.OpenStaffChat(c.ID, c.TelegramSealed); err != nil {
				fail(fmt.Errorf("open staff chat: %w", err))
			} else if err := sc.Telegram.SendAlert(ctx, chatID, text); err != nil {
				fail(fmt.Errorf("telegram: %w", err))
			}
		}
		if c.EmailSealed != nil && sc.Mail != nil {
			if addr, err := staff.OpenAlertEmail(v, c.ID, c.EmailSealed); err != nil {
				fail(fmt.Errorf("open staff address: %w", err))
			} else if err := sc.Mail.SendMail(ctx, string(addr), subject, text); err != nil {
				fail(fmt.Errorf("e-mail: %w", err))
			}
		}
	}
	return firstErr == nil, firstErr
}
