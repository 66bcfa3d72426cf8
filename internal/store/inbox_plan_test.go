package store

import (
	"strings"
	"testing"
)

// TestInboxQueriesIndexed: the queries a counselor's inbox runs on every
// page — the queue (urgent first, then the nearest deadline), its filters,
// the counts by status and unread, a case by its uid, receipt or chat, its
// thread and its timeline — each find their rows through an index, never
// by scanning a table, so that a change to the tips' rows or indexes made
// for fewer pages per tip (issue 28) cannot cost the inbox a scan. A
// queue page must also come in index order (no sort of its own). SQLite's
// plans; PostgreSQL plans tables this small as sequential scans whatever
// the indexes, so its plans prove nothing.
func TestInboxQueriesIndexed(t *testing.T) {
	db := planDB(t)
	tips := `SELECT ` + tipColumns + ` FROM tips `
	queueOrder := ` ORDER BY urgent DESC, queue_due, id LIMIT 51`
	for _, tc := range []struct {
		name, query string
		want        string // a step the plan must have
		sorted      bool   // the order comes from the index
	}{
		{"queue", tips + `WHERE school_id = ?` + queueOrder, "USING INDEX tips_queue (school_id=?)", true},
		{"queue, next page", tips + `WHERE school_id = ? AND (urgent < ? OR (urgent = ? AND (queue_due > ? OR (queue_due = ? AND id > ?))))` + queueOrder, "USING INDEX tips_queue (school_id=?)", true},
		{"queue, urgent only", tips + `WHERE school_id = ? AND urgent = ?` + queueOrder, "USING INDEX tips_queue (school_id=? AND urgent=?)", true},
		{"queue, open cases", tips + `WHERE school_id = ? AND status IN ('new', 'acknowledged', 'investigating')` + queueOrder, "(school_id=?", false},
		{"queue, one status", tips + `WHERE school_id = ? AND status = ?` + queueOrder, "(school_id=?", false},
		{"counts by status", `SELECT status, COUNT(*) AS n FROM tips WHERE school_id = ? GROUP BY status`, "(school_id=?)", false},
		{"unread", `SELECT COUNT(*) FROM tips t LEFT JOIN tip_views v ON v.tip_id = t.id AND v.counselor_id = ?
			WHERE t.school_id = ? AND t.status IN ('new', 'acknowledged', 'investigating') AND t.last_reporter_at > COALESCE(v.viewed_at, 0)`, "(school_id=?", false},
		{"case by uid", tips + `WHERE uid = ? LIMIT 1`, "(uid=?)", false},
		{"case by receipt", tips + `WHERE receipt_mac = ? LIMIT 1`, "(receipt_mac=?)", false},
		{"cases of a chat", tips + qTipsByChat, "tips_chat (chat_mac=?)", false},
		{"thread", `SELECT ` + messageColumns + ` FROM messages WHERE tip_id = ? ORDER BY id`, "messages_tip (tip_id=?)", true},
		{"thread since", `SELECT ` + messageColumns + ` FROM messages WHERE tip_id = ? AND id > ? ORDER BY id`, "messages_tip (tip_id=? AND id>?)", true},
		{"timeline", `SELECT ` + eventColumns + ` FROM ledger WHERE tip_id = ? ORDER BY seq`, "(tip_id=?)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, db, tc.query)
			if !strings.Contains(plan, tc.want) {
				t.Errorf("plan:\n%s\nwant a step %q", plan, tc.want)
			}
			for _, step := range strings.Split(plan, "\n") {
				if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "CONSTANT ROW") {
					t.Errorf("plan:\n%s\nwant no scan: %q", plan, step)
				}
			}
			if tc.sorted && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("plan:\n%s\nwant the index's order, not a sort", plan)
			}
		})
	}
}
