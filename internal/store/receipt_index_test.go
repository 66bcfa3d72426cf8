package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
)

// receiptSchool files n chat tips (no receipt) and n web tips (receipt
// "r<i>"), each with a message, in a new school.
func receiptSchool(t *testing.T, db *DB, n int) (tipIDs []int64) {
	t.Helper()
	school := &hotline.School{Code: "no3", Name: "第三中学", District: "海淀区", PublicKey: []byte("pk")}
	err := db.Update(context.Background(), func(tx *Tx) error {
		if err := tx.CreateSchool(school, []byte("wrapped")); err != nil {
			return err
		}
		for i := range 2 * n {
			tip := &hotline.Tip{UID: fmt.Sprintf("t%d", i), SchoolID: school.ID, Alias: hotline.Alias{ZH: fmt.Sprintf("狐%d", i), EN: fmt.Sprintf("Fox %d", i)},
				Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal,
				ReporterKey: []byte(fmt.Sprintf("key-%d", i)), ReporterKeyVersion: 1}
			var receipt []byte
			var h *Handle
			if i < n {
				tip.Channel, tip.ReporterKey, tip.ReporterKeyVersion = hotline.ChannelTelegram, nil, 0
				h = &Handle{ChatMAC: []byte(fmt.Sprintf("chat-%d", i)), ChatSealed: []byte("sealed"), Lang: hotline.LangEN}
			} else {
				receipt = []byte(fmt.Sprintf("r%d", i))
			}
			if err := tx.InsertChatTip(tip, receipt, h); err != nil {
				return err
			}
			if err := tx.AddMessage(&SealedMessage{UID: fmt.Sprintf("m%d", i), TipID: tip.ID, Author: hotline.AuthorReporter, BodySealed: []byte("body"), SealVersion: 2}); err != nil {
				return err
			}
			tipIDs = append(tipIDs, tip.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tipIDs
}

// TestReceiptKeyUniqueWhereSet: after 0066 a receipt key is still unique
// among the tips that have one, any number of tips (the chats') have
// none, a receipt still finds its tip, and no index of tips holds the
// receipt key but the partial one: a chat tip writes no receipt entry.
func TestReceiptKeyUniqueWhereSet(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	ids := receiptSchool(t, db, 3)
	got, err := db.TipByReceiptMAC(ctx, []byte("r4"))
	if err != nil || got.ID != ids[4] {
		t.Fatalf("tip of receipt r4: %+v, %v; want tip %d", got, err, ids[4])
	}
	if _, err := db.TipByReceiptMAC(ctx, []byte("r1")); !errors.Is(err, hotline.ErrNotFound) {
		t.Errorf("an unknown receipt: %v, want ErrNotFound", err)
	}
	err = db.Update(ctx, func(tx *Tx) error {
		tip := &hotline.Tip{UID: "again", SchoolID: 1, Alias: hotline.Alias{ZH: "狐x", EN: "Fox x"}, Channel: hotline.ChannelWebchat,
			Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal}
		return tx.InsertTip(tip, []byte("r4"))
	})
	if err == nil || !db.dialect.isUnique(errors.Unwrap(err)) && !strings.Contains(strings.ToLower(err.Error()), "unique") {
		t.Errorf("a second tip with receipt r4: %v, want a unique key's refusal", err)
	}

	var indexes []string
	q := `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tips' AND sql IS NOT NULL`
	if pgtest.OnPostgres() {
		q = `SELECT indexdef FROM pg_indexes WHERE tablename = 'tips'`
	}
	if err := db.reader.SelectContext(ctx, &indexes, q); err != nil {
		t.Fatal(err)
	}
	var receipt []string
	for _, ix := range indexes {
		if strings.Contains(ix, "receipt_mac") {
			receipt = append(receipt, ix)
		}
	}
	if len(receipt) != 1 || !strings.Contains(receipt[0], "UNIQUE") || !strings.Contains(receipt[0], "IS NOT NULL") {
		t.Errorf("indexes of the receipt key: %q, want one, unique and partial", receipt)
	}
	if !pgtest.OnPostgres() {
		// The column's own UNIQUE would be an automatic index (no sql):
		// only uid's and the school's aliases' are left.
		var auto []string
		if err := db.reader.SelectContext(ctx, &auto, `SELECT name FROM pragma_index_list('tips') WHERE origin = 'u'`); err != nil {
			t.Fatal(err)
		}
		for _, name := range auto {
			var cols []string
			if err := db.reader.SelectContext(ctx, &cols, `SELECT name FROM pragma_index_info(?)`, name); err != nil {
				t.Fatal(err)
			}
			if slices.Contains(cols, "receipt_mac") {
				t.Errorf("%s still indexes receipt_mac", name)
			}
		}
		if len(auto) != 2 {
			t.Errorf("unique constraints of tips: %v, want uid's and (school_id, alias_zh)'s", auto)
		}
	}
}

// TestReceiptLookupIndexed: a receipt's log-in finds its tip through the
// partial index (a receipt key is never NULL).
func TestReceiptLookupIndexed(t *testing.T) {
	db := planDB(t)
	plan := queryPlan(t, db, `SELECT `+tipColumns+` FROM tips WHERE receipt_mac = ? LIMIT 1`)
	if want := "SEARCH tips USING INDEX tips_receipt (receipt_mac=?)"; !strings.Contains(plan, want) {
		t.Errorf("plan:\n%s\nwant a step %q", plan, want)
	}
}

// TestTipsRebuildKeepsRows: 0066 run on a school's tips keeps every
// column of every tip, its messages' references and its chats' handles;
// on SQLite the writer has its foreign keys on again after it, and they
// are enforced.
func TestTipsRebuildKeepsRows(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	ids := receiptSchool(t, db, 4)
	err := db.Update(ctx, func(tx *Tx) error {
		tip, err := tx.TipByID(ids[5])
		if err != nil {
			return err
		}
		tip.Status, tip.Urgent, tip.AssigneeID = hotline.StatusInvestigating, true, 0
		return tx.UpdateTip(tip)
	})
	if err != nil {
		t.Fatal(err)
	}
	dump := func() string {
		t.Helper()
		rows, err := db.reader.QueryxContext(ctx, `SELECT * FROM tips ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, m)
		}
		return b.String()
	}
	before := dump()
	// The database as it was before 0066: the receipt key unique by the
	// column's constraint (on PostgreSQL under another name than the one
	// it usually gets: 0066 finds it by its column).
	undo := `DROP INDEX tips_receipt`
	if pgtest.OnPostgres() {
		undo += `; ALTER TABLE tips ADD CONSTRAINT tips_receipt_old_name UNIQUE (receipt_mac)`
	}
	for _, q := range []string{undo, `DELETE FROM migrations WHERE name = 'migrations/0066_tips_receipt_partial.sql'`} {
		if _, err := db.writer.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if after := dump(); after != before {
		t.Errorf("tips after 0066:\n%s\nbefore:\n%s", after, before)
	}
	tips, err := db.TipsByChat(ctx, []byte("chat-2"))
	if err != nil || len(tips) != 1 || tips[0].ID != ids[2] {
		t.Errorf("chat-2's tips: %v, %v; want tip %d", tips, err, ids[2])
	}
	var n int
	if err := db.reader.GetContext(ctx, &n, `SELECT COUNT(*) FROM messages m JOIN tips t ON t.id = m.tip_id`); err != nil || n != len(ids) {
		t.Errorf("messages with their tips: %d, %v; want %d", n, err, len(ids))
	}
	if !pgtest.OnPostgres() {
		if err := db.writer.GetContext(ctx, &n, `PRAGMA foreign_keys`); err != nil || n != 1 {
			t.Errorf("the writer's foreign keys after the rebuild: %d, %v; want 1 (on)", n, err)
		}
	}
	err = db.Update(ctx, func(tx *Tx) error {
		return tx.AddMessage(&SealedMessage{UID: "orphan", TipID: ids[len(ids)-1] + 100, Author: hotline.AuthorReporter, BodySealed: []byte("x"), SealVersion: 2})
	})
	if err == nil {
		t.Error("a message of no tip went in: foreign keys are not enforced")
	}
}

// TestRebuildCheckFindsOrphans: the check a rebuild's migration runs
// before its commit refuses a reference left without its row, and the
// writer's foreign keys are back on after it.
func TestRebuildCheckFindsOrphans(t *testing.T) {
	ctx := context.Background()
	if pgtest.OnPostgres() {
		t.Skip("PostgreSQL keeps references checked in its DDL")
	}
	db := openDB(t)
	ids := receiptSchool(t, db, 1)
	conn, err := db.writer.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	on, err := db.dialect.foreignKeysOff(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE tip_id = ?`, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.dialect.checkForeignKeys(ctx, tx); err != nil {
		t.Errorf("nothing dangling: %v", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tips WHERE id = ?`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := db.dialect.checkForeignKeys(ctx, tx); err == nil || !strings.Contains(err.Error(), "messages") {
		t.Errorf("a tip deleted under its message: %v, want the check to name messages", err)
	}
	tx.Rollback()
	if err := on(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.GetContext(ctx, &n, `PRAGMA foreign_keys`); err != nil || n != 1 {
		t.Errorf("foreign keys after: %d, %v; want 1", n, err)
	}
}
