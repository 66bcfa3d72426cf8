package relay

import (
	"os"
	"testing"

	"hotline/internal/pgtest"
)

// The relay's tests run on SQLite, then on PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
