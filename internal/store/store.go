// Package store keeps Hotline's state in SQL through sqlx: embedded
// migrations, repositories, transactions. It stores only what the callers
// hand it — sealed bytes, HMACs and clear metadata — and must never be given
// or log a tip's plaintext, a receipt, a chat id, an IP address or a user
// agent.
//
// SQLite is the embedded default: one writer connection that commits writes
// in groups (many transactions' worth of work per fsync, each caller
// answered only after its own commit) and a separate read-only pool.
// PostgreSQL is the other engine, for several nodes on one database. The
// SQL is written once for both; what differs sits behind the dialect
// (dialect.go), and the migrations are one list (migrate.go).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the embedded SQL engine

	"hotline/internal/hotline"
)

// DB is the database: one writer that commits in groups and a read pool.
type DB struct {
	// DSN is what Open was given; Path is the SQLite file ("" on
	// PostgreSQL).
	DSN   string
	Path  string
	Clock hotline.Clock
	// MaxBatch caps how many write jobs share one commit.
	MaxBatch int
	// MaxLinger caps how long a batch waits for announced jobs (Expect).
	MaxLinger time.Duration
	coming    comingJobs
	// lastExpected is how many announced jobs the last batch carried
	// (writer goroutine only; see fill).
	lastExpected int

	dialect dialect
	writer  *sqlx.DB
	reader  *sqlx.DB
	// hot reads through statements prepared on the reader (readCache)
	rq *readCache

	jobs    chan *job
	closing chan struct{}
	done    chan struct{}
	closeMu sync.Once

	statsMu sync.Mutex
	stats   Stats

	// head is the ledger's head in the write transaction under way, for
	// the writer goroutine, which alone appends; read from the ledger_head
	// row at the first append (on PostgreSQL locked, and read, with the
	// transaction's first statement: beginWrite) and forgotten
	// at the end of every transaction, since another process may append
	// next.
	head ledgerHead
	// hooks run inside ledger appends (SetLedgerHooks).
	hooks LedgerHooks

	// stmts are the write statements prepared on the writer connection:
	// the hot ones at open, the others after their first commit (missed).
	stmts  map[string]*sql.Stmt
	missed map[string]bool

	// scrubPending is set while a key change's truncating checkpoint has
	// not completed; the writer goroutine, which alone touches it, tries
	// again after each commit (see scrub.go).
	scrubPending bool
}

type ledgerHead struct {
	valid bool
	seq   int64
	hash  []byte
}

// Stats counts group commits, for benchmarks and tests.
type Stats struct {
	Commits int64
	Jobs    int64
	// Scrubs counts truncating checkpoints run after key changes.
	Scrubs int64
	// WALFrames counts the pages the commits wrote to the WAL.
	WALFrames int64
}

type job struct {
	ctx  context.Context
	fn   func(*Tx) error
	errc chan error
	// expected: announced with Expect (see fill).
	expected bool
}

// Open opens the database that dsn names and migrates it: a postgres://
// or postgresql:// URL selects PostgreSQL, anything else is the path of a
// SQLite file (created if needed), the embedded default.
func Open(dsn string) (*DB, error) {
	db := &DB{DSN: dsn, Clock: hotline.SystemClock{}, MaxBatch: 64, MaxLinger: DefaultMaxLinger}
	db.dialect, db.Path = newDialect(dsn)
	if err := db.open(); err != nil {
		return nil, err
	}
	return db, nil
}

func (db *DB) open() (err error) {
	if db.writer, db.reader, err = db.dialect.open(); err != nil {
		return err
	}
	fail := func(err error) error {
		db.dialect.close()
		db.reader.Close()
		db.writer.Close()
		return err
	}
	if err := db.migrate(context.Background()); err != nil {
		return fail(err)
	}
	db.stmts = map[string]*sql.Stmt{}
	for _, q := range hotQueries {
		st, err := db.writer.PrepareContext(context.Background(), db.writer.Rebind(q))
		if err != nil {
			return fail(fmt.Errorf("prepare: %w", err))
		}
		db.stmts[q] = st
	}
	db.rq = &readCache{db: db.reader}
	db.dialect.walFrames() // the migrations' frames are not the commits'
	db.jobs = make(chan *job, 1024)
	db.closing = make(chan struct{})
	db.done = make(chan struct{})
	go db.writeLoop()
	return nil
}

// Close stops the writer after the queued jobs and closes the database.
func (db *DB) Close() error {
	var err error
	db.closeMu.Do(func() {
		close(db.closing)
		<-db.done
		db.rq.close()
		for _, st := range db.stmts {
			st.Close()
		}
		db.dialect.close()
		if e := db.reader.Close(); e != nil {
			err = e
		}
		if e := db.writer.Close(); e != nil && err == nil {
			err = e
		}
	})
	return err
}

// Stats returns how many commits carried how many jobs.
func (db *DB) Stats() Stats {
	db.statsMu.Lock()
	defer db.statsMu.Unlock()
	return db.stats
}

// Writer returns the writer connection, for tools and tests that need raw
// SQL (ledger tampering tests, integrity checks). Its ? placeholders work
// on both engines.
func (db *DB) Writer() *sqlx.DB { return db.writer }

// Reader returns the read-only pool.
func (db *DB) Reader() *sqlx.DB { return db.reader }

// Tx is a write transaction with its time fixed at begin.
type Tx struct {
	*sqlx.Tx
	db  *DB
	ctx context.Context
	now time.Time
	// after runs once the transaction has committed (live updates, wake-ups).
	after []func()
}

// Now returns the transaction's time.
func (tx *Tx) Now() time.Time { return tx.now }

// exec runs a write statement in the transaction; a hot statement reuses
// its preparation (database/sql keeps it when the transaction runs on the
// connection it was prepared on, which with one writer it always does).
func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.execCtx(tx.c(), query, args...)
}

// execCtx is exec with the statement's context (a late mark, see late).
func (tx *Tx) execCtx(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := tx.db.stmt(query); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, tx.Rebind(query), args...)
}

// queryRow runs a read of one row in the transaction through the
// writer's statement cache (stmt), so that it is parsed about once per
// process, not once per transaction.
func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	if st := tx.db.stmt(query); st != nil {
		return tx.StmtContext(tx.c(), st).QueryRowContext(tx.c(), args...)
	}
	return tx.QueryRowContext(tx.c(), tx.Rebind(query), args...)
}

// GetContext is sqlx's GetContext through the writer's statement cache
// (stmt), for every read a write transaction makes (the ledger head on
// SQLite, a tip read before a change): each is parsed about once per
// process rather than once per transaction.
func (tx *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.db.stmt(query); st != nil {
		return tx.StmtxContext(ctx, st).GetContext(ctx, dest, args...)
	}
	return tx.Tx.GetContext(ctx, dest, query, args...)
}

// SelectContext is sqlx's SelectContext through the writer's statement
// cache, as GetContext.
func (tx *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := tx.db.stmt(query); st != nil {
		return tx.StmtxContext(ctx, st).SelectContext(ctx, dest, args...)
	}
	return tx.Tx.SelectContext(ctx, dest, query, args...)
}

// insertID runs an INSERT … RETURNING id (SQLite and PostgreSQL both
// have RETURNING; database/sql's LastInsertId is SQLite's alone) and
// returns the id. sql.ErrNoRows means no row went in (ON CONFLICT … DO
// NOTHING).
func (tx *Tx) insertID(query string, args ...any) (int64, error) {
	var row *sql.Row
	if st, ok := tx.db.stmts[query]; ok {
		row = tx.StmtContext(tx.c(), st).QueryRowContext(tx.c(), args...)
	} else {
		row = tx.QueryRowContext(tx.c(), tx.Rebind(query), args...)
	}
	var id int64
	err := row.Scan(&id)
	return id, err
}

// Context returns the context of the job running in the transaction.
func (tx *Tx) Context() context.Context { return tx.ctx }

// c is the context for statements: the job's values without its
// cancellation, because a cancelled statement would abort the whole group
// commit, not only this job.
func (tx *Tx) c() context.Context { return context.WithoutCancel(tx.ctx) }

// AfterCommit registers fn to run after the transaction commits.
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// ErrClosed is returned for work handed to a closed database.
var ErrClosed = errors.New("store: database is closed")

// Update runs fn in a write transaction and returns after it has committed
// durably. fn runs exactly once per call that reaches the writer (Update
// returns without running it only when the database is closed or ctx ends
// before the job starts), so a closure may count, append or send.
//
// Concurrent calls share commits: in a group each job runs under its own
// savepoint, so a failing or panicking job rolls back alone, the others
// still commit, and every caller is answered only after its own commit.
// fn must be quick: seal and encode before calling Update.
//
// When ctx carries an Idempotency (WithIdempotency) not yet recorded, the
// transaction records its key before fn runs, or fails with
// ErrAlreadyHandled without running fn.
func (db *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	if k := IdempotencyFrom(ctx); k != nil {
		// The first write of an update's handling records its key with
		// the effect (see Idempotency).
		fn = k.guard(fn)
	}
	j := &job{ctx: ctx, fn: fn, errc: make(chan error, 1), expected: announced(ctx)}
	select {
	case db.jobs <- j:
		arrived(ctx)
	case <-db.closing:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the job may be
	// committing, and the caller must not report failure for stored work.
	return <-j.errc
}

func (db *DB) writeLoop() {
	defer close(db.done)
	for {
		var first *job
		select {
		case first = <-db.jobs:
		case <-db.closing:
			// Drain what is queued, then stop.
			for {
				select {
				case j := <-db.jobs:
					db.commit(db.newGroup(j))
				default:
					return
				}
			}
		}
		db.commit(db.newGroup(first))
	}
}

// ErrGroupLost answers the jobs that had run in a group transaction that
// could not go on (a savepoint failed): their work is gone, and running
// them again would break the promise that fn runs once.
var ErrGroupLost = errors.New("store: group commit lost the transaction")

// commit runs a group of jobs in one transaction and answers each of them.
// Every job runs once: alone in its transaction without a savepoint (a
// failure rolls the transaction back), in a group under a savepoint of its
// own (a failure rolls back to it). If the savepoint machinery itself
// fails, the transaction is lost: the jobs that ran in it fail, and the
// jobs not run yet are committed in a fresh transaction.
func (db *DB) commit(g *group) {
	for g != nil {
		g = db.commitGroup(g)
	}
}

// commitGroup runs g's jobs, taking more while it grows (group.next),
// commits them, and returns the jobs it did not run, to be committed
// afresh (nil unless the transaction was lost).
func (db *DB) commitGroup(g *group) (rest *group) {
	defer db.prepareMissed()
	defer func() { db.lastExpected = g.expected }()
	var errs []error
	var afters [][]func()
	stx, err := db.writer.BeginTxx(pipelined(context.Background()), nil)
	if err != nil {
		for _, j := range g.jobs {
			j.errc <- fmt.Errorf("begin: %w", err)
		}
		return nil
	}
	defer db.dialect.endWrite(db)
	tx := &Tx{Tx: stx, db: db, now: db.Clock.Now()}
	if err := db.dialect.beginWrite(tx); err != nil {
		stx.Rollback()
		for _, j := range g.jobs {
			j.errc <- fmt.Errorf("begin: %w", err)
		}
		return nil
	}
	ran := 0
	// alone: the first job runs without a savepoint, and nothing joins
	// it (its held statements go with the COMMIT, as its own).
	alone := false
	for i := 0; ; i++ {
		if i == len(g.jobs) && (alone || g.next() == nil) {
			break
		}
		j := g.jobs[i]
		errs, afters = append(errs, nil), append(afters, nil)
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		// A job needs a savepoint unless it is the group's first and
		// nothing will join it.
		savepoint := i > 0 || g.grows()
		alone = !savepoint
		tx.ctx, tx.after = j.ctx, nil
		jobErr, txErr := db.runJob(tx, j.fn, savepoint)
		if txErr != nil {
			// The transaction is in an unknown state: give up on it,
			// failing the jobs that ran (job i included), and start the
			// others again.
			stx.Rollback()
			db.head = ledgerHead{}
			lost := fmt.Errorf("%w: %v", ErrGroupLost, txErr)
			for k := 0; k <= i; k++ {
				if k == i && jobErr != nil {
					errs[k] = jobErr
				} else if errs[k] == nil {
					errs[k] = lost
				}
				g.jobs[k].errc <- errs[k]
			}
			if i+1 == len(g.jobs) {
				return nil
			}
			rest = &group{db: db}
			for _, j := range g.jobs[i+1:] {
				rest.add(j)
			}
			return rest
		}
		if errs[i] = jobErr; jobErr == nil {
			ran++
			afters[i] = tx.after
		}
	}
	if ran == 0 {
		stx.Rollback()
		db.head = ledgerHead{}
		for i, j := range g.jobs {
			j.errc <- errs[i]
		}
		return nil
	}
	savepoints := len(g.jobs) > 1
	if err := stx.Commit(); err != nil {
		stx.Rollback()
		db.head = ledgerHead{} // unknown now: read it again
		if le := asLate(err); le != nil && !savepoints {
			// The lone job's own statement, sent with the commit.
			err = le
		} else {
			err = fmt.Errorf("commit: %w", err)
		}
		for _, j := range g.jobs {
			j.errc <- err
		}
		return nil
	}
	frames := db.dialect.walFrames()
	db.statsMu.Lock()
	db.stats.Commits++
	db.stats.Jobs += int64(ran)
	db.stats.WALFrames += frames
	db.statsMu.Unlock()
	for i, j := range g.jobs {
		if errs[i] == nil {
			for _, fn := range afters[i] {
				fn()
			}
		}
		j.errc <- errs[i]
	}
	if db.scrubPending {
		db.dialect.scrub(db)
	}
	return nil
}

// runJob runs one job once, turning a panic into its error. Under a
// savepoint, a failing job is rolled back to it, and so is the cached
// ledger head; without one, the caller rolls back the transaction. txErr
// reports that the savepoint itself could not be set, rolled back to or
// released: the transaction can no longer be trusted.
func (db *DB) runJob(tx *Tx, fn func(*Tx) error, savepoint bool) (jobErr, txErr error) {
	head := db.head
	if savepoint {
		// Sent with the job's first statement that is waited for.
		if _, err := tx.execCtx(withLate(tx.c(), &late{}), `SAVEPOINT job`); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
	}
	jobErr = call(tx, fn)
	if jobErr == nil && savepoint {
		// RELEASE sends what the job held: a held statement that failed
		// fails the job alone (see late).
		_, err := tx.exec(`RELEASE job`)
		if jobErr = asLate(err); err != nil && jobErr == nil {
			return nil, fmt.Errorf("release savepoint: %w", err)
		}
		if jobErr == nil {
			return nil, nil
		}
	}
	if jobErr != nil {
		db.head = head // the job's ledger events are rolled back
		if savepoint {
			if err := tx.rollbackToJob(); err != nil {
				return jobErr, fmt.Errorf("rollback to savepoint: %w", err)
			}
			if _, err := tx.exec(`RELEASE job`); err != nil {
				return jobErr, fmt.Errorf("release savepoint: %w", err)
			}
		}
	}
	return jobErr, nil
}

// rollbackToJob rolls the transaction back to the job's savepoint. When
// statements the job held were sent with it and one failed, the server
// skipped the rollback: it is sent again.
func (tx *Tx) rollbackToJob() error {
	_, err := tx.exec(`ROLLBACK TO job`)
	if asLate(err) != nil {
		_, err = tx.exec(`ROLLBACK TO job`)
	}
	return err
}

// call runs fn, turning a panic into an error so that one bad job cannot
// take the writer, and every other caller, down with it.
func call(tx *Tx, fn func(*Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: job panicked: %v", r)
		}
	}()
	return fn(tx)
}

// View runs fn against the read-only pool in one read transaction, so that
// it sees one snapshot.
func (db *DB) View(ctx context.Context, fn func(q *sqlx.Tx) error) error {
	tx, err := db.reader.BeginTxx(ctx, db.dialect.readOptions())
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// IntegrityCheck checks the database's own structure and returns its
// answer ("ok" when sound): SQLite's integrity_check, a full read on
// PostgreSQL.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	return db.dialect.integrityCheck(ctx, db)
}

// micros converts a time to the stored integer form; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts a stored integer time back; 0 is the zero time.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// Micros is micros for other packages that build filters on stored times.
func Micros(t time.Time) int64 { return micros(t) }

// Backup writes a consistent snapshot of a SQLite database to path while
// writers go on. On PostgreSQL it returns ErrBackupByServer: pg_dump is the
// tool there.
func (db *DB) Backup(ctx context.Context, path string) error {
	return db.dialect.backup(ctx, db, path)
}
