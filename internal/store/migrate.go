package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// The migrations are one ordered list for both engines
// (migrations/NNNN_name.sql, see migrations/README.md), written with a few
// type tokens that each dialect expands ({{ID}}, {{INT64}}, {{BLOB}},
// {{WITHOUT_ROWID}}); where an engine's SQL truly differs, a file of the
// same name in its override directory replaces the common one for it.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// token is a type token in a migration: {{NAME}}.
var token = regexp.MustCompile(`\{\{([A-Z0-9_]+)\}\}`)

// expand replaces the type tokens of sql with what d spells them as; a
// token d does not know is an error, not SQL sent to the engine.
func expand(d migrator, sql string) (string, error) {
	tokens := d.tokens()
	var unknown string
	out := token.ReplaceAllStringFunc(sql, func(t string) string {
		name := t[2 : len(t)-2]
		v, ok := tokens[name]
		if !ok && unknown == "" {
			unknown = t
		}
		return v
	})
	if unknown != "" {
		return "", fmt.Errorf("unknown token %s", unknown)
	}
	return out, nil
}

// migrationFiles lists the migrations d applies, in order: each common
// file, or the file of the same name in d's override directory. They are
// recorded by name ("migrations/0001_init.sql") on both engines, so the
// name a database has recorded never depends on where its file came from.
func migrationFiles(d migrator) ([]string, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	if dir := d.overrides(); dir != "" {
		for i, n := range names {
			o := path.Join(dir, path.Base(n))
			if _, err := fs.Stat(migrationFS, o); err == nil {
				names[i] = o
			}
		}
	}
	return names, nil
}

func migrationKey(file string) string { return "migrations/" + path.Base(file) }

// migrationSQL returns file's SQL as d runs it.
func migrationSQL(d migrator, file string) (string, error) {
	buf, err := fs.ReadFile(migrationFS, file)
	if err != nil {
		return "", err
	}
	return expand(d, string(buf))
}

// migrate applies the migrations not applied yet, each in a transaction
// of its own, on one connection that holds the engine's migration lock
// throughout.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.writer.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	unlock, err := db.dialect.lockMigrations(ctx, conn)
	if err != nil {
		return err
	}
	defer unlock()
	table, err := expand(db.dialect, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at {{INT64}} NOT NULL)`)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, table); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	files, err := migrationFiles(db.dialect)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := migrateFile(ctx, conn, db.dialect, f); err != nil {
			return fmt.Errorf("migration %s: %w", migrationKey(f), err)
		}
	}
	return nil
}

// rebuildMarker, a line of its own in a migration, says that it rebuilds
// a table other tables reference: the engine readies the connection for
// it (migrator.foreignKeysOff) and checks every reference before its
// commit (migrator.checkForeignKeys).
const rebuildMarker = "-- migrate: rebuilds a referenced table"

func migrateFile(ctx context.Context, conn *sqlx.Conn, d migrator, file string) (err error) {
	q, err := migrationSQL(d, file)
	if err != nil {
		return err
	}
	rebuilds := slices.Contains(strings.Split(q, "\n"), rebuildMarker)
	if rebuilds {
		on, err := d.foreignKeysOff(ctx, conn)
		if err != nil {
			return err
		}
		defer func() {
			if oerr := on(); oerr != nil && err == nil {
				err = oerr
			}
		}()
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	name := migrationKey(file)
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name); err != nil {
		return err
	} else if n != 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return err
	}
	if rebuilds {
		if err := d.checkForeignKeys(ctx, tx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, micros(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Migrations lists the migrations applied to the database, in order.
func (db *DB) Migrations(ctx context.Context) ([]string, error) {
	var names []string
	err := db.reader.SelectContext(ctx, &names, `SELECT name FROM migrations ORDER BY name`)
	return names, err
}
