package store

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/pgtest"
)

// Transitional: testdata/twins holds the migrations as they were written
// twice before they were written once. These tests show that nothing
// changes for a database: they go, with testdata/twins, once they pass.

// twinCode is a migration's SQL without comments and with its spacing
// collapsed.
func twinCode(sql string) string {
	var b strings.Builder
	for _, l := range strings.Split(sql, "\n") {
		l, _, _ = strings.Cut(l, "--")
		b.WriteString(l)
		b.WriteByte(' ')
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// TestExpansionIsTheTwins: every migration, as each dialect expands it
// (its override if it has one), is that engine's old twin, comments and
// spacing aside, under the same name.
func TestExpansionIsTheTwins(t *testing.T) {
	for _, tc := range []struct {
		d   migrator
		dir string
	}{{&sqliteDialect{}, "sqlite"}, {&postgresDialect{}, "postgres"}} {
		t.Run(tc.dir, func(t *testing.T) {
			files, err := migrationFiles(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			old, _ := filepath.Glob(filepath.Join("testdata/twins", tc.dir, "*.sql"))
			if len(files) != len(old) || len(old) == 0 {
				t.Fatalf("%d migrations, want the %d twins", len(files), len(old))
			}
			for i, f := range files {
				if got, want := path.Base(f), filepath.Base(old[i]); got != want {
					t.Fatalf("migration %d is %s, want %s", i, got, want)
				}
				sql, err := migrationSQL(tc.d, f)
				if err != nil {
					t.Fatal(err)
				}
				twin, err := os.ReadFile(old[i])
				if err != nil {
					t.Fatal(err)
				}
				if got, want := twinCode(sql), twinCode(string(twin)); got != want {
					t.Errorf("%s expands to\n%s\nwant\n%s", f, got, want)
				}
			}
		})
	}
}

// TestOldDatabaseHasNothingToApply builds a database with the twins, as
// the code before them did, and opens it: no migration is applied again,
// and its schema is the schema a new database gets.
func TestOldDatabaseHasNothingToApply(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t, filepath.Join(t.TempDir(), "old.db"))
	d, _ := newDialect(dsn)
	w, r, err := d.open()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	dir := "sqlite"
	if pgtest.OnPostgres() {
		dir = "postgres"
	}
	old, _ := filepath.Glob(filepath.Join("testdata/twins", dir, "*.sql"))
	table := `CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`
	if pgtest.OnPostgres() {
		table = `CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`
	}
	if _, err := w.Exec(table); err != nil {
		t.Fatal(err)
	}
	for i, f := range old {
		sql, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Exec(string(sql)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := w.Exec(`INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, "migrations/"+filepath.Base(f), i+1); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	d.close()

	db, err := Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var applied int
	if err := db.reader.Get(&applied, `SELECT COUNT(*) FROM migrations WHERE applied_at > ?`, len(old)); err != nil || applied != 0 {
		t.Fatalf("%d migrations applied again (%v), want none", applied, err)
	}
	names, err := db.Migrations(ctx)
	if err != nil || len(names) != len(old) {
		t.Fatalf("%d migrations recorded (%v), want %d", len(names), err, len(old))
	}
	fresh, err := Open(pgtest.DB(t, filepath.Join(t.TempDir(), "new.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	facts := sqliteSchemaFacts
	if pgtest.OnPostgres() {
		facts = postgresSchemaFacts
	}
	got, err := facts(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	want, err := facts(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("old database's schema\n%s\nwant the new one's\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
