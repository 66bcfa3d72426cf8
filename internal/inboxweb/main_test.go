package inboxweb_test

import (
	"os"
	"testing"

	"hotline/internal/pgtest"
)

// TestMain runs every test of the package on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
