package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
	PrevHash []byte `db:"prev_hash"`
	Hash     []byte `db:"hash"`
}

func (r *eventRow) event() *hotline.Event {
	return &hotline.Event{Seq: r.Seq, SchoolID: r.SchoolID, TipID: r.TipID, Alias: r.Alias, Kind: hotline.EventKind(r.Kind),
		Detail: r.Detail, ActorID: r.ActorID, At: fromMicros(r.At), PrevHash: r.PrevHash, Hash: r.Hash}
}

const eventColumns = `seq, school_id, tip_id, alias, kind, detail, actor_id, at, prev_hash, hash`

// AppendEvent appends a case event to the ledger in this transaction, so
// the event and the change it records commit together or not at all.
func (tx *Tx) AppendEvent(ev *hotline.Event) error {
	if !tx.db.head.valid {
		var last eventRow
		err := tx.GetContext(tx.c(), &last, `SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			tx.db.head = ledgerHead{valid: true, seq: 0, hash: ledger.Genesis}
		case err != nil:
			return fmt.Errorf("ledger head: %w", err)
		default:
			tx.db.head = ledgerHead{valid: true, seq: last.Seq, hash: last.Hash}
		}
	}
	ev.Seq = tx.db.head.seq + 1
	ev.At = tx.now
	ledger.Seal(tx.db.head.hash, ev)
	_, err := tx.exec(qInsertEvent,
		ev.Seq, ev.SchoolID, ev.TipID, ev.Alias, string(ev.Kind), ev.Detail, ev.ActorID, micros(ev.At), ev.PrevHash, ev.Hash)
	if err != nil {
		tx.db.head = ledgerHead{}
		return fmt.Errorf("append ledger event: %w", err)
	}
	tx.db.head = ledgerHead{valid: true, seq: ev.Seq, hash: ev.Hash}
	return nil
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
	if err := sqlx.SelectContext(ctx, q, &rows, sqlx.Rebind(sqlx.QUESTION, `SELECT `+eventColumns+` FROM ledger `+where), args...); err != nil {
		return nil, fmt.Errorf("select ledger: %w", err)
	}
	out := make([]*hotline.Event, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
	}
	return out, nil
}

// VerifyLedger walks the whole chain in order (in pages, so memory stays
// flat) and checks the recorded daily heads against it.
func (db *DB) VerifyLedger(ctx context.Context) (*ledger.Result, error) {
	v := ledger.NewVerifier()
	hashes := map[int64][]byte{}
	heads, err := db.LedgerHeads(ctx)
	if err != nil {
		return nil, err
	}
	want := map[int64]bool{}
	for _, h := range heads {
		want[h.Seq] = true
	}
	var after int64
	for {
		var rows []eventRow
		if err := db.reader.SelectContext(ctx, &rows, `SELECT `+eventColumns+` FROM ledger WHERE seq > ? ORDER BY seq LIMIT 1000`, after); err != nil {
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
		after = rows[len(rows)-1].Seq
	}
	res := v.Result()
	if res.Break == nil {
		for _, h := range heads {
			if b := ledger.CheckHead(hashes, h.Seq, h.Hash); b != nil {
				res.Break = b
				break
			}
		}
	}
	return res, nil
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
	return h, n == 1, nil
}
