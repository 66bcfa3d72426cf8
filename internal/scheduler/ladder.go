package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"hotline/internal/alert"
	"hotline/internal/hotline"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// ladderHorizon is how old an unacknowledged urgent case may be and still
// start a ladder: an older one is long past its deadline, and the district
// was alerted of it then (a first start of this version must not page
// everyone about last month's cases).
const ladderHorizon = 24 * time.Hour

// sendConcurrency bounds the sends in flight at once.
const sendConcurrency = 8

// RunLadders drives the escalation ladders of urgent cases: it starts one
// for each new urgent case nobody acknowledged, stops those whose case was
// acknowledged, closed or is no longer urgent, pages each ladder's next
// rung when it is due and sends what the rungs owe. A rung whose every
// personal send failed, or that had nobody to page, moves the ladder on at
// once, in the same pass. Every decision is committed before any alert it
// causes goes out, so another node resumes a dead leader's work.
func (sc *Scheduler) RunLadders(ctx context.Context) error {
	if err := sc.startLadders(ctx); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if err := sc.stopLadders(ctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	dirs := &directories{sc: sc, m: map[int64]*staff.Directory{}}
	// A failed rung hurries the next one: climb and send again, at most
	// once per rung.
	for range staff.TopRung + 1 {
		if err := sc.climb(ctx, dirs); err != nil {
			return fmt.Errorf("climb: %w", err)
		}
		hurried, err := sc.sendPending(ctx, dirs)
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if hurried == 0 {
			break
		}
	}
	if err := sc.meter(ctx); err != nil {
		return fmt.Errorf("meter: %w", err)
	}
	return sc.DB.Update(ctx, func(tx *store.Tx) error {
		// Expired links say "expired" for a week, then are gone.
		_, err := tx.DeleteExpiredAlertTokens(tx.Now().Add(-7 * 24 * time.Hour))
		return err
	})
}

// directories caches the schools' directories for one pass.
type directories struct {
	sc *Scheduler
	mu sync.Mutex
	m  map[int64]*staff.Directory
}

func (d *directories) get(ctx context.Context, schoolID int64) (*staff.Directory, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if dir, ok := d.m[schoolID]; ok {
		return dir, nil
	}
	dir, err := d.sc.staff().Directory(ctx, schoolID)
	if err != nil {
		return nil, err
	}
	d.m[schoolID] = dir
	return dir, nil
}

// startLadders starts a ladder for every urgent case nobody acknowledged
// that has none running. It starts when the case became urgent: at
// intake, or when a counselor marked it (its urgent acknowledgement
// deadline less the school's window).
func (sc *Scheduler) startLadders(ctx context.Context) error {
	all, err := sc.DB.UrgentWithoutLadder(ctx)
	if err != nil {
		return err
	}
	// Cases that became urgent before the horizon start no ladder: leave
	// them out before taking the writer.
	var tips []*hotline.Tip
	now := sc.now()
	for _, t := range all {
		latest := t.CreatedAt
		if t.AckDue.After(latest) {
			latest = t.AckDue
		}
		if now.Sub(latest) <= ladderHorizon {
			tips = append(tips, t)
		}
	}
	if len(tips) == 0 {
		return nil
	}
	schools := map[int64]*hotline.School{}
	return sc.DB.Update(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		for _, t := range tips {
			school := schools[t.SchoolID]
			if school == nil {
				var err error
				if school, err = tx.SchoolByID(t.SchoolID); err != nil {
					return err
				}
				schools[t.SchoolID] = school
			}
			start := t.CreatedAt
			if !t.AckDue.IsZero() {
				if s := t.AckDue.Add(-school.Settings.Deadlines.WithDefaults().AckUrgent.D()); s.After(start) {
					start = s
				}
			}
			if start.After(now) {
				start = now
			}
			if now.Sub(start) > ladderHorizon {
				continue
			}
			if _, err := tx.StartLadder(t.ID, t.SchoolID, start); err != nil {
				return err
			}
		}
		return nil
	})
}

// stopLadders stops open ladders whose case was acknowledged, closed or
// unmarked urgent by a path that did not stop it itself, and ends those
// that reached the top more than ladderHorizon ago: the case is long past
// its deadline, which has alerted the school and the district.
func (sc *Scheduler) stopLadders(ctx context.Context) error {
	open, err := sc.DB.OpenLadders(ctx)
	if err != nil || len(open) == 0 {
		return err
	}
	return sc.DB.Update(ctx, func(tx *store.Tx) error {
		for _, l := range open {
			t, err := tx.TipByID(l.TipID)
			if err != nil {
				return err
			}
			switch {
			case !t.AcknowledgedAt.IsZero():
				err = tx.StopLadder(t.ID, store.LadderAcknowledged, 0)
			case !t.Urgent || t.Status != hotline.StatusNew:
				err = tx.StopLadder(t.ID, store.LadderEnded, 0)
			case l.State == store.LadderTop && tx.Now().Sub(l.StartedAt) > ladderHorizon:
				err = tx.StopLadder(t.ID, store.LadderEnded, 0)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// climb pages the next rung of every ladder that is due: it records, in
// one transaction per ladder, a pending send per target of each person
// and group of the rung, the rung's ledger event and when the next rung
// is due. A rung with nobody who has a channel is recorded as such and the
// ladder goes on to the next in the same transaction.
func (sc *Scheduler) climb(ctx context.Context, dirs *directories) error {
	due, err := sc.DB.LaddersDue(ctx, sc.now())
	if err != nil {
		return err
	}
	for _, l := range due {
		dir, err := dirs.get(ctx, l.SchoolID)
		if err != nil {
			return err
		}
		minutes, err := sc.staff().LadderMinutes(ctx, dir.School.District)
		if err != nil {
			return err
		}
		err = sc.DB.Update(ctx, func(tx *store.Tx) error {
			now := tx.Now()
			cur, err := tx.LadderByTip(l.TipID)
			if err != nil {
				return err
			}
			if cur.State != store.LadderClimbing || cur.NextAt.After(now) || cur.Rung != l.Rung {
				return nil // another pass, or an acknowledgement, came first
			}
			t, err := tx.TipByID(l.TipID)
			if err != nil {
				return err
			}
			if !t.AcknowledgedAt.IsZero() {
				return tx.StopLadder(t.ID, store.LadderAcknowledged, 0)
			}
			if !t.Urgent || t.Status != hotline.StatusNew {
				return tx.StopLadder(t.ID, store.LadderEnded, 0)
			}
			rung := cur.Rung
			for rung < staff.TopRung {
				rung++
				reached, err := sc.recordRung(tx, dir, t, rung, now)
				if err != nil {
					return err
				}
				if reached {
					break
				}
			}
			next := now.Add(time.Duration(minutes) * time.Minute)
			if rung >= staff.TopRung {
				next = time.Time{}
			}
			return tx.ClimbLadder(t.ID, rung, next)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// recordRung records the sends of one rung and its ledger event; it
// returns whether the rung has a person with a channel to try (groups do
// not count: a group may be muted at night).
func (sc *Scheduler) recordRung(tx *store.Tx, dir *staff.Directory, t *hotline.Tip, rung int, now time.Time) (bool, error) {
	r := dir.Rung(rung, now)
	tried := false
	add := func(s *store.AlertSend) error {
		s.SchoolID, s.TipID, s.Rung = t.SchoolID, t.ID, rung
		return tx.AddAlertSend(s)
	}
	for _, p := range r.People {
		if len(p.Targets) == 0 {
			if err := add(&store.AlertSend{CounselorID: p.ID, State: store.SendNobody, Reason: "没有可用的提醒方式 / no alert channel linked"}); err != nil {
				return false, err
			}
			continue
		}
		for _, tg := range p.Targets {
			if err := add(&store.AlertSend{CounselorID: p.ID, TargetID: tg.ID, Kind: tg.Kind, State: store.SendPending}); err != nil {
				return false, err
			}
			tried = true
		}
	}
	if len(r.People) == 0 {
		reason := "这一级没有人：值班表此时无人 / nobody at this rung at this hour"
		switch rung {
		case staff.RungHead:
			reason = "没有指定校长/德育主任 / no head is named"
		case staff.RungDistrict:
			reason = "区教育局没有指定值班人员 / the district named no duty officer"
		case staff.RungSchool:
			reason = "学校没有在职的辅导老师 / the school has no active counselor"
		}
		if err := add(&store.AlertSend{State: store.SendNobody, Reason: reason}); err != nil {
			return false, err
		}
	}
	for _, g := range r.Groups {
		if err := add(&store.AlertSend{TargetID: g.ID, Kind: g.Kind, State: store.SendPending}); err != nil {
			return false, err
		}
	}
	ev := systemEvent(t, hotline.EventPaged, "rung="+strconv.Itoa(rung))
	return tried, tx.AppendEvent(ev)
}

// job is one pending send with what sending it needs.
type job struct {
	send   *store.AlertSend
	tip    *hotline.Tip
	dir    *staff.Directory
	person *store.CounselorRecord // nil for a group
	target *store.AlertTarget
	token  string // the person's one-time link, minted before sending
	o      outcome
}

// sendPending sends every pending ladder send: it mints each person's
// one-time link and commits it before anything goes out, sends at most
// sendConcurrency at once, and records every outcome on its send and its
// target. It returns how many ladders it hurried: a rung none of whose
// personal sends a vendor accepted moves on at once.
func (sc *Scheduler) sendPending(ctx context.Context, dirs *directories) (int, error) {
	pending, err := sc.DB.PendingSends(ctx, 500)
	if err != nil || len(pending) == 0 {
		return 0, err
	}
	tips := map[int64]*hotline.Tip{}
	var jobs []*job
	var gone []*store.AlertSend // the case or the target is gone: nothing to send
	for _, s := range pending {
		tip := tips[s.TipID]
		if tip == nil {
			if tip, err = sc.DB.TipByID(ctx, s.TipID); err != nil {
				return 0, err
			}
			tips[s.TipID] = tip
		}
		dir, err := dirs.get(ctx, s.SchoolID)
		if err != nil {
			return 0, err
		}
		j := &job{send: s, tip: tip, dir: dir}
		if s.CounselorID != 0 {
			j.person = dir.Person(s.CounselorID)
		}
		if j.target, err = sc.DB.AlertTargetByID(ctx, s.TargetID); err != nil || (s.CounselorID != 0 && j.person == nil) {
			gone = append(gone, s)
			continue
		}
		jobs = append(jobs, j)
	}
	// The links go into the database before any alert carries them.
	err = sc.DB.Update(ctx, func(tx *store.Tx) error {
		for _, j := range jobs {
			j.token = ""
			if j.person == nil || alert.Kind(j.target.Kind).Group() {
				continue // a group gets the case behind the log-in
			}
			tok := &store.AlertToken{Purpose: store.TokenAck, CounselorID: j.person.ID, TargetID: j.target.ID, TipID: j.tip.ID, SchoolID: j.tip.SchoolID,
				ExpiresAt: tx.Now().Add(staff.AckLinkTTL)}
			var err error
			if j.token, _, err = staff.NewAlertToken(tx, sc.Vault, tok, false); err != nil {
				return err
			}
		}
		for _, s := range gone {
			if _, err := tx.FinishSend(s.ID, store.SendRefused, "", reasonNoAddress); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}

	sem := make(chan struct{}, sendConcurrency)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			to, err := sc.staff().OpenTarget(j.target, j.person)
			if err != nil {
				j.o = outcome{result: ResultRefused, reason: reasonNoAddress}
				return
			}
			j.o = sc.deliver(ctx, to, sc.ladderMessage(j))
		}()
	}
	wg.Wait()

	type rungKey struct {
		tip  int64
		rung int
	}
	touched := map[rungKey]bool{}
	for _, s := range gone {
		touched[rungKey{s.TipID, s.Rung}] = true
	}
	hurried := 0
	err = sc.DB.Update(ctx, func(tx *store.Tx) error {
		hurried = 0
		for _, j := range jobs {
			touched[rungKey{j.tip.ID, j.send.Rung}] = true
			if _, err := tx.FinishSend(j.send.ID, sendState(j.o), j.o.code, j.o.reason); err != nil {
				return err
			}
			if err := sc.markTarget(tx, j.target.ID, j.o); err != nil {
				return err
			}
			if j.o.ok() {
				if first, err := tx.LadderFirstSent(j.tip.ID); err != nil {
					return err
				} else if first {
					l, err := tx.LadderByTip(j.tip.ID)
					if err != nil {
						return err
					}
					d := tx.Now().Sub(l.StartedAt)
					tx.AfterCommit(func() { sc.alerts.observeFirst(d) })
				}
			}
		}
		for k := range touched {
			pending, sent, err := tx.RungOutcome(k.tip, k.rung)
			if err != nil {
				return err
			}
			if pending == 0 && sent == 0 {
				// Nobody of this rung was reached: the next rung now,
				// not after the rung's minutes.
				if ok, err := tx.HurryLadder(k.tip, k.rung); err != nil {
					return err
				} else if ok {
					hurried++
				}
			}
		}
		return nil
	})
	return hurried, err
}

// ladderMessage composes a ladder alert: the alias, the school, the rung,
// and a person's one-time "I'm on it" link, or for a group the case behind
// the log-in (anyone in a group could press a one-time link).
func (sc *Scheduler) ladderMessage(j *job) alert.Message {
	school := j.dir.School
	reason := ReasonUrgent
	if j.send.Rung > staff.RungFirst {
		reason = ReasonUrgentUnacked
	}
	link, personal := "", j.token != ""
	if sc.BaseURL != "" {
		switch {
		case personal:
			link = sc.BaseURL + "/inbox/ack/" + j.token
		case j.person != nil && j.person.SchoolID == 0, j.target.Owner == store.OwnerDistrict:
			link = sc.BaseURL + "/district/"
		default:
			link = sc.BaseURL + "/inbox/tips/" + j.tip.UID
		}
	}
	return alert.Message{Reason: reason, School: school.Name, SchoolEN: school.DisplayName(hotline.LangEN),
		AliasZH: j.tip.Alias.ZH, AliasEN: j.tip.Alias.EN, Text: LadderText(j.tip.Alias, school, j.send.Rung, link, personal),
		Link: link, Urgent: true, Rung: j.send.Rung, ID: "send-" + strconv.FormatInt(j.send.ID, 10)}
}

// LadderText is the text of a ladder alert, zh first: the alias, the
// school, the rung and the link, nothing else.
func LadderText(alias hotline.Alias, school *hotline.School, rung int, link string, personal bool) string {
	zhName, enName := school.Name, school.DisplayName(hotline.LangEN)
	rl := staff.RungLabel(rung)
	var zh, en string
	switch {
	case rung <= staff.RungFirst:
		zh = fmt.Sprintf("紧急报告「%s」— %s — 请立即处理", alias.ZH, zhName)
		en = fmt.Sprintf("Urgent report %s at %s — act now", alias.EN, enName)
	case rung == staff.RungDistrict:
		zh = fmt.Sprintf("紧急报告「%s」— %s — 学校逐级提醒后仍无人受理，请立即联系学校（第 %d 级：%s）", alias.ZH, zhName, rung, rl.ZH)
		en = fmt.Sprintf("Urgent report %s at %s — still not acknowledged by the school after every rung; call the school now (rung %d: %s)", alias.EN, enName, rung, rl.EN)
	default:
		zh = fmt.Sprintf("紧急报告「%s」仍无人受理 — %s — 请立即处理（第 %d 级：%s）", alias.ZH, zhName, rung, rl.ZH)
		en = fmt.Sprintf("Urgent report %s at %s is still not acknowledged — act now (rung %d: %s)", alias.EN, enName, rung, rl.EN)
	}
	text := zh + "\n" + en
	switch {
	case link == "":
	case personal:
		text += "\n我来处理 / I'm on it: " + link + "\n阅读报告内容需登录收件箱 / log in to read the report"
	default:
		text += "\n登录查看 / log in to see it: " + link
	}
	return text
}

// meter counts the time to acknowledgement of ladders that stopped with
// one, once each (the ladder row records that it was counted).
func (sc *Scheduler) meter(ctx context.Context) error {
	ls, err := sc.DB.UnmeteredLadders(ctx)
	if err != nil || len(ls) == 0 {
		return err
	}
	return sc.DB.Update(ctx, func(tx *store.Tx) error {
		for _, l := range ls {
			ok, err := tx.MarkLadderMetered(l.TipID)
			if err != nil {
				return err
			}
			if ok && !l.AckedAt.IsZero() {
				d := l.AckedAt.Sub(l.StartedAt)
				tx.AfterCommit(func() { sc.alerts.observeAck(d) })
			}
		}
		return nil
	})
}

// untilNextRung returns how long until the earliest ladder's next rung is
// due, at most max.
func (sc *Scheduler) untilNextRung(ctx context.Context, max time.Duration) time.Duration {
	open, err := sc.DB.OpenLadders(ctx)
	if err != nil {
		return max
	}
	now := sc.now()
	d := max
	for _, l := range open {
		if l.State != store.LadderClimbing {
			continue
		}
		if w := l.NextAt.Sub(now); w < d {
			d = w
		}
	}
	return maxDur(d, 50*time.Millisecond)
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
