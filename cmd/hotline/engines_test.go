package main

// The package's tests run once per engine (HOTLINE_TEST_ENGINE; see the
// Makefile's test target). On the PostgreSQL run every data directory a test uses is mapped to a database
// of its own through the defaultDatabase hook, so the same commands and
// the same Main run unchanged on either engine.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"hotline/internal/pgtest"
	"hotline/internal/store"
)

// envTestDatabase hands a child test process the database of its parent's
// data directory (on the parent's cluster).
const envTestDatabase = "HOTLINE_TEST_DATABASE"

var (
	pgDirsMu sync.Mutex
	pgDirs   = map[string]string{} // data dir → database, for copies
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(envTestDatabase); dsn != "" {
		defaultDatabase = func(string) string { return dsn }
	} else {
		sqlite := defaultDatabase
		defaultDatabase = func(dir string) string {
			if !pgtest.OnPostgres() {
				return sqlite(dir)
			}
			pgDirsMu.Lock()
			dsn, ok := pgDirs[dir]
			pgDirsMu.Unlock()
			if ok {
				return dsn
			}
			dsn, err := pgtest.Database(filepath.Clean(dir))
			if err != nil {
				panic(err)
			}
			return dsn
		}
	}
	// Each data dir's database starts as a copy of one migrated database:
	// migrating every one of them would double the pass's time. (Opening
	// migrates anyway, and finds nothing left to apply.)
	pgtest.Prepare = func(dsn string) error {
		db, err := store.Open(dsn)
		if err != nil {
			return err
		}
		return db.Close()
	}
	os.Exit(pgtest.Main(m))
}

// childEnv is the environment of a child test process working on dir:
// only the engine of this pass, and dir's database.
func childEnv(dir string) []string {
	return append(os.Environ(), pgtest.EnvEngine+"="+pgtest.Engine(), envTestDatabase+"="+defaultDatabase(dir))
}

// copyDatabase gives the data dir dst a copy of src's database, on
// PostgreSQL (a SQLite database is copied with the directory's files). No
// store may have src's database open.
func copyDatabase(t testing.TB, src, dst string) {
	t.Helper()
	if !pgtest.OnPostgres() {
		return
	}
	dsn := pgtest.Clone(t, defaultDatabase(src))
	pgDirsMu.Lock()
	pgDirs[dst] = dsn
	pgDirsMu.Unlock()
}

// emptyDatabase gives the data dir dir an empty PostgreSQL database (not
// a copy of the migrated template), e.g. to restore a dump into.
func emptyDatabase(t testing.TB, dir string) string {
	t.Helper()
	dsn := pgtest.NewDatabase(t)
	pgDirsMu.Lock()
	pgDirs[dir] = dsn
	pgDirsMu.Unlock()
	return dsn
}

// scanDatabase fails the test if any value of any table of dir's
// PostgreSQL database contains a canary: the PostgreSQL form of the scan of
// the SQLite files. Text and bytes are scanned as stored, numbers as their
// decimal text.
func scanDatabase(t testing.TB, dir string, canaries [][]byte) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, defaultDatabase(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables []string
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if rows.Err() != nil || len(tables) < 10 {
		t.Fatalf("tables %v: %v", tables, rows.Err())
	}
	values := 0
	for _, table := range tables {
		rows, err := conn.Query(ctx, `SELECT * FROM `+pgx.Identifier{table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		fields := rows.FieldDescriptions()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				var b []byte
				switch v := v.(type) {
				case nil:
					continue
				case []byte:
					b = v
				case string:
					b = []byte(v)
				default:
					b = fmt.Appendf(nil, "%v", v)
				}
				values++
				for _, c := range canaries {
					if len(c) > 0 && bytes.Contains(b, c) {
						t.Errorf("table %s column %s contains canary %q", table, fields[i].Name, c)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if values == 0 {
		t.Fatal("the database holds nothing")
	}
}
