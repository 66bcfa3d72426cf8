package store

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"hotline/internal/pgtest"
)

// A database made before 0028/0029, with rows in every table they
// rebuild, keeps those rows through them, and the rebuilt tables are
// WITHOUT ROWID with their indexes (the web chat's two, since carried
// into handled_updates by 0065).
func TestMigrationsWithoutRowidKeepRows(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("WITHOUT ROWID and the rebuilt tables are SQLite's; PostgreSQL's 0028 does nothing")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old := &DB{Path: path}
	var err error
	if old.writer, err = sqlx.Open("sqlite3", sqliteDSN(path, url.Values{"_txlock": {"immediate"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := old.writer.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	conn, err := old.writer.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lite := &sqliteDialect{}
	names, err := migrationFiles(lite)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if n >= "migrations/0028" {
			break
		}
		if err := migrateFile(ctx, conn, lite, n); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO schools (id, code, name, public_key, recovery_wrapped, created_at) VALUES (1, 'no3', 'x', x'00', x'00', 1)`,
		`INSERT INTO tips (id, uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category, created_at, updated_at, queue_due) VALUES (1, 't1', 1, 'a', 'a', 'webchat', 'victim', 'new', 'unassessed', 'other', 1, 1, 5)`,
		`INSERT INTO submissions (submission_mac, tip_id, receipt_sealed, receipt_until) VALUES (x'0102', 1, x'aa', 99)`,
		`INSERT INTO handled_updates (key, handled_at) VALUES ('tg:1', 7)`,
		`INSERT INTO webchat_applied (session_mac, client_id, applied_at) VALUES (x'03', 'c1', 8)`,
		`INSERT INTO form_tokens_used (token_mac, expires_at) VALUES (x'04', 9)`,
	} {
		if _, err := old.writer.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	old.writer.Close()

	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	for _, q := range []string{
		`SELECT COUNT(*) FROM submissions WHERE submission_mac = x'0102' AND tip_id = 1 AND receipt_sealed = x'aa' AND receipt_until = 99`,
		`SELECT COUNT(*) FROM handled_updates WHERE key = 'tg:1' AND handled_at = 7`,
		// 0065 carried the web chat's two tables into handled_updates.
		`SELECT COUNT(*) FROM handled_updates WHERE key = 'web:03:c1' AND handled_at = 8`,
		`SELECT COUNT(*) FROM handled_updates WHERE key = 'mbs:04' AND handled_at = 9`,
		`SELECT COUNT(*) = 2 FROM sqlite_schema WHERE type = 'index' AND name IN ('submissions_pending', 'handled_updates_at')`,
	} {
		if err := db.Reader().Get(&n, q); err != nil || n != 1 {
			t.Errorf("%s: %d, %v", q, n, err)
		}
	}
	for _, table := range []string{"submissions", "handled_updates"} {
		var sql string
		if err := db.Reader().Get(&sql, `SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`, table); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ToUpper(sql), "WITHOUT ROWID") {
			t.Errorf("%s is not WITHOUT ROWID: %s", table, sql)
		}
	}
	if err := db.Reader().Get(&n, `SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('tips_due', 'submissions_tip', 'submissions_receipt_until')`); err != nil || n != 0 {
		t.Errorf("dropped indexes still there: %d, %v", n, err)
	}
	if got, err := db.IntegrityCheck(ctx); err != nil || got != "ok" {
		t.Fatalf("integrity: %q %v", got, err)
	}
}
