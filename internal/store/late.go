package store

import (
	"context"
	"errors"
)

// Statements sent late. A write whose result nothing in the transaction
// reads (an event appended, a counter bumped, a conversation saved) need
// not be waited for: on an engine that talks to a server (PostgreSQL) it
// is held and sent in one pipeline with the next statement that must be
// waited for — at the latest the job's RELEASE or the COMMIT — so that a
// tip's transaction costs a few round trips instead of one per statement.
// The engine sees every statement of the connection in order (the held
// ones go first), so a later read still sees an earlier late write. On
// SQLite, in process, a late statement simply runs at once.
//
// A late statement's failure is reported by the statement that sends it,
// as a *lateError: runJob turns one reported by the job's RELEASE into the
// job's own error, and a commit that fails with it fails the jobs it
// carried. The failed statement aborts the server's transaction, so no
// job that swallowed the error can commit half its work.

// late says how a held statement is sent and what its failure means.
type late struct {
	// scan receives the statement's one row, if it returns one
	// (… RETURNING id), when it is sent.
	scan []any
	// then runs after scan has filled its targets.
	then func()
	// wrap turns the statement's failure into its caller's error (e.g.
	// a unique key's refusal into ErrSubmissionFiled); nil keeps it.
	wrap func(error) error
}

type lateKey struct{}

// withLate marks the statement run with ctx as one that may be sent late.
func withLate(ctx context.Context, l *late) context.Context {
	return context.WithValue(ctx, lateKey{}, l)
}

// lateFrom returns the late mark of ctx, or nil.
func lateFrom(ctx context.Context) *late {
	l, _ := ctx.Value(lateKey{}).(*late)
	return l
}

// failed is the error a failure of the statement becomes.
func (l *late) failed(err error) error {
	if l != nil && l.wrap != nil {
		return l.wrap(err)
	}
	return err
}

// lateError is a late statement's failure, reported by a later one.
type lateError struct{ err error }

func (e *lateError) Error() string { return "statement sent late: " + e.err.Error() }
func (e *lateError) Unwrap() error { return e.err }

// asLate returns the failure of a late statement that err reports, or nil.
func asLate(err error) error {
	var le *lateError
	if errors.As(err, &le) {
		return le.err
	}
	return nil
}

type pipelineKey struct{}

// pipelined marks a write transaction's begin: its statements may be
// held (see late). Only the writer's group commits are.
func pipelined(ctx context.Context) context.Context {
	return context.WithValue(ctx, pipelineKey{}, true)
}

func isPipelined(ctx context.Context) bool {
	b, _ := ctx.Value(pipelineKey{}).(bool)
	return b
}

// execLate runs a write whose result the caller does not read, possibly
// late (see late); wrap, if not nil, turns its failure into the caller's
// error whenever it is reported.
func (tx *Tx) execLate(wrap func(error) error, query string, args ...any) error {
	l := &late{wrap: wrap}
	if _, err := tx.execCtx(withLate(tx.c(), l), query, args...); err != nil {
		return l.failed(err)
	}
	return nil
}

// insertIDLate runs an INSERT … RETURNING id whose id nothing in the
// transaction reads before it commits: where statements are held, *id is
// set when it is sent (by the commit at the latest); elsewhere at once,
// as insertID does.
func (tx *Tx) insertIDLate(id *int64, wrap func(error) error, query string, args ...any) error {
	if !tx.db.dialect.holdsLate() {
		v, err := tx.insertID(query, args...)
		if err != nil {
			return (&late{wrap: wrap}).failed(err)
		}
		*id = v
		return nil
	}
	return tx.execLateScan(&late{scan: []any{id}, wrap: wrap}, query, args...)
}

// execLateScan holds a statement with its late mark l.
func (tx *Tx) execLateScan(l *late, query string, args ...any) error {
	if _, err := tx.execCtx(withLate(tx.c(), l), query, args...); err != nil {
		return l.failed(err)
	}
	return nil
}
