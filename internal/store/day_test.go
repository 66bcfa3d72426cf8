package store_test

import (
	"context"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestCounselorDaySQL runs the SQL of saved replies, the audit trail and
// the queue's alias and date filters on the engine under test.
func TestCounselorDaySQL(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a, b := mustSchool(t, db, "sa"), mustSchool(t, db, "sb")

	// Saved replies: one school's, never the other's.
	r := &store.SavedReply{SchoolID: a.ID, Lang: hotline.LangEN, Title: "Thanks", Body: "Thank you."}
	zh := &store.SavedReply{SchoolID: a.ID, Lang: hotline.LangZH, Title: "感谢", Body: "谢谢你。"}
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSavedReply(r); err != nil {
			return err
		}
		return tx.InsertSavedReply(zh)
	})
	if err != nil || r.ID == 0 || zh.ID == 0 {
		t.Fatalf("insert: %v, ids %d %d", err, r.ID, zh.ID)
	}
	list, err := db.SavedReplies(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != zh.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := db.SavedReply(ctx, b.ID, r.ID); hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another school's reply: %v", err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSavedReply(b.ID, r.ID) })
	if hotline.ErrorCode(err) != hotline.ENOTFOUND {
		t.Fatalf("another school deletes: %v", err)
	}

	// Tips with aliases that hold LIKE's wildcards, received on two days.
	day1 := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	tips := []*hotline.Tip{
		{UID: "t1", SchoolID: a.ID, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}, CreatedAt: day1},
		{UID: "t2", SchoolID: a.ID, Alias: hotline.Alias{ZH: "红_鹿", EN: "Red 100% Deer"}, CreatedAt: day1.Add(24 * time.Hour)},
		{UID: "t3", SchoolID: b.ID, Alias: hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}, CreatedAt: day1},
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		for _, tp := range tips {
			tp.Channel, tp.Role, tp.Status, tp.Severity, tp.Category = hotline.ChannelMailbox, hotline.ReporterVictim, hotline.StatusNew, hotline.SeverityUnassessed, hotline.CategoryOther
			if err := tx.InsertTip(tp, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	uids := func(f hotline.TipFilter) []string {
		t.Helper()
		f.SchoolID = a.ID
		got, _, err := db.Queue(ctx, f, day1)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tp := range got {
			out = append(out, tp.UID)
		}
		return out
	}
	for _, c := range []struct {
		f    hotline.TipFilter
		want string
	}{
		{hotline.TipFilter{Alias: "fox"}, "t1"},
		{hotline.TipFilter{Alias: "蓝"}, "t1"},
		{hotline.TipFilter{Alias: "_"}, "t2"},
		{hotline.TipFilter{Alias: "100%"}, "t2"},
		{hotline.TipFilter{Alias: "%"}, "t2"},
		{hotline.TipFilter{From: day1.Add(12 * time.Hour)}, "t2"},
		{hotline.TipFilter{To: day1.Add(12 * time.Hour)}, "t1"},
	} {
		if got := uids(c.f); len(got) != 1 || got[0] != c.want {
			t.Errorf("%+v: got %v, want [%s]", c.f, got, c.want)
		}
	}

	// The audit trail: appended, read by school and by district, a view
	// found again within its window.
	err = db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditCaseOpened, SchoolID: a.ID, District: "海淀区", TipID: tips[0].ID, CounselorID: 0, Client: "Chrome/Android"}); err != nil {
			return err
		}
		return tx.AppendAudit(&hotline.AuditEntry{Kind: hotline.AuditExport, District: "海淀区", Client: "cli", Detail: "summary.csv"})
	})
	if err != nil {
		t.Fatal(err)
	}
	es, err := db.Audit(ctx, store.AuditFilter{SchoolID: a.ID})
	if err != nil || len(es) != 1 || es[0].Alias.ZH != "蓝狐" || es[0].SchoolName == "" || es[0].Client != "Chrome/Android" {
		t.Fatalf("school audit: %v %+v", err, es)
	}
	if es, err := db.Audit(ctx, store.AuditFilter{District: "海淀区", Kind: hotline.AuditExport}); err != nil || len(es) != 1 || es[0].Detail != "summary.csv" {
		t.Fatalf("district audit: %v %+v", err, es)
	}
	if es, _ := db.Audit(ctx, store.AuditFilter{SchoolID: b.ID}); len(es) != 0 {
		t.Fatalf("school b reads %d entries", len(es))
	}
	if _, err := db.Audit(ctx, store.AuditFilter{}); err == nil {
		t.Fatal("an audit read without a school or district")
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		seen, err := tx.OpenedSince(0, tips[0].ID, tx.Now().Add(-time.Hour))
		if err == nil && !seen {
			t.Error("the view is not found within its window")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
