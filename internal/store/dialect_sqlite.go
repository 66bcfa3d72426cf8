package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// sqliteDialect is the embedded engine: one file, one process, which is
// the only node. Locks among nodes are the file's own write lock, and
// notices stay in the process.
type sqliteDialect struct {
	path string
	wal  walCounter

	mu        sync.Mutex
	listeners map[string]map[*Listener]struct{} // by channel
}

func (*sqliteDialect) name() string { return "sqlite" }

// writerCacheKiB is the writer connection's page cache (a negative
// cache_size is KiB). SQLite fills it only as pages are read, so a small
// database never uses it.
const writerCacheKiB = 64 << 10

func sqliteDSN(path string, extra url.Values) string {
	v := url.Values{}
	v.Set("_busy_timeout", "10000")
	v.Set("_foreign_keys", "on")
	v.Set("_journal_mode", "WAL")
	v.Set("_synchronous", "FULL")
	for k, vals := range extra {
		v[k] = vals
	}
	return "file:" + filepath.ToSlash(path) + "?" + v.Encode()
}

func (d *sqliteDialect) open() (writer, reader *sqlx.DB, err error) {
	// SQLite gives the -wal and -shm files the main file's mode: create it
	// owner-only so that none of them is readable by other local users.
	if f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, nil, fmt.Errorf("create database file: %w", err)
	} else {
		f.Close()
	}
	// One writer connection: SQLite has one writer anyway, and owning it
	// lets us group commits. _txlock=immediate takes the write lock at
	// BEGIN, so a transaction never fails to upgrade half-way.
	// _secure_delete zeroes what the writer deletes or overwrites (an old
	// wrapped key, purged content) in the pages it writes, instead of
	// leaving it in free space for a copy of the file to find.
	//
	// The writer's page cache is writerCacheKiB, not SQLite's 2 MiB: a
	// tip inserts into a dozen b-trees, most on random keys (uids, MACs,
	// aliases), and once a school's tables outgrow 2 MiB each of those
	// leaves was read again from the file on every tip.
	if writer, err = sqlx.Open("sqlite3", sqliteDSN(d.path, url.Values{"_txlock": {"immediate"}, "_secure_delete": {"on"},
		"_cache_size": {strconv.Itoa(-writerCacheKiB)}})); err != nil {
		return nil, nil, fmt.Errorf("open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	if err := pingWriter(writer); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("open %s: %w", filepath.Base(d.path), err)
	}
	if reader, err = sqlx.Open("sqlite3", sqliteDSN(d.path, url.Values{"mode": {"ro"}, "_query_only": {"1"}})); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("open reader: %w", err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	return writer, reader, nil
}

// pingWriter opens the writer's connection, which sets its pragmas. Two
// processes that open a new file at the same moment both turn it to WAL,
// which takes the file's exclusive lock, and SQLite answers the one that
// loses "database is locked" at once, without its busy timeout: so that
// is tried again, for as long as the busy timeout would have waited.
func pingWriter(writer *sqlx.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := writer.Ping()
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *sqliteDialect) close() { d.wal.close() }

// readOptions: a SQLite read transaction sees one snapshot already.
func (*sqliteDialect) readOptions() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

func (*sqliteDialect) isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

func (*sqliteDialect) multiNode() bool { return false }

// holdsLate: in process, a statement costs no round trip; late ones run
// at once.
func (*sqliteDialect) holdsLate() bool { return false }

// ---- Migrations ----

// tokens: an INTEGER PRIMARY KEY is the rowid itself (no second b-tree);
// INTEGER holds 64 bits. WITHOUT ROWID stores a table as its key's b-tree.
func (*sqliteDialect) tokens() map[string]string {
	return map[string]string{
		"ID":            "INTEGER PRIMARY KEY",
		"INT64":         "INTEGER",
		"BLOB":          "BLOB",
		"WITHOUT_ROWID": " WITHOUT ROWID",
	}
}

func (*sqliteDialect) overrides() string { return "" }

// lockMigrations needs nothing: the writer's BEGIN IMMEDIATE serialises
// migrating processes, and each file checks it was not applied first.
func (*sqliteDialect) lockMigrations(context.Context, *sqlx.Conn) (func(), error) {
	return func() {}, nil
}

// foreignKeysOff: SQLite rebuilds a table that others reference (create
// the new one, copy, drop the old, rename) only with foreign keys off, as
// its manual says: with them on, dropping the old table deletes its rows
// under their references, and the rename rewrites the other tables'
// references. A transaction cannot turn them off, so this runs before
// the migration's; checkForeignKeys checks what it wrote before commit.
func (*sqliteDialect) foreignKeysOff(ctx context.Context, conn *sqlx.Conn) (func() error, error) {
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return nil, err
	}
	return func() error {
		// Not the migration's ctx: the writer must get its foreign keys
		// back even when that ended.
		if _, err := conn.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`); err != nil {
			return fmt.Errorf("foreign keys back on: %w", err)
		}
		return nil
	}, nil
}

// checkForeignKeys reads PRAGMA foreign_key_check: every row whose
// reference has no row, in every table.
func (*sqliteDialect) checkForeignKeys(ctx context.Context, tx *sqlx.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: %s row %d refers to no row of %s", table, rowid.Int64, parent)
	}
	return rows.Err()
}

// ---- Write locks ----

// beginWrite needs nothing: BEGIN IMMEDIATE has taken the file's write
// lock, and AppendEvent reads the head row under it.
func (*sqliteDialect) beginWrite(*Tx) error { return nil }

// endWrite forgets the head: another process (a CLI command beside the
// server) may append next.
func (*sqliteDialect) endWrite(db *DB) { db.head = ledgerHead{} }

// skipLocked: the one writer holds the file's write lock; there is no
// other claimer to pass over.
func (*sqliteDialect) skipLocked(string) string { return "" }

// lockKey does nothing: one process is the only node, and the caller's
// in-process lock suffices.
func (*sqliteDialect) lockKey(context.Context, []byte) (func(), error) { return func() {}, nil }

// nodeLock is always held: this process is the only node.
func (*sqliteDialect) nodeLock(int64) NodeLock { return soleNode{} }

type soleNode struct{}

func (soleNode) TryLock(context.Context) (bool, error) { return true, nil }
func (soleNode) Check(context.Context) error           { return nil }
func (soleNode) Close()                                {}

// ---- Notices, in the process ----

func (d *sqliteDialect) notifyTx(tx *Tx, channel, payload string) error {
	tx.AfterCommit(func() { d.deliver(channel, payload) })
	return nil
}

func (d *sqliteDialect) notify(_ context.Context, channel, payload string) error {
	d.deliver(channel, payload)
	return nil
}

// listen registers l before it returns, so that no notice sent after is
// missed, and is ready at once.
func (d *sqliteDialect) listen(ctx context.Context, l Listener) <-chan struct{} {
	lp := &l
	d.mu.Lock()
	if d.listeners[l.Channel] == nil {
		d.listeners[l.Channel] = map[*Listener]struct{}{}
	}
	d.listeners[l.Channel][lp] = struct{}{}
	d.mu.Unlock()
	context.AfterFunc(ctx, func() {
		d.mu.Lock()
		delete(d.listeners[l.Channel], lp)
		d.mu.Unlock()
	})
	ready := make(chan struct{})
	close(ready)
	return ready
}

func (d *sqliteDialect) deliver(channel, payload string) {
	d.mu.Lock()
	var to []*Listener
	for l := range d.listeners[channel] {
		to = append(to, l)
	}
	d.mu.Unlock()
	for _, l := range to {
		l.Deliver(payload)
	}
}

// ---- Files ----

func (d *sqliteDialect) walFrames() int64 { return d.wal.count(d.path) }

func (*sqliteDialect) scrub(db *DB) { scrubWAL(db) }

// scrubWAL checkpoints the whole log into the database file and truncates
// it (see scrub.go). It runs on the writer goroutine between transactions.
// A reader still on an older snapshot (past the busy timeout) keeps the
// checkpoint from completing: then scrubPending stays set and the next
// commit tries again.
func scrubWAL(db *DB) {
	var busy, logFrames, done int
	err := db.writer.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	db.statsMu.Lock()
	db.stats.Scrubs++
	db.statsMu.Unlock()
	db.scrubPending = err != nil || busy != 0
}

func (*sqliteDialect) integrityCheck(ctx context.Context, db *DB) (string, error) {
	var rows []string
	if err := db.reader.SelectContext(ctx, &rows, `PRAGMA integrity_check`); err != nil {
		return "", err
	}
	return strings.Join(rows, "; "), nil
}

func (*sqliteDialect) backupRefused() error { return nil }

// backup writes a consistent snapshot with VACUUM INTO, on a connection of
// its own so that writers are not held up.
func (d *sqliteDialect) backup(ctx context.Context, _ *DB, path string) error {
	conn, err := sqlx.Open("sqlite3", sqliteDSN(d.path, url.Values{"mode": {"ro"}}))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// walCounter counts the WAL frames the writer's commits append: each is one
// page write (4 KiB plus a 24-byte header) and, at synchronous=FULL, part of
// the fsync every commit waits for, so frames per tip is the measure of how
// much a submission writes.
//
// It reads mxFrame (the number of valid frames in the WAL) and the WAL salt
// from the wal-index header at the start of the -shm file, whose layout is
// part of SQLite's documented file formats ("The WAL-Index Format"): a
// 48-byte header, stored twice, in native byte order, with mxFrame at
// offset 16 and the salt at offset 32. A new salt means the WAL was
// restarted after a checkpoint, and the frames counted from zero again.
// Only the writer goroutine uses it, after each commit.
type walCounter struct {
	shm    *os.File
	failed bool
	last   uint32
	salt   uint64
}

// count returns the frames appended since its previous call.
func (w *walCounter) count(dbPath string) int64 {
	if w.failed {
		return 0
	}
	if w.shm == nil {
		f, err := os.Open(dbPath + "-shm")
		if err != nil {
			// No wal-index (not WAL): nothing to count.
			w.failed = true
			return 0
		}
		w.shm = f
	}
	var hdr [48]byte
	if _, err := w.shm.ReadAt(hdr[:], 0); err != nil {
		return 0
	}
	mx := binary.NativeEndian.Uint32(hdr[16:])
	salt := binary.NativeEndian.Uint64(hdr[32:])
	var n int64
	if salt == w.salt && mx >= w.last {
		n = int64(mx - w.last)
	} else {
		n = int64(mx) // restarted: these frames are all new
	}
	w.last, w.salt = mx, salt
	return n
}

func (w *walCounter) close() {
	if w.shm != nil {
		w.shm.Close()
		w.shm = nil
	}
}
