package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
)

type eventRow struct {
	Seq      int64  `db:"seq"`
	SchoolID int64  `db:"school_id"`
	TipID    int64  `db:"tip_id"`
	Alias    string `db:"alias"`
	Kind     string `db:"kind"`
	Detail   string `db:"detail"`
	ActorID  int64  `db:"actor_id"`
	At       int64  `db:"at"`
	Salt     []byte `db:"salt"`
	PrevHash []byte `db:"prev_hash"`
	Hash     []byte `db:"hash"`
}

func (r *eventRow) event() *hotline.Event {
	return &hotline.Event{Seq: r.Seq, SchoolID: r.SchoolID, TipID: r.TipID, Alias: r.Alias, Kind: hotline.EventKind(r.Kind),
		Detail: r.Detail, ActorID: r.ActorID, At: fromMicros(r.At), Salt: r.Salt, PrevHash: r.PrevHash, Hash: r.Hash}
}

const eventColumns = `seq, school_id, tip_id, alias, kind, detail, actor_id, at, salt, prev_hash, hash`

// HeadEvery is how often, in events, AppendEvent records a ledger head
// (a checkpoint) in the appending transaction itself.
const HeadEvery = 100

// HeadInterval is how old the newest checkpoint may grow while events are
// added before the scheduler records one (RecordCheckpoint).
const HeadInterval = 10 * time.Minute

// AppendEvent appends a case event to the ledger in this transaction, so
// the event and the change it records commit together or not at all. Every
// HeadEvery-th event is also recorded as a checkpoint, in the same
// transaction: cheap, and no caller can skip it.
func (tx *Tx) AppendEvent(ev *hotline.Event) error {
	if !tx.db.head.valid {
		// The head row, not the newest event: a tail deleted behind the
		// store's back leaves a gap the next event shows.
		var h eventRow
		if err := tx.GetContext(tx.c(), &h, `SELECT seq, hash FROM ledger_head WHERE id = 1`); err != nil {
			return fmt.Errorf("ledger head: %w", err)
		}
		tx.db.head = ledgerHead{valid: true, seq: h.Seq, hash: h.Hash}
	}
	ev.Seq = tx.db.head.seq + 1
	ev.At = tx.now
	ev.Salt = ledger.NewSalt() // every new event is version 2
	ledger.Seal(tx.db.head.hash, ev)
	// Sent late: nothing reads them back in the transaction, and the
	// head row is locked (beginWrite) so the seq cannot be taken.
	wrap := func(err error) error { return fmt.Errorf("append ledger event: %w", err) }
	err := tx.execLate(wrap, qInsertEvent,
		ev.Seq, ev.SchoolID, ev.TipID, ev.Alias, string(ev.Kind), ev.Detail, ev.ActorID, micros(ev.At), ev.Salt, ev.PrevHash, ev.Hash)
	if err == nil {
		err = tx.execLate(wrap, qSetLedgerHead, ev.Seq, ev.Hash)
	}
	if err != nil {
		tx.db.head = ledgerHead{}
		return fmt.Errorf("append ledger event: %w", err)
	}
	tx.db.head = ledgerHead{valid: true, seq: ev.Seq, hash: ev.Hash}
	if err := tx.eventHook(ev); err != nil {
		tx.db.head = ledgerHead{}
		return err
	}
	if ev.Seq%HeadEvery == 0 {
		if err := tx.insertCheckpoint(ev.Seq, ev.Hash); err != nil {
			tx.db.head = ledgerHead{}
			return err
		}
	}
	return nil
}

func (tx *Tx) insertCheckpoint(seq int64, hash []byte) error {
	res, err := tx.exec(`INSERT INTO ledger_checkpoints (seq, hash, recorded_at) VALUES (?, ?, ?) ON CONFLICT (seq) DO NOTHING`, seq, hash, micros(tx.now))
	if err != nil {
		return fmt.Errorf("record ledger checkpoint: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		// A new head leaves the server (the platform's outbox) with it.
		return tx.headHook(&LedgerHead{Seq: seq, Hash: hash, RecordedAt: micros(tx.now)}, false)
	}
	return nil
}

// CheckpointNewest records the newest event as a checkpoint now, whatever
// the interval: an event that must be a head at once (a case's evidence
// bundle ends its chain at its export event, and the head is sent out of
// the server with every other).
func (tx *Tx) CheckpointNewest() error {
	var last eventRow
	if err := tx.GetContext(tx.c(), &last, `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`); err != nil {
		return fmt.Errorf("newest ledger event: %w", err)
	}
	return tx.insertCheckpoint(last.Seq, last.Hash)
}

// RecordCheckpoint records the newest event as a checkpoint when events
// were added since the newest checkpoint and it is at least HeadInterval
// old (or there is none): the scheduler's timed heads, so that a quiet
// ledger's tail is vouched for within minutes. It returns the seq recorded,
// 0 when none was due.
func (tx *Tx) RecordCheckpoint() (int64, error) {
	var last eventRow
	err := tx.GetContext(tx.c(), &last, `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var newest struct {
		Seq        int64 `db:"seq"`
		RecordedAt int64 `db:"recorded_at"`
	}
	err = tx.GetContext(tx.c(), &newest, `SELECT seq, recorded_at FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if newest.Seq >= last.Seq || (newest.Seq > 0 && tx.now.Sub(fromMicros(newest.RecordedAt)) < HeadInterval) {
		return 0, nil
	}
	return last.Seq, tx.insertCheckpoint(last.Seq, last.Hash)
}

// LedgerCheckpoints lists the recorded checkpoints, oldest first.
func (db *DB) LedgerCheckpoints(ctx context.Context) ([]*LedgerHead, error) {
	var hs []*LedgerHead
	err := db.reader.SelectContext(ctx, &hs, `SELECT '' AS day, seq, hash, recorded_at FROM ledger_checkpoints ORDER BY seq`)
	return hs, err
}

// NewestCheckpoints lists the newest n checkpoints, newest first.
func (db *DB) NewestCheckpoints(ctx context.Context, n int) ([]*LedgerHead, error) {
	var hs []*LedgerHead
	err := db.reader.SelectContext(ctx, &hs, db.reader.Rebind(`SELECT '' AS day, seq, hash, recorded_at FROM ledger_checkpoints ORDER BY seq DESC LIMIT ?`), n)
	return hs, err
}

// TipEvents returns a case's events in order, for its timeline.
func (db *DB) TipEvents(ctx context.Context, tipID int64) ([]*hotline.Event, error) {
	return findEvents(ctx, db.reader, `WHERE tip_id = ? ORDER BY seq`, tipID)
}

// Events returns events after seq, in order, at most limit (for export and
// verification in pages).
func (db *DB) Events(ctx context.Context, afterSeq int64, limit int) ([]*hotline.Event, error) {
	return findEvents(ctx, db.reader, `WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq, limit)
}

func findEvents(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) ([]*hotline.Event, error) {
	var rows []eventRow
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+eventColumns+` FROM ledger `+where, args...); err != nil {
		return nil, fmt.Errorf("select ledger: %w", err)
	}
	out := make([]*hotline.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
	}
	return out, nil
}

// walkLedger feeds v the events after seq in order, in pages so that memory
// stays flat, stopping after limit events (no limit when limit <= 0) or at
// the first break. It returns the hashes of the events in want.
func (db *DB) walkLedger(ctx context.Context, v *ledger.Verifier, after int64, limit int64, want map[int64]bool) (map[int64][]byte, error) {
	hashes := map[int64][]byte{}
	var n int64
	for limit <= 0 || n < limit {
		page := int64(1000)
		if limit > 0 {
			page = min(page, limit-n)
		}
		var rows []eventRow
		if err := db.reader.SelectContext(ctx, &rows, `SELECT `+eventColumns+` FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?`, after, page); err != nil {
			return nil, fmt.Errorf("read ledger: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		for i := range rows {
			v.Add(rows[i].event())
			if want[rows[i].Seq] {
				hashes[rows[i].Seq] = rows[i].Hash
			}
		}
		if !v.Result().OK() {
			break
		}
		after = rows[len(rows)-1].Seq
		n += int64(len(rows))
	}
	return hashes, nil
}

// VerifyLedger walks the whole chain from the genesis and checks the
// recorded heads against it: the full check, for `hotline ledger verify`
// and the scheduler; pages use CheckLedger. It records the outcome as the
// ledger's verified point (LedgerVerified).
func (db *DB) VerifyLedger(ctx context.Context) (*ledger.Result, error) {
	r, err := db.VerifyLedgerTail(ctx)
	if err != nil {
		return nil, err
	}
	return r.Result, nil
}

// LedgerReport is a full walk's outcome with what it can vouch for.
type LedgerReport struct {
	*ledger.Result
	// Last is the newest event's seq.
	Last int64
	// Anchor is the newest event vouched for before this walk: the newest
	// recorded head (daily, every HeadEvery events or HeadInterval) or the
	// point an earlier check verified. 0: none.
	Anchor int64
	// Unvouched counts the events after Anchor: had some been deleted
	// from the end, nothing recorded would show it.
	Unvouched int64
	// Outside is the first head held outside the server (given to
	// VerifyLedgerWith) that the ledger no longer holds; nil when each
	// matched. It is not recorded: a mistyped head must not mark the
	// ledger broken for everyone.
	Outside *ledger.Break
	// OutsideNewest is the newest seq of the heads held outside that
	// matched (0: none given).
	OutsideNewest int64
}

// LedgerAnchors are what the ledger was vouched for before a walk: the
// recorded heads and checkpoints, and the verified point.
type LedgerAnchors struct {
	Heads    []*LedgerHead // daily heads and checkpoints, by seq
	Verified *LedgerVerified
}

// LedgerAnchors reads the recorded heads, checkpoints and verified point.
func (db *DB) LedgerAnchors(ctx context.Context) (*LedgerAnchors, error) {
	heads, err := db.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	cps, err := db.LedgerCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	at, err := db.LedgerVerified(ctx)
	if err != nil {
		return nil, err
	}
	return &LedgerAnchors{Heads: append(heads, cps...), Verified: at}, nil
}

// Want returns the seqs whose hashes Check needs.
func (a *LedgerAnchors) Want() map[int64]bool {
	want := map[int64]bool{}
	for _, h := range a.Heads {
		want[h.Seq] = true
	}
	if a.Verified.Seq > 0 {
		want[a.Verified.Seq] = true
	}
	return want
}

// Check confirms that every recorded head and the verified point (unless a
// break is on record, which a full walk may clear) are in the chain
// walked, whose hashes of the wanted seqs are in hashes.
func (a *LedgerAnchors) Check(hashes map[int64][]byte) *ledger.Break {
	var first *ledger.Break
	for _, h := range a.Heads {
		if b := ledger.CheckHead(hashes, h.Seq, h.Hash); b != nil && (first == nil || b.Seq < first.Seq) {
			first = b
		}
	}
	if at := a.Verified; at.Seq > 0 && at.Break == nil && (first == nil || at.Seq < first.Seq) {
		got, ok := hashes[at.Seq]
		switch {
		case !ok:
			first = &ledger.Break{Seq: at.Seq, Reason: "the last verified event is no longer in the ledger (truncated)"}
		case !bytes.Equal(got, at.Hash):
			first = &ledger.Break{Seq: at.Seq, Reason: "the last verified event was changed after it was verified"}
		}
	}
	return first
}

// Newest returns the newest seq vouched for: the newest head or the
// verified point (0: none).
func (a *LedgerAnchors) Newest() int64 {
	var n int64
	for _, h := range a.Heads {
		n = max(n, h.Seq)
	}
	if a.Verified.Break == nil {
		n = max(n, a.Verified.Seq)
	}
	return n
}

// VerifyLedgerTail is VerifyLedger with what the walk can vouch for: how
// many events follow the newest anchor recorded before it.
func (db *DB) VerifyLedgerTail(ctx context.Context) (*LedgerReport, error) {
	return db.VerifyLedgerWith(ctx, nil)
}

// VerifyLedgerWith is VerifyLedgerTail that also checks heads held outside
// the server (the paper register, the bureau's platform): the one proof of
// a deletion after the newest head recorded inside, which a truncated
// chain, consistent with itself, cannot give.
func (db *DB) VerifyLedgerWith(ctx context.Context, outside []ledger.Anchor) (*LedgerReport, error) {
	anchors, err := db.LedgerAnchors(ctx)
	if err != nil {
		return nil, err
	}
	want := anchors.Want()
	for _, a := range outside {
		want[a.Seq] = true
	}
	v := ledger.NewVerifier()
	hashes, err := db.walkLedger(ctx, v, 0, 0, want)
	if err != nil {
		return nil, err
	}
	res := v.Result()
	if res.Break == nil {
		res.Break = anchors.Check(hashes)
	}
	seq, hash := v.Last()
	if res.Break == nil {
		if res.Break, err = db.crossCheckCases(ctx, seq); err != nil {
			return nil, err
		}
	}
	report := &LedgerReport{Result: res, Last: seq, Anchor: anchors.Newest()}
	report.Unvouched = max(0, seq-report.Anchor)
	if res.Break == nil {
		for _, a := range outside {
			if b := a.Check(hashes, seq); b != nil {
				if report.Outside == nil || b.Seq < report.Outside.Seq {
					report.Outside = b
				}
			} else {
				report.OutsideNewest = max(report.OutsideNewest, a.Seq)
			}
		}
	}
	err = db.Update(ctx, func(tx *Tx) error {
		old, err := tx.ledgerVerified()
		if err != nil {
			return err
		}
		next := &LedgerVerified{Seq: seq, Hash: hash, CheckedAt: tx.now, FullAt: tx.now, Break: res.Break}
		if res.Break == nil && old.Break == nil && old.Seq > seq {
			// Events appended during the walk were checked meanwhile.
			next.Seq, next.Hash = old.Seq, old.Hash
		}
		return tx.setLedgerVerified(next)
	})
	if err != nil {
		return nil, fmt.Errorf("record ledger verification: %w", err)
	}
	return report, nil
}

// crossCheckCases compares the cases with their events, after a walk that
// found the chain whole up to last: every case must still have the event
// that opened it, and every event about a case must still have its case.
// A report filed and erased within minutes, after the newest recorded
// head, leaves a whole chain; but erasing its events and not its case, or
// its case and not its events, shows here. (Erasing both is for a head
// held outside to show: VerifyLedgerWith.)
func (db *DB) crossCheckCases(ctx context.Context, last int64) (*ledger.Break, error) {
	var lost []struct {
		ID        int64  `db:"id"`
		SchoolID  int64  `db:"school_id"`
		Alias     string `db:"alias_zh"`
		CreatedAt int64  `db:"created_at"`
		First     *int64 `db:"first"`
	}
	err := db.reader.SelectContext(ctx, &lost, `SELECT t.id, t.school_id, t.alias_zh, t.created_at, (SELECT MIN(seq) FROM ledger WHERE tip_id = t.id) AS first
		FROM tips t WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.tip_id = t.id AND l.kind = 'received') ORDER BY t.id LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("cross-check cases: %w", err)
	}
	var brk *ledger.Break
	if len(lost) > 0 {
		c := lost[0]
		at := last + 1 // its events went with the end of the ledger
		if c.First != nil {
			at = *c.First
		}
		brk = &ledger.Break{Seq: at, Reason: fmt.Sprintf("case #%d (%s, school %d, received %s) has no event that opened it: its events were deleted",
			c.ID, c.Alias, c.SchoolID, fromMicros(c.CreatedAt).Format(time.RFC3339))}
	}
	var orphan struct {
		Seq   *int64 `db:"seq"`
		TipID int64  `db:"tip_id"`
	}
	err = db.reader.GetContext(ctx, &orphan, `SELECT l.seq, l.tip_id FROM ledger l WHERE l.tip_id <> 0 AND NOT EXISTS (SELECT 1 FROM tips t WHERE t.id = l.tip_id) ORDER BY l.seq LIMIT 1`)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("cross-check events: %w", err)
	}
	if err == nil && orphan.Seq != nil && (brk == nil || *orphan.Seq < brk.Seq) {
		brk = &ledger.Break{Seq: *orphan.Seq, Reason: fmt.Sprintf("event %d is about case #%d, which is no longer in the database: the case was deleted", *orphan.Seq, orphan.TipID)}
	}
	return brk, nil
}

// LedgerVerified is how far the ledger has been verified: events 1 to Seq
// hold and Hash is the hash of event Seq (Genesis for 0).
type LedgerVerified struct {
	Seq       int64
	Hash      []byte
	CheckedAt time.Time     // last check of any kind; zero: never
	FullAt    time.Time     // last full walk; zero: never
	Break     *ledger.Break // first break found; nil while the chain holds
}

type ledgerVerifiedRow struct {
	Seq          int64  `db:"seq"`
	Hash         []byte `db:"hash"`
	CheckedAt    int64  `db:"checked_at"`
	FullAt       int64  `db:"full_at"`
	BrokenSeq    int64  `db:"broken_seq"`
	BrokenReason string `db:"broken_reason"`
}

const qLedgerVerified = `SELECT seq, hash, checked_at, full_at, broken_seq, broken_reason FROM ledger_verified WHERE id = 1`

func (r *ledgerVerifiedRow) verified() *LedgerVerified {
	out := &LedgerVerified{Seq: r.Seq, Hash: r.Hash, CheckedAt: fromMicros(r.CheckedAt), FullAt: fromMicros(r.FullAt)}
	if r.BrokenSeq != 0 {
		out.Break = &ledger.Break{Seq: r.BrokenSeq, Reason: r.BrokenReason}
	}
	return out
}

func getLedgerVerified(ctx context.Context, q sqlx.QueryerContext) (*LedgerVerified, error) {
	var r ledgerVerifiedRow
	err := sqlx.GetContext(ctx, q, &r, qLedgerVerified)
	if errors.Is(err, sql.ErrNoRows) {
		return &LedgerVerified{Hash: ledger.Genesis}, nil
	} else if err != nil {
		return nil, fmt.Errorf("ledger verified: %w", err)
	}
	return r.verified(), nil
}

// LedgerVerified returns how far the ledger has been verified.
func (db *DB) LedgerVerified(ctx context.Context) (*LedgerVerified, error) {
	return getLedgerVerified(ctx, db.reader)
}

func (tx *Tx) ledgerVerified() (*LedgerVerified, error) { return getLedgerVerified(tx.c(), tx.Tx) }

func (tx *Tx) setLedgerVerified(v *LedgerVerified) error {
	var seq int64
	var reason string
	if v.Break != nil {
		seq, reason = v.Break.Seq, v.Break.Reason
	}
	_, err := tx.exec(`INSERT INTO ledger_verified (id, seq, hash, checked_at, full_at, broken_seq, broken_reason) VALUES (1, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, checked_at = excluded.checked_at, full_at = excluded.full_at,
		broken_seq = excluded.broken_seq, broken_reason = excluded.broken_reason`,
		v.Seq, v.Hash, micros(v.CheckedAt), micros(v.FullAt), seq, reason)
	return err
}

// LedgerCheck is the outcome of an incremental check.
type LedgerCheck struct {
	*ledger.Result
	// Pending counts the events after the verified point left for a later
	// check (more than the check's limit arrived since the last one).
	Pending int64
}

// CheckLedger verifies the events appended since the ledger's verified
// point, at most limit of them (all when limit <= 0), and moves the point
// forward: the cost follows what is new, not the ledger's length. It also
// checks that the event at the verified point and every recorded daily
// head are still what they were, which catches a truncated or rewritten
// tail; edits further back are the full walk's to find (VerifyLedger). A
// break, found now or before, is reported until a full walk clears it.
func (db *DB) CheckLedger(ctx context.Context, limit int64) (*LedgerCheck, error) {
	at, err := db.LedgerVerified(ctx)
	if err != nil {
		return nil, err
	}
	if at.Break != nil {
		return &LedgerCheck{Result: &ledger.Result{Count: at.Seq, Head: hex.EncodeToString(at.Hash), Break: at.Break}}, nil
	}
	v := ledger.ResumeVerifier(at.Seq, at.Hash)
	brk, err := db.checkAnchors(ctx, at)
	if err != nil {
		return nil, err
	}
	if brk == nil {
		if _, err := db.walkLedger(ctx, v, at.Seq, limit, nil); err != nil {
			return nil, err
		}
		brk = v.Result().Break
	}
	seq, hash := v.Last()
	if brk != nil || seq > at.Seq {
		err := db.Update(ctx, func(tx *Tx) error {
			cur, err := tx.ledgerVerified()
			if err != nil {
				return err
			}
			// Another check may have gone further meanwhile: never move
			// the point back, and keep the first break recorded.
			if cur.Break != nil || (brk == nil && cur.Seq >= seq) {
				return nil
			}
			next := &LedgerVerified{Seq: max(seq, cur.Seq), Hash: hash, CheckedAt: tx.now, FullAt: cur.FullAt, Break: brk}
			if cur.Seq > seq {
				next.Hash = cur.Hash
			}
			return tx.setLedgerVerified(next)
		})
		if err != nil {
			return nil, fmt.Errorf("record ledger check: %w", err)
		}
	}
	res := v.Result()
	res.Break = brk
	last, err := db.LastEventSeq(ctx)
	if err != nil {
		return nil, err
	}
	return &LedgerCheck{Result: res, Pending: max(0, last-seq)}, nil
}

// checkAnchors confirms that the event at the verified point, the
// recorded daily heads and the newest checkpoint are still in the ledger,
// unchanged: one indexed read each.
func (db *DB) checkAnchors(ctx context.Context, at *LedgerVerified) (*ledger.Break, error) {
	var rows []struct {
		Seq  int64  `db:"seq"`
		Want []byte `db:"want"`
		Got  []byte `db:"got"`
		Head bool   `db:"head"`
	}
	q := `SELECT h.seq, h.hash AS want, l.hash AS got, 1 AS head FROM ledger_heads h LEFT JOIN ledger l ON l.seq = h.seq
		UNION ALL SELECT c.seq, c.hash, l.hash, 1 FROM (SELECT seq, hash FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1) c LEFT JOIN ledger l ON l.seq = c.seq`
	args := []any{}
	if at.Seq > 0 {
		q += ` UNION ALL SELECT ?, ?, (SELECT hash FROM ledger WHERE seq = ?), 0`
		args = append(args, at.Seq, at.Hash, at.Seq)
	}
	if err := db.reader.SelectContext(ctx, &rows, q+` ORDER BY 1, 4`, args...); err != nil {
		return nil, fmt.Errorf("check ledger anchors: %w", err)
	}
	for _, r := range rows {
		if r.Head {
			got := map[int64][]byte{}
			if r.Got != nil {
				got[r.Seq] = r.Got
			}
			if b := ledger.CheckHead(got, r.Seq, r.Want); b != nil {
				return b, nil
			}
			continue
		}
		switch {
		case r.Got == nil:
			return &ledger.Break{Seq: r.Seq, Reason: "the last verified event is no longer in the ledger (truncated)"}, nil
		case !bytes.Equal(r.Got, r.Want):
			return &ledger.Break{Seq: r.Seq, Reason: "the last verified event was changed after it was verified"}, nil
		}
	}
	return nil, nil
}

// LedgerHead is a recorded daily head.
type LedgerHead struct {
	Day        string `db:"day"`
	Seq        int64  `db:"seq"`
	Hash       []byte `db:"hash"`
	RecordedAt int64  `db:"recorded_at"`
}

// LedgerHeads lists the recorded heads, oldest first.
func (db *DB) LedgerHeads(ctx context.Context) ([]*LedgerHead, error) {
	var hs []*LedgerHead
	err := db.reader.SelectContext(ctx, &hs, `SELECT day, seq, hash, recorded_at FROM ledger_heads ORDER BY seq`)
	return hs, err
}

// RecordLedgerHead records today's head once; it returns false if the day
// already has one.
func (tx *Tx) RecordLedgerHead(day string) (*LedgerHead, bool, error) {
	var last eventRow
	err := tx.GetContext(tx.c(), &last, `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	h := &LedgerHead{Day: day, Seq: last.Seq, Hash: last.Hash, RecordedAt: micros(tx.now)}
	res, err := tx.exec(`INSERT INTO ledger_heads (day, seq, hash, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT (day) DO NOTHING`, h.Day, h.Seq, h.Hash, h.RecordedAt)
	if err != nil {
		return nil, false, err
	}
	n, _ := res.RowsAffected()
	if n == 1 {
		if err := tx.headHook(h, true); err != nil {
			return nil, false, err
		}
	}
	return h, n == 1, nil
}
