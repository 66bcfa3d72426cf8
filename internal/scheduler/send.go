package scheduler

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// Results of a send, as metrics count them.
const (
	ResultSent         = "sent"         // the vendor accepted it
	ResultFailed       = "failed"       // a failure that may pass (network, server, rate limit)
	ResultRefused      = "refused"      // a permanent refusal: bad key, refused number, unknown robot
	ResultUnconfigured = "unconfigured" // this server has no account for the channel
)

// outcome is how one send went, with what may be shown and stored: the
// vendor's code and a safe reason, never an address, a key or a number.
type outcome struct {
	result string
	code   string
	reason string
}

func (o outcome) ok() bool { return o.result == ResultSent }

// Reasons of failures that are not the vendor's own.
const (
	reasonUnconfigured = "服务器没有配置这个提醒渠道 / this server has no account for this channel"
	reasonOther        = "发送失败 / sending failed"
	reasonNoAddress    = "地址无法打开或已删除 / the address could not be opened or was removed"
)

// deliver sends m to one target over its channel and says how it went.
func (sc *Scheduler) deliver(ctx context.Context, to alert.Target, m alert.Message) outcome {
	ch := sc.Channels[to.Kind]
	if ch == nil {
		o := outcome{result: ResultUnconfigured, reason: reasonUnconfigured}
		sc.alerts.count(to.Kind, o.result)
		return o
	}
	timeout := sc.SendTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := ch.Send(ctx, to, m)
	o := outcome{result: ResultSent}
	if ae := alert.AsError(to.Kind, err); ae != nil {
		// AsError keeps a channel's own *alert.Error and reduces anything
		// else to a category: an HTTP client's error text holds the URL,
		// and a robot's URL holds its key.
		o = outcome{result: ResultFailed, code: ae.Code, reason: ae.Reason}
		if ae.Permanent {
			o.result = ResultRefused
		}
		if o.reason == "" {
			o.reason = reasonOther
		}
	}
	sc.alerts.count(to.Kind, o.result)
	if !o.ok() {
		sc.logger().Warn("alert not delivered", "kind", string(to.Kind), "result", o.result, "code", o.code)
	}
	return o
}

// ---- counters ----

// histBuckets are the upper bounds, in seconds, of the latency histograms:
// from a report to its first alert (goal: within 30 s) and to its
// acknowledgement (deadline: an hour).
var histBuckets = []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 900, 1800, 3600, 7200}

// Histogram is a cumulative histogram of seconds, as Prometheus has them.
type Histogram struct {
	Count   uint64
	Sum     float64
	Buckets map[float64]uint64 // upper bound → observations at or below it
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	count  uint64
	sum    float64
}

func (h *histogram) observe(s float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(histBuckets)+1)
	}
	i := sort.SearchFloat64s(histBuckets, s)
	h.counts[i]++
	h.count++
	h.sum += s
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Count: h.count, Sum: h.sum, Buckets: map[float64]uint64{}}
	var cum uint64
	for i, b := range histBuckets {
		if h.counts != nil {
			cum += h.counts[i]
		}
		out.Buckets[b] = cum
	}
	return out
}

// alertCounters are the running counts behind AlertStats.
type alertCounters struct {
	mu       sync.Mutex
	byKind   map[alert.Kind]map[string]int64
	firstHit histogram
	ackHist  histogram
}

func (c *alertCounters) count(k alert.Kind, result string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKind == nil {
		c.byKind = map[alert.Kind]map[string]int64{}
	}
	if c.byKind[k] == nil {
		c.byKind[k] = map[string]int64{}
	}
	c.byKind[k][result]++
}

func (c *alertCounters) observeFirst(d time.Duration) {
	c.mu.Lock()
	c.firstHit.observe(max(0, d.Seconds()))
	c.mu.Unlock()
}

func (c *alertCounters) observeAck(d time.Duration) {
	c.mu.Lock()
	c.ackHist.observe(max(0, d.Seconds()))
	c.mu.Unlock()
}

// AlertStats is what operations may see of alerting: sends by channel kind
// and result, and how long urgent reports waited for their first alert
// and for an acknowledgement. No school, no case, no content.
type AlertStats struct {
	Sends      map[alert.Kind]map[string]int64
	FirstAlert Histogram // from an urgent report to its first alert a vendor accepted
	Ack        Histogram // from an urgent report to its acknowledgement
}

// AlertStats returns the counts since the scheduler started (on this node:
// the leader sends; any node's test sends count where they ran).
func (sc *Scheduler) AlertStats() AlertStats {
	c := &sc.alerts
	c.mu.Lock()
	defer c.mu.Unlock()
	out := AlertStats{Sends: map[alert.Kind]map[string]int64{}, FirstAlert: c.firstHit.snapshot(), Ack: c.ackHist.snapshot()}
	for k, m := range c.byKind {
		out.Sends[k] = map[string]int64{}
		for r, n := range m {
			out.Sends[k][r] = n
		}
	}
	return out
}

// ---- deadline alerts ----

// maxAlertAttempts bounds retries of a deadline alert that failed for a
// reason that may pass.
const maxAlertAttempts = 5

// SendAlerts delivers the pending deadline alerts (a missed deadline, an
// urgent case unacknowledged past its hour) to their audience's staff over
// every channel each linked, phone calls aside. Every attempt is recorded
// (alert_sends); a retry skips the targets already reached, and an alert is
// done when nothing is left that a retry could fix.
func (sc *Scheduler) SendAlerts(ctx context.Context) (int, error) {
	db := sc.DB
	pending, err := db.PendingAlerts(ctx, maxAlertAttempts, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, a := range pending {
		done, err := sc.sendAlert(ctx, a)
		if err != nil {
			sc.logger().Warn("alert not delivered", "alert", a.ID, "reason", a.Reason, "err", err)
		}
		if done {
			sent++
		}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.FinishAlert(a.ID, done) }); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// alertRecipients returns the staff a deadline alert goes to.
func alertRecipients(d *staff.Directory, audience string) []*store.CounselorRecord {
	if audience == AudienceDistrict {
		return d.Officers()
	}
	return d.Counselors()
}

func (sc *Scheduler) sendAlert(ctx context.Context, a *store.Alert) (done bool, err error) {
	db := sc.DB
	tip, err := db.TipByID(ctx, a.TipID)
	if err != nil {
		return false, err
	}
	dir, err := sc.staff().Directory(ctx, a.SchoolID)
	if err != nil {
		return false, err
	}
	prev, err := db.SendsOfAlert(ctx, a.ID)
	if err != nil {
		return false, err
	}
	reached := map[int64]bool{} // targets sent to, or refused for good
	for _, s := range prev {
		if s.State == store.SendSent || s.State == store.SendRefused {
			reached[s.TargetID] = true
		}
	}
	link := ""
	if sc.BaseURL != "" {
		link = sc.BaseURL + "/inbox/tips/" + tip.UID
		if a.Audience == AudienceDistrict {
			link = sc.BaseURL + "/district/"
		}
	}
	m := alert.Message{Reason: a.Reason, School: dir.School.Name, SchoolEN: dir.School.DisplayName(hotline.LangEN), AliasZH: tip.Alias.ZH, AliasEN: tip.Alias.EN,
		Text: AlertText(tip.Alias, dir.School, a.Reason, link), Link: link, Urgent: a.Reason == ReasonUrgentOverdue}
	type result struct {
		send *store.AlertSend
		o    outcome
	}
	var results []result
	retry := false
	for _, c := range alertRecipients(dir, a.Audience) {
		for _, t := range dir.Targets(c.ID) {
			if reached[t.ID] || staff.IsVoice(alert.Kind(t.Kind)) {
				continue
			}
			s := &store.AlertSend{SchoolID: a.SchoolID, TipID: a.TipID, AlertID: a.ID, CounselorID: c.ID, TargetID: t.ID, Kind: t.Kind}
			to, err := sc.staff().OpenTarget(t, c)
			var o outcome
			if err != nil {
				o = outcome{result: ResultRefused, reason: reasonNoAddress}
			} else {
				m.ID = fmt.Sprintf("alert-%d-%d", a.ID, t.ID) // the same on every retry
				o = sc.deliver(ctx, to, m)
			}
			if o.result == ResultFailed {
				retry = true
			}
			results = append(results, result{s, o})
		}
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		for _, r := range results {
			r.send.State, r.send.Code, r.send.Reason = sendState(r.o), r.o.code, r.o.reason
			if err := tx.AddAlertSend(r.send); err != nil {
				return err
			}
			if err := sc.markTarget(tx, r.send.TargetID, r.o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if retry {
		return false, fmt.Errorf("%d sends to retry", countFailed(results, func(r result) bool { return r.o.result == ResultFailed }))
	}
	return true, nil
}

// sendState is the stored state of a send's outcome.
func sendState(o outcome) string {
	switch o.result {
	case ResultSent:
		return store.SendSent
	case ResultFailed:
		return store.SendFailed
	}
	return store.SendRefused
}

func countFailed[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

// markTarget records on the target how its send went: a failure with its
// reason (shown to the school admin and the district), or a success that
// clears an earlier failure.
func (sc *Scheduler) markTarget(tx *store.Tx, targetID int64, o outcome) error {
	if targetID == 0 {
		return nil
	}
	if o.ok() {
		return tx.MarkTargetSent(targetID)
	}
	return tx.MarkTargetFailed(targetID, o.code, o.reason)
}
