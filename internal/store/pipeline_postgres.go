package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// The writer's pipeline on PostgreSQL (see late): a write transaction
// begun with pipelined(ctx) does not send BEGIN at once; BEGIN, the
// ledger head's lock (beginWrite) and every statement marked late are
// held on the connection and sent, in order, in one pgx batch together
// with the next statement that must be waited for — a read, an execOne,
// a RELEASE, the COMMIT. So the head lock costs no round trip of its own
// and is taken right before the transaction's first statement, as every
// statement after it needs. Below database/sql, like the rebinding, so
// that no statement of the transaction, whichever API sent it, can pass
// the held ones.

// pending is a statement held on the connection.
type pending struct {
	sql  string
	args []any
	late *late
}

// heldTx is the pipelined transaction under way on a connection.
type heldTx struct {
	held  []pending
	begun bool // BEGIN has left (the first send)
}

// beginPipelined holds BEGIN for the transaction ctx marks pipelined.
func (c *pgConn) beginPipelined() driver.Tx {
	c.tx = &heldTx{held: []pending{{sql: "begin", late: &late{}}}}
	return pgTx{c}
}

func namedArgs(nv []driver.NamedValue) []any {
	args := make([]any, len(nv))
	for i, v := range nv {
		args[i] = v.Value
	}
	return args
}

// exec runs or holds query in the pipelined transaction; ok is false when
// there is none, or nothing held and nothing to hold (run it as usual).
func (c *pgConn) pipelineExec(ctx context.Context, query string, nv []driver.NamedValue) (res driver.Result, ok bool, err error) {
	if c.tx == nil {
		return nil, false, nil
	}
	if l := lateFrom(ctx); l != nil {
		c.tx.held = append(c.tx.held, pending{sql: query, args: namedArgs(nv), late: l})
		return lateResult{}, true, nil
	}
	if len(c.tx.held) == 0 {
		return nil, false, nil
	}
	tag, _, err := c.send(ctx, &pending{sql: query, args: namedArgs(nv)}, false)
	if err != nil {
		return nil, true, err
	}
	return driver.RowsAffected(tag.RowsAffected()), true, nil
}

// pipelineQuery sends what is held with query, whose rows come back read
// in full; ok is false when nothing is held.
func (c *pgConn) pipelineQuery(ctx context.Context, query string, nv []driver.NamedValue) (rows driver.Rows, ok bool, err error) {
	if c.tx == nil || len(c.tx.held) == 0 {
		return nil, false, nil
	}
	_, r, err := c.send(ctx, &pending{sql: query, args: namedArgs(nv)}, true)
	if err != nil {
		return nil, true, err
	}
	return r, true, nil
}

// send sends the held statements and then last in one batch (one round
// trip, once the statements are prepared on the connection) and reads
// their results in order. A held statement's failure is returned as a
// *lateError; the server skipped everything after it, last included.
func (c *pgConn) send(ctx context.Context, last *pending, wantRows bool) (pgconn.CommandTag, *bufRows, error) {
	held := c.tx.held
	c.tx.held = nil
	if len(held) > 0 {
		c.tx.begun = true // BEGIN is always the first one held
	}
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(held)+1)}
	for _, p := range held {
		b.Queue(p.sql, p.args...)
	}
	b.Queue(last.sql, last.args...)
	br := c.Conn.Conn().SendBatch(ctx, b)
	defer br.Close()
	for _, p := range held {
		var err error
		if len(p.late.scan) > 0 {
			if err = br.QueryRow().Scan(p.late.scan...); err == nil && p.late.then != nil {
				p.late.then()
			}
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			return pgconn.CommandTag{}, nil, &lateError{err: p.late.failed(err)}
		}
	}
	if !wantRows {
		tag, err := br.Exec()
		return tag, nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return pgconn.CommandTag{}, nil, err
	}
	r, err := readRows(c.Conn.Conn().TypeMap(), rows)
	return pgconn.CommandTag{}, r, err
}

// pgTx is a pipelined transaction: its commit goes with what is held.
type pgTx struct{ c *pgConn }

func (t pgTx) Commit() error {
	c := t.c
	defer func() { c.tx = nil }()
	ctx := context.Background()
	tag, _, err := c.send(ctx, &pending{sql: "commit"}, false)
	if err != nil {
		// The failure left the transaction open and aborted (the
		// server skipped the COMMIT): end it.
		c.Conn.Conn().Exec(ctx, "rollback")
		return err
	}
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

func (t pgTx) Rollback() error {
	c := t.c
	defer func() { c.tx = nil }()
	if !c.tx.begun {
		return nil // nothing ever left
	}
	_, err := c.Conn.Conn().Exec(context.Background(), "rollback")
	return err
}

// lateResult answers a held statement: how many rows it changed is not
// known yet, and a caller that asks did not mean to hold it.
type lateResult struct{}

var errLateResult = errors.New("store: a statement sent late has no result yet")

func (lateResult) LastInsertId() (int64, error) { return 0, errLateResult }
func (lateResult) RowsAffected() (int64, error) { return 0, errLateResult }

// pgStmt is a prepared statement of a pgConn: inside a pipelined
// transaction it goes through the connection's pipeline (prepared
// statements are found by their text there too), else as pgx runs it.
type pgStmt struct {
	driver.Stmt
	c     *pgConn
	query string
}

func (s *pgStmt) ExecContext(ctx context.Context, nv []driver.NamedValue) (driver.Result, error) {
	if res, ok, err := s.c.pipelineExec(ctx, s.query, nv); ok {
		return res, err
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, nv)
}

func (s *pgStmt) QueryContext(ctx context.Context, nv []driver.NamedValue) (driver.Rows, error) {
	if rows, ok, err := s.c.pipelineQuery(ctx, s.query, nv); ok {
		return rows, err
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, nv)
}

// bufRows are a query's rows read in full from a batch, converted to
// database/sql's values as pgx's own driver converts them.
type bufRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *bufRows) Columns() []string { return r.cols }
func (r *bufRows) Close() error      { return nil }

func (r *bufRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

func readRows(m *pgtype.Map, rows pgx.Rows) (*bufRows, error) {
	defer rows.Close()
	fds := rows.FieldDescriptions()
	out := &bufRows{cols: make([]string, len(fds))}
	conv := make([]func([]byte) (driver.Value, error), len(fds))
	for i, fd := range fds {
		out.cols[i] = fd.Name
		conv[i] = valueFunc(m, fd)
	}
	for rows.Next() {
		raw := rows.RawValues()
		vals := make([]driver.Value, len(raw))
		for i, src := range raw {
			if src == nil {
				continue
			}
			v, err := conv[i](src)
			if err != nil {
				return nil, fmt.Errorf("convert field %d: %w", i, err)
			}
			vals[i] = v
		}
		out.rows = append(out.rows, vals)
	}
	return out, rows.Err()
}

// valueFunc converts a column's raw value to what pgx's database/sql
// driver (stdlib.Rows) gives for it: the schema's types (bigint, integer,
// text, bytea) and what queries compute from them. Bytes are copied: the
// batch reuses its buffers.
func valueFunc(m *pgtype.Map, fd pgconn.FieldDescription) func([]byte) (driver.Value, error) {
	oid, format := fd.DataTypeOID, fd.Format
	scan := func(dst any, conv func() driver.Value) func([]byte) (driver.Value, error) {
		plan := m.PlanScan(oid, format, dst)
		return func(src []byte) (driver.Value, error) {
			if err := plan.Scan(src, dst); err != nil {
				return nil, err
			}
			return conv(), nil
		}
	}
	valuer := func(v driver.Valuer) func() driver.Value {
		return func() driver.Value { x, _ := v.Value(); return x }
	}
	switch oid {
	case pgtype.BoolOID:
		var d bool
		return scan(&d, func() driver.Value { return d })
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		var d []byte
		return scan(&d, func() driver.Value { return bytes.Clone(d) })
	case pgtype.Int2OID:
		var d int16
		return scan(&d, func() driver.Value { return int64(d) })
	case pgtype.Int4OID:
		var d int32
		return scan(&d, func() driver.Value { return int64(d) })
	case pgtype.Int8OID:
		var d int64
		return scan(&d, func() driver.Value { return d })
	case pgtype.Float4OID:
		var d float32
		return scan(&d, func() driver.Value { return float64(d) })
	case pgtype.Float8OID:
		var d float64
		return scan(&d, func() driver.Value { return d })
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		var d pgtype.Uint32
		return scan(&d, valuer(&d))
	case pgtype.DateOID:
		var d pgtype.Date
		return scan(&d, valuer(&d))
	case pgtype.TimestampOID:
		var d pgtype.Timestamp
		return scan(&d, valuer(&d))
	case pgtype.TimestamptzOID:
		var d pgtype.Timestamptz
		return scan(&d, valuer(&d))
	default:
		var d string
		return scan(&d, func() driver.Value { return d })
	}
}
