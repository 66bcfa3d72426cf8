package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
)

// Engine names a SQL engine the store runs on.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// EngineOf says which engine a DSN selects: postgres:// and postgresql://
// URLs (and key=value strings naming a host) select PostgreSQL; anything
// else is the path of a SQLite file.
func EngineOf(dsn string) Engine {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// dialect is everything the store does differently on each engine. It is
// the one place that knows the engine: repositories write portable SQL
// (? placeholders, INTEGER 0/1 flags, INTEGER microsecond times, BLOB/BYTEA
// bytes, ON CONFLICT, RETURNING) and call through here for the rest.
type dialect interface {
	engine() Engine
	// open connects the writer and the read pool.
	open(db *DB) (writer, reader *sqlx.DB, err error)
	// migrationsDir is the embedded directory of the engine's migrations.
	migrationsDir() string
	// lockMigrations keeps other processes from migrating at the same time
	// on conn, until unlock.
	lockMigrations(ctx context.Context, conn *sqlx.Conn) (unlock func(), err error)
	migrationsTable() string
	// beginWrite runs first in every write transaction.
	beginWrite(tx *Tx) error
	// endWrite runs after every write transaction, committed or not.
	endWrite(db *DB)
	// readOptions are the options of View's transactions.
	readOptions() *sql.TxOptions
	isUnique(err error) bool
	// scrub removes replaced key material from files a thief could copy,
	// after a key change (see scrub.go).
	scrub(db *DB)
	integrityCheck(ctx context.Context, db *DB) (string, error)
	backup(ctx context.Context, db *DB, path string) error
}

func dialectOf(dsn string) dialect {
	if EngineOf(dsn) == Postgres {
		return postgresDialect{}
	}
	return sqliteDialect{}
}

// migrationNames lists the embedded migrations of d, in order. They are
// recorded under the SQLite file's name ("migrations/0001_init.sql") on
// both engines: each PostgreSQL file has a SQLite twin of the same name.
func migrationNames(d dialect) ([]string, error) {
	names, err := fs.Glob(migrationFS, path.Join(d.migrationsDir(), "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

func migrationKey(file string) string { return "migrations/" + path.Base(file) }

// ---- SQLite ----

type sqliteDialect struct{}

func (sqliteDialect) engine() Engine { return SQLite }

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

func (sqliteDialect) open(db *DB) (writer, reader *sqlx.DB, err error) {
	// SQLite gives the -wal and -shm files the main file's mode: create it
	// owner-only so that none of them is readable by other local users.
	if f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
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
	if writer, err = sqlx.Open("sqlite3", sqliteDSN(db.Path, url.Values{"_txlock": {"immediate"}, "_secure_delete": {"on"}})); err != nil {
		return nil, nil, fmt.Errorf("open writer: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	if err := writer.Ping(); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("open %s: %w", filepath.Base(db.Path), err)
	}
	if reader, err = sqlx.Open("sqlite3", sqliteDSN(db.Path, url.Values{"mode": {"ro"}, "_query_only": {"1"}})); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("open reader: %w", err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	return writer, reader, nil
}

func (sqliteDialect) migrationsDir() string { return "migrations" }

// lockMigrations needs nothing: the writer's BEGIN IMMEDIATE serialises
// migrating processes, and each file checks it was not applied first.
func (sqliteDialect) lockMigrations(context.Context, *sqlx.Conn) (func(), error) {
	return func() {}, nil
}

func (sqliteDialect) migrationsTable() string {
	return `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`
}

// beginWrite needs nothing: BEGIN IMMEDIATE has taken the file's write
// lock, and AppendEvent reads the head row under it.
func (sqliteDialect) beginWrite(*Tx) error { return nil }

// endWrite forgets the head: another process (a CLI command beside the
// server) may append next.
func (sqliteDialect) endWrite(db *DB) { db.head = ledgerHead{} }

// readOptions: a SQLite read transaction sees one snapshot already.
func (sqliteDialect) readOptions() *sql.TxOptions { return &sql.TxOptions{ReadOnly: true} }

func (sqliteDialect) isUnique(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return false
}

func (sqliteDialect) scrub(db *DB) { db.scrubWAL() }

func (sqliteDialect) integrityCheck(ctx context.Context, db *DB) (string, error) {
	var rows []string
	if err := db.reader.SelectContext(ctx, &rows, `PRAGMA integrity_check`); err != nil {
		return "", err
	}
	return strings.Join(rows, "; "), nil
}

// backup writes a consistent snapshot with VACUUM INTO, on a connection of
// its own so that writers are not held up.
func (sqliteDialect) backup(ctx context.Context, db *DB, path string) error {
	conn, err := sqlx.Open("sqlite3", sqliteDSN(db.Path, url.Values{"mode": {"ro"}}))
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// ---- PostgreSQL ----

type postgresDialect struct{}

func (postgresDialect) engine() Engine { return Postgres }

// Advisory lock keys (pg_advisory_lock) of the store. Other node-wide
// locks take keys of their own beside these.
const (
	// LockMigrate is held while a process migrates the schema.
	LockMigrate int64 = 0x686f746c696e6501 // "hotline" 01
)

func (postgresDialect) open(db *DB) (writer, reader *sqlx.DB, err error) {
	cfg, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	// The writer is one connection, as on SQLite: its transactions are
	// grouped (see commitGroup), and a cluster-wide lock taken by each one
	// (beginWrite) orders them with other nodes' writers.
	writer = sqlx.NewDb(sqlOpenPG(cfg), "pgx")
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	if err := writer.Ping(); err != nil {
		writer.Close()
		return nil, nil, fmt.Errorf("connect to postgresql: %w", err)
	}
	// The read pool cannot write, like SQLite's read-only connections: a
	// write sent to it by mistake fails instead of racing the writer.
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	reader = sqlx.NewDb(sqlOpenPG(rcfg), "pgx")
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	return writer, reader, nil
}

func sqlOpenPG(cfg *pgx.ConnConfig) *sql.DB {
	return sql.OpenDB(pgConnector{inner: stdlib.GetConnector(*cfg)})
}

func (postgresDialect) migrationsDir() string { return "migrations/postgres" }

// lockMigrations holds a session advisory lock on conn: nodes that start
// together migrate one after the other, and the later ones find the files
// applied.
func (postgresDialect) lockMigrations(ctx context.Context, conn *sqlx.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?)`, LockMigrate); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	return func() { conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?)`, LockMigrate) }, nil
}

func (postgresDialect) migrationsTable() string {
	return `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`
}

// beginWrite locks the ledger head row and reads the head. Every write
// transaction takes it, appending or not, so writers on all nodes run one
// at a time, as SQLite's one writer does: the repositories' read-then-write
// steps (a tip read, changed and saved; a free alias picked) rely on it,
// and a chain appended by several processes has no fork. Group commit
// keeps the throughput.
func (postgresDialect) beginWrite(tx *Tx) error {
	var h eventRow
	if err := tx.GetContext(context.Background(), &h, `SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE`); err != nil {
		return fmt.Errorf("lock ledger head: %w", err)
	}
	tx.db.head = ledgerHead{valid: true, seq: h.Seq, hash: h.Hash}
	return nil
}

// endWrite forgets the head: another node may append next.
func (postgresDialect) endWrite(db *DB) { db.head = ledgerHead{} }

// readOptions: one snapshot for the whole read transaction, as on SQLite.
func (postgresDialect) readOptions() *sql.TxOptions {
	return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
}

func (postgresDialect) isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// scrub does nothing: PostgreSQL keeps a replaced or deleted row until
// VACUUM and its WAL until recycled, out of the store's reach. What is left
// there is an old password-wrapped key, which opens only with the old
// password, or an ended session's key, which opens only with the secret in
// that browser's cookie, never stored by the server (see README).
func (postgresDialect) scrub(db *DB) { db.scrubPending = false }

// integrityCheck reads every table through: a damaged page or index
// makes PostgreSQL fail the read. (amcheck would go further but is an
// extension not every host installs.)
func (postgresDialect) integrityCheck(ctx context.Context, db *DB) (string, error) {
	var tables []string
	if err := db.reader.SelectContext(ctx, &tables, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`); err != nil {
		return "", err
	}
	for _, t := range tables {
		var n int64
		if err := db.reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()); err != nil {
			return "", fmt.Errorf("%s: %w", t, err)
		}
	}
	return "ok", nil
}

// ErrBackupPostgres answers `hotline backup` on PostgreSQL: the database
// server's own tools make consistent copies.
var ErrBackupPostgres = errors.New("on PostgreSQL, back up with pg_dump (e.g. pg_dump --format=custom --file=hotline.dump DSN): " +
	"the dump holds only sealed content and HMACs, like the database; keep the server key apart from it")

func (postgresDialect) backup(context.Context, *DB, string) error { return ErrBackupPostgres }
