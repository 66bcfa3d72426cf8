package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// dialect is everything the store does differently on each engine, and
// its two implementations (dialect_sqlite.go, dialect_postgres.go) are the
// only code that knows which engine runs. Repositories write portable SQL
// (? placeholders, INTEGER 0/1 flags, INTEGER microsecond times, bytes,
// ON CONFLICT, RETURNING), migrations are written once with type tokens
// (see migrate.go), and everything else goes through these hooks.
//
// A dialect belongs to one DB: it holds what it opens beside the writer
// and the read pool (PostgreSQL's pool of lock and notice connections,
// SQLite's WAL index and in-process listeners) and close releases it.
type dialect interface {
	connector
	migrator
	writeLocks
	bus
	files
}

// connector opens the engine's connections.
type connector interface {
	// name is the engine's name in messages: "sqlite" or "postgres".
	name() string
	// open connects the writer and the read pool.
	open() (writer, reader *sqlx.DB, err error)
	// close releases what the dialect opened beside them.
	close()
	// readOptions are the options of View's transactions.
	readOptions() *sql.TxOptions
	// isUnique reports whether err is a unique constraint's refusal.
	isUnique(err error) bool
	// multiNode reports whether other processes may serve from the same
	// database as nodes of one cluster.
	multiNode() bool
	// holdsLate reports whether a write transaction's late statements
	// (see late) are held and sent in a pipeline with a later one,
	// rather than run at once.
	holdsLate() bool
}

// migrator is what migrations need from the engine.
type migrator interface {
	// tokens are what the migrations' type tokens expand to.
	tokens() map[string]string
	// overrides is the embedded directory of the engine's override files,
	// "" if it has none.
	overrides() string
	// lockMigrations keeps other processes from migrating at the same time
	// on conn, until unlock.
	lockMigrations(ctx context.Context, conn *sqlx.Conn) (unlock func(), err error)
	// foreignKeysOff readies conn for a migration marked rebuildMarker,
	// one that rebuilds a table other tables reference, before its
	// transaction begins; on undoes it after the transaction ends.
	foreignKeysOff(ctx context.Context, conn *sqlx.Conn) (on func() error, err error)
	// checkForeignKeys fails if such a migration left a reference without
	// its row; it runs in the migration's transaction, before its commit.
	checkForeignKeys(ctx context.Context, tx *sqlx.Tx) error
}

// writeLocks orders writers and claims across processes.
type writeLocks interface {
	// beginWrite runs first in every write transaction: it takes the
	// ledger head where other processes may write at once.
	beginWrite(tx *Tx) error
	// endWrite runs after every write transaction, committed or not.
	endWrite(db *DB)
	// skipLocked is the clause that ends a claim's SELECT (… OF table):
	// rows another transaction has locked are passed over, not waited for.
	skipLocked(table string) string
	// lockKey holds key across every process on the database until
	// unlock (see DB.LockKey).
	lockKey(ctx context.Context, key []byte) (unlock func(), err error)
	// nodeLock is the lock of key held on a connection of its own (see
	// DB.NodeLock).
	nodeLock(key int64) NodeLock
}

// bus carries content-free notices between the processes on the database.
type bus interface {
	// notifyTx sends payload on channel if and only if tx commits.
	notifyTx(tx *Tx, channel, payload string) error
	// notify sends payload on channel now.
	notify(ctx context.Context, channel, payload string) error
	// listen delivers what is sent on l.Channel until ctx ends.
	listen(ctx context.Context, l Listener) (ready <-chan struct{})
}

// files is what the store does to the database's own files.
type files interface {
	// walFrames returns how many WAL frames the commits wrote since its
	// previous call (0 where the engine's log is out of reach).
	walFrames() int64
	// scrub removes replaced key material from files a thief could copy,
	// after a key change (see scrub.go).
	scrub(db *DB)
	integrityCheck(ctx context.Context, db *DB) (string, error)
	// backupRefused is why backup cannot run on this engine, or nil.
	backupRefused() error
	backup(ctx context.Context, db *DB, path string) error
}

// newDialect returns the dialect dsn selects and the SQLite file it names
// ("" for a server): postgres:// and postgresql:// URLs select PostgreSQL;
// anything else is the path of a SQLite file.
func newDialect(dsn string) (d dialect, path string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return &postgresDialect{dsn: dsn}, ""
	}
	return &sqliteDialect{path: dsn, listeners: map[string]map[*Listener]struct{}{}}, dsn
}

// NodeLock is a lock that one process at a time holds among every node on
// the database, kept by a connection of its own: when its process dies the
// connection closes and the lock is free again. Where one process is the
// only node (SQLite), it is always held.
type NodeLock interface {
	// TryLock takes the lock if it is free and reports whether it did,
	// connecting first if need be.
	TryLock(ctx context.Context) (bool, error)
	// Check reports an error when the connection holding the lock is
	// lost, and the lock with it; the next TryLock connects again.
	Check(ctx context.Context) error
	// Close releases the lock and its connection.
	Close()
}

// NodeLock returns the lock of key (an advisory lock key apart from the
// store's own) among every node on db; nothing is taken until TryLock.
func (db *DB) NodeLock(key int64) NodeLock { return db.dialect.nodeLock(key) }

// LockKey serialises, across every node on the database, the work done
// under key (a keyed hash, e.g. of a reporter's chat) until unlock is
// called: on PostgreSQL by a transaction advisory lock on a connection of
// its own, which a node's death releases; on SQLite, where one process is
// the only node, it does nothing (the caller's in-process lock suffices).
// Keys are cut to 32 bits: two keys sharing them are serialised too, which
// costs only a wait.
func (db *DB) LockKey(ctx context.Context, key []byte) (unlock func(), err error) {
	return db.dialect.lockKey(ctx, key)
}

// Listener is what Listen delivers notices to.
type Listener struct {
	// Channel is the channel listened to.
	Channel string
	// Deliver gets every notice's payload, from every node, this one's too.
	Deliver func(payload string)
	// Lost, if set, hears that the listening connection was lost; Listen
	// connects again after Retry. Notices sent meanwhile are lost.
	Lost  func(err error)
	Retry time.Duration
}

// Listen delivers the notices sent on l.Channel (Tx.Notify, DB.Notify) to
// l.Deliver until ctx ends. The returned channel is closed once notices
// are being received. On SQLite notices stay in the process, between
// listeners and senders of the same DB.
func (db *DB) Listen(ctx context.Context, l Listener) (ready <-chan struct{}) {
	return db.dialect.listen(ctx, l)
}

// Notify sends payload on channel now, to every node's listeners.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	return db.dialect.notify(ctx, channel, payload)
}

// Notify queues payload on channel in the transaction: every listener
// (this node's too) gets it when, and only if, the transaction commits; a
// job rolled back to its savepoint takes its notices with it.
func (tx *Tx) Notify(channel, payload string) error {
	return tx.db.dialect.notifyTx(tx, channel, payload)
}

// MultiNode reports whether several processes may serve from the database
// as nodes of one cluster (PostgreSQL), rather than one process being the
// only node (SQLite): what every node must then share, such as a
// webhook's secret, cannot be made up by one of them.
func (db *DB) MultiNode() bool { return db.dialect.multiNode() }

// DialectName names the engine for messages: "sqlite" or "postgres".
func (db *DB) DialectName() string { return db.dialect.name() }

// LocalFile returns the path of the file that holds the database dsn names,
// when it is a file on this machine that only one server may use at a time
// (SQLite), and "" for a database server shared by nodes (PostgreSQL):
// what a data directory's lock and "is this a new database?" ask.
func LocalFile(dsn string) string {
	d, path := newDialect(dsn)
	if d.multiNode() {
		return ""
	}
	return path
}

// CheckBackup returns why Backup cannot run on the database dsn names (on
// PostgreSQL, ErrBackupByServer), without connecting; nil if it can.
func CheckBackup(dsn string) error {
	d, _ := newDialect(dsn)
	return d.backupRefused()
}
