package store_test

import (
	"testing"

	"hotline/internal/pgtest"
)

// TestSQLiteWriterCache: the writer's page cache holds the b-tree leaves a
// tip inserts into (64 MiB), not SQLite's default 2 MiB, which a school's
// tables outgrow: every tip then read its leaves from the file again.
func TestSQLiteWriterCache(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("PostgreSQL's buffers are the server's")
	}
	db := MustOpenDB(t)
	var kib int
	if err := db.Writer().Get(&kib, `PRAGMA cache_size`); err != nil {
		t.Fatal(err)
	}
	if kib != -64<<10 {
		t.Fatalf("writer cache_size = %d, want %d (64 MiB)", kib, -64<<10)
	}
}
