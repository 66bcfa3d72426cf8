package store

import (
	"context"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hotline/internal/pgtest"
)

// recordedNames are migrations that databases in the field have recorded
// as applied, by these names: renaming one would apply it again. Append
// to it, never change it.
var recordedNames = []string{
	"migrations/0001_init.sql",
	"migrations/0003_inbox.sql",
	"migrations/0004_oversight.sql",
	"migrations/0005_due_indexes.sql",
	"migrations/0006_drop_ledger_school.sql",
	"migrations/0007_ledger_verified.sql",
	"migrations/0008_outbox_held.sql",
	"migrations/0009_urgent_path.sql",
	"migrations/0010_crypto_binding.sql",
	"migrations/0011_case_deadlines.sql",
	"migrations/0012_login_hardening.sql",
	"migrations/0013_urgency_feedback.sql",
	"migrations/0014_handled_updates.sql",
	"migrations/0015_submission_id.sql",
	"migrations/0016_webchat_applied.sql",
	"migrations/0017_ledger_checkpoints.sql",
	"migrations/0018_ledger_head.sql",
	"migrations/0019_school_name_en.sql",
	"migrations/0020_staff_sessions.sql",
	"migrations/0021_outbox_claims.sql",
	"migrations/0022_saved_replies.sql",
	"migrations/0023_audit.sql",
	"migrations/0024_surveys.sql",
	"migrations/0025_survey_measures.sql",
	"migrations/0026_wechat.sql",
	"migrations/0028_without_rowid.sql",
	"migrations/0029_fewer_indexes.sql",
	"migrations/0030_alert_ladder.sql",
	"migrations/0031_alert_keys.sql",
	"migrations/0040_login_counters.sql",
	"migrations/0041_survey_publication.sql",
}

// TestRecordedNamesKept: a database made before keeps finding its
// migrations under the names it recorded, and a new one records them
// under the same names, on each engine.
func TestRecordedNamesKept(t *testing.T) {
	db, err := Open(pgtest.DB(t, filepath.Join(t.TempDir(), "h.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	names, err := db.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range recordedNames {
		if !slices.Contains(names, n) {
			t.Errorf("%s is not among the applied migrations %v", n, names)
		}
	}
}

// engineSpelling is SQL that only one engine takes: a common migration
// says it with a token, or leaves it to an override file.
var engineSpelling = regexp.MustCompile(`(?i)\b(BLOB|BYTEA|BIGINT|BIGSERIAL|SERIAL|GENERATED|IDENTITY|AUTOINCREMENT|WITHOUT\s+ROWID|zeroblob|randomblob|json_extract|jsonb|ILIKE)\b|::`)

// TestCommonMigrationsAreCommon: a migration that every engine runs as
// written spells no type or function one engine's way; and every token in
// any migration is one both dialects know.
func TestCommonMigrationsAreCommon(t *testing.T) {
	overridden := map[string]bool{}
	for _, d := range []migrator{&sqliteDialect{}, &postgresDialect{}} {
		files, err := migrationFiles(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if path.Dir(f) != "migrations" {
				overridden[path.Base(f)] = true
			}
			if _, err := migrationSQL(d, f); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	common, _ := fs.Glob(migrationFS, "migrations/*.sql")
	for _, f := range common {
		if overridden[path.Base(f)] {
			continue
		}
		b, _ := fs.ReadFile(migrationFS, f)
		for i, l := range strings.Split(string(b), "\n") {
			l, _, _ = strings.Cut(token.ReplaceAllString(l, ""), "--")
			if m := engineSpelling.FindString(l); m != "" {
				t.Errorf("%s:%d: %q is one engine's SQL: use a token (migrations/README.md) or an override file", f, i+1, m)
			}
		}
	}
}

func TestExpandRefusesUnknownTokens(t *testing.T) {
	for _, d := range []migrator{&sqliteDialect{}, &postgresDialect{}} {
		if got, err := expand(d, "a {{INT64}} b"); err != nil || strings.Contains(got, "{{") {
			t.Errorf("expand known token = %q, %v", got, err)
		}
		if got, err := expand(d, "x {{UUID}} y"); err == nil {
			t.Errorf("expand unknown token = %q, want an error", got)
		}
	}
}
