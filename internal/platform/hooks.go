package platform

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/store"
)

// Hooks write the platform's outbox inside the transactions that append
// ledger events and record heads (store.LedgerHooks), so that an event and
// its webhooks commit together or not at all.
type Hooks struct {
	// Wake, if set, runs after a transaction that queued something has
	// committed: the worker of this node sends at once (other nodes' poll).
	Wake func()
}

// Store returns the hooks for store.DB.SetLedgerHooks.
func (h *Hooks) Store() store.LedgerHooks {
	return store.LedgerHooks{Event: h.onEvent, Head: h.onHead}
}

// robotKinds are the group robots that get the daily head.
var robotKinds = []string{string(alert.WeComRobot), string(alert.DingTalk), string(alert.Feishu)}

func ledgerOf(seq int64, hash []byte) *Ledger {
	return &Ledger{Seq: seq, Hash: hex.EncodeToString(hash), Short: ledger.Short(hash)}
}

// eventKind maps a ledger event to a webhook kind ("" when the platform
// does not hear of it).
func eventKind(k hotline.EventKind) string {
	switch k {
	case hotline.EventReceived:
		return KindCaseOpened
	case hotline.EventDeadlineMissed:
		return KindDeadlineMissed
	case hotline.EventEscalated:
		return KindEscalated
	case hotline.EventClosed, hotline.EventResolved:
		return KindClosed
	}
	return ""
}

// onEvent queues the webhooks of a case event for every endpoint of the
// case's district. A district without endpoints costs one indexed read.
func (h *Hooks) onEvent(tx *store.Tx, ev *hotline.Event) error {
	kind := eventKind(ev.Kind)
	if kind == "" || ev.TipID == 0 {
		return nil
	}
	eps, err := tx.EndpointsOfSchool(ev.SchoolID)
	if err != nil || len(eps) == 0 {
		return err
	}
	school, err := tx.SchoolByID(ev.SchoolID)
	if err != nil {
		return err
	}
	tip, err := tx.TipByID(ev.TipID)
	if err != nil {
		return err
	}
	// The tip row is written after its event in a case action: what
	// the event changes is read from its detail.
	c := &Case{ID: tip.UID, Alias: tip.Alias.ZH, AliasEN: tip.Alias.EN, Channel: string(tip.Channel), Severity: string(tip.Severity),
		Category: string(tip.Category), Urgent: tip.Urgent, Status: string(tip.Status), Escalated: tip.Escalated, ReceivedAt: tip.CreatedAt.UTC()}
	p := &Payload{ID: fmt.Sprintf("evt-%d", ev.Seq), Event: kind, At: ev.At.UTC(), District: school.District,
		School: &School{Code: school.Code, Name: school.Name, NameEN: school.Settings.NameEN}, Case: c, Ledger: ledgerOf(ev.Seq, ev.Hash)}
	switch kind {
	case KindCaseOpened:
		c.Status = string(hotline.StatusNew)
	case KindDeadlineMissed:
		dk := hotline.DeadlineKind(detail(ev.Detail, "deadline"))
		p.Deadline = &Deadline{Kind: string(dk), Label: words(dk.Label())}
		due, err := tx.MissedDue(tip.ID, string(dk))
		if err != nil {
			return err
		}
		if !due.IsZero() {
			d := due.UTC()
			p.Deadline.Due = &d
		}
	case KindEscalated:
		c.Escalated = true
		if sv := detail(ev.Detail, "severity"); sv != "" {
			c.Severity = sv
		}
	case KindClosed:
		c.Status = detail(ev.Detail, "to")
		if c.Status == "" {
			c.Status = string(hotline.StatusClosed)
			if ev.Kind == hotline.EventResolved {
				c.Status = string(hotline.StatusResolved)
			}
		}
	}
	return h.queue(tx, p, eps)
}

// onHead queues a new head for every endpoint of every district (the
// ledger is one chain for the server), and a day's head also for every
// district's group robots and officers' e-mail.
func (h *Hooks) onHead(tx *store.Tx, head *store.LedgerHead, daily bool) error {
	eps, err := tx.WebhookEndpointsTx("")
	if err != nil {
		return err
	}
	at := time.UnixMicro(head.RecordedAt).UTC()
	p := &Payload{ID: fmt.Sprintf("head-%d", head.Seq), Event: KindLedgerHead, At: at, Head: &Head{Kind: "checkpoint", RecordedAt: at},
		Ledger: ledgerOf(head.Seq, head.Hash)}
	if daily {
		p.ID = "daily-" + head.Day
		p.Head.Kind, p.Head.Day = "daily", head.Day
	}
	byDistrict := map[string][]*store.WebhookEndpoint{}
	for _, e := range eps {
		byDistrict[e.District] = append(byDistrict[e.District], e)
	}
	for d, es := range byDistrict {
		q := *p
		q.District = d
		if err := h.queue(tx, &q, es); err != nil {
			return err
		}
	}
	if !daily {
		return nil
	}
	targets, err := tx.NoticeTargets(robotKinds)
	if err != nil {
		return err
	}
	notice := DailyNotice{Day: head.Day, Seq: head.Seq, Hash: hex.EncodeToString(head.Hash), Short: ledger.Short(head.Hash)}
	body, err := json.Marshal(notice)
	if err != nil {
		return err
	}
	queued := false
	for _, t := range targets {
		ok, err := tx.EnqueueWebhook(&store.WebhookOut{EventID: p.ID, TargetID: t.TargetID, District: t.District, Kind: kindDailyNotice, Payload: string(body)})
		if err != nil {
			return err
		}
		queued = queued || ok
	}
	if queued && h.Wake != nil {
		tx.AfterCommit(h.Wake)
	}
	return nil
}

// queue writes p for each endpoint.
func (h *Hooks) queue(tx *store.Tx, p *Payload, eps []*store.WebhookEndpoint) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	queued := false
	for _, e := range eps {
		ok, err := tx.EnqueueWebhook(&store.WebhookOut{EventID: p.ID, EndpointID: e.ID, District: e.District, Kind: p.Event, Payload: string(body)})
		if err != nil {
			return err
		}
		queued = queued || ok
	}
	if queued && h.Wake != nil {
		tx.AfterCommit(h.Wake)
	}
	return nil
}

// DailyNotice is a day's ledger head as the district's robots and
// officers' e-mail get it.
type DailyNotice struct {
	Day   string `json:"day"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	Short string `json:"short"`
}

// Text is the notice's message, zh first: content-free, a head to write in
// the register.
func (n DailyNotice) Text(link string) string {
	t := fmt.Sprintf("台账每日校验值 %s：第 %d 条，简写 %s\n请抄入登记簿，或保存本消息。完整校验值：%s\nDaily ledger head %s: event %d, short form %s\nWrite it in the register, or keep this message. Full hash: %s",
		n.Day, n.Seq, n.Short, n.Hash, n.Day, n.Seq, n.Short, n.Hash)
	if link != "" {
		t += "\n" + link
	}
	return t
}

// detail returns the value of key in a ledger detail ("k=v;k=v").
func detail(d, key string) string {
	for _, part := range strings.Split(d, ";") {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return v
		}
	}
	return ""
}
