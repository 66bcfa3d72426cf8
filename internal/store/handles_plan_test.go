package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/pgtest"
)

// TestHandleQueriesIndexed: every statement on the chats' handles finds
// its tips by their id or by the chats' partial index, never by a scan —
// the chat handles stay indexed after 0057 moved them into the tips.
// SQLite's plans (EXPLAIN QUERY PLAN); PostgreSQL plans tables this small
// as sequential scans whatever the indexes, so its plans prove nothing.
func TestHandleQueriesIndexed(t *testing.T) {
	db := planDB(t)
	byTip, byChat := "SEARCH tips USING INTEGER PRIMARY KEY (rowid=?)", "SEARCH tips USING INDEX tips_chat (chat_mac=?)"
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"handle by tip", qHandleByTip, []string{byTip}},
		{"chat of a tip", qHandleChat, []string{byTip}},
		{"tips of a chat", `SELECT ` + tipColumns + ` FROM tips ` + qTipsByChat, []string{byChat}},
		{"unlink a chat", qDeleteHandles, []string{byChat}},
		{"chat blocked the bot", qHandlesUndeliverable, []string{byChat}},
		{"chat revived", qReviveHandles, []string{byChat}},
		{"chat's language", qHandlesLang, []string{byChat}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, db, tc.query)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("plan:\n%s\nwant a step %q", plan, w)
				}
			}
			if strings.Contains(plan, "SCAN") {
				t.Errorf("plan:\n%s\nwant no scan", plan)
			}
		})
	}
}

// TestNewTipProbesIndexed: a new tip's INSERT (qInsertTipPick) tests each
// candidate alias by one probe of the school's alias key, the submission
// by its key, and asks the chat's handles and held replies by their
// chat's indexes: none of its tables is scanned.
func TestNewTipProbesIndexed(t *testing.T) {
	db := planDB(t)
	plan := queryPlan(t, db, qInsertTipPick)
	for _, w := range []string{
		"SEARCH u USING COVERING INDEX sqlite_autoindex_tips_",
		"(school_id=? AND alias_zh=?)",
		"SEARCH f USING PRIMARY KEY (submission_mac=?)",
		"SEARCH o USING INDEX tips_chat (chat_mac=?)",
		"SEARCH x USING INDEX outbox_chat (chat_mac=?)",
	} {
		if !strings.Contains(plan, w) {
			t.Errorf("plan:\n%s\nwant a step %q", plan, w)
		}
	}
	// The plan also lists the foreign-key checks an upsert could need
	// (child tables of tips, some scanned): ON CONFLICT DO NOTHING never
	// runs them. The statement's own tables are never scanned.
	for _, step := range strings.Split(plan, "\n") {
		for _, scan := range []string{"SCAN u", "SCAN f", "SCAN o", "SCAN x", "SCAN tips", "SCAN outbox"} {
			if step == scan || strings.HasPrefix(step, scan+" ") {
				t.Errorf("plan:\n%s\nscans: %q", plan, step)
			}
		}
	}
}

// planDB opens a SQLite database to read query plans from, skipping the
// test on PostgreSQL, which plans tables this small as sequential scans
// whatever the indexes.
func planDB(t *testing.T) *DB {
	t.Helper()
	if pgtest.OnPostgres() {
		t.Skip("SQLite's query plans")
	}
	return openDB(t)
}

// openDB opens a fresh, migrated database on the engine of the run, closed
// when the test ends.
func openDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(pgtest.DB(t, filepath.Join(t.TempDir(), "h.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of query, one step a line; its
// parameters are bound to NULL, which does not change the plan.
func queryPlan(t *testing.T, db *DB, query string) string {
	t.Helper()
	args := make([]any, strings.Count(query, "?"))
	rows, err := db.reader.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(steps, "\n")
}
