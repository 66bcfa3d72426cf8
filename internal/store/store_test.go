package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/store"
	"hotline/internal/testsupport"
)

// MustOpenDB opens a fresh database in a temp dir and closes it at the end.
func MustOpenDB(tb testing.TB) *store.DB {
	tb.Helper()
	db := testsupport.OpenStore(tb)
	return db
}

func mustSchool(tb testing.TB, db *store.DB, code string) *hotline.School {
	tb.Helper()
	s := &hotline.School{Code: code, Name: "第三中学 " + code, District: "海淀区", PublicKey: []byte("pk")}
	if err := db.Update(context.Background(), func(tx *store.Tx) error { return tx.CreateSchool(s, []byte("wrapped")) }); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestReopenKeepsSchemaAndData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db, err := store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	mustSchool(t, db, "demo")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(pgtest.DB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.SchoolByCode(context.Background(), "DEMO ")
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "第三中学 demo" {
		t.Fatalf("name = %q", s.Name)
	}
}

func TestSchoolCodeRules(t *testing.T) {
	db := MustOpenDB(t)
	for _, code := range []string{"a", "has space", "中文", "x/y", "toolongtoolongtoolongtoolongtoolong"} {
		err := db.Update(context.Background(), func(tx *store.Tx) error {
			return tx.CreateSchool(&hotline.School{Code: code, Name: "x", PublicKey: []byte("k")}, []byte("w"))
		})
		if hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("code %q: got %v, want EINVALID", code, err)
		}
	}
	mustSchool(t, db, "no3")
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		return tx.CreateSchool(&hotline.School{Code: "no3", Name: "x", PublicKey: []byte("k")}, []byte("w"))
	})
	if hotline.ErrorCode(err) != hotline.ECONFLICT {
		t.Errorf("duplicate code: got %v, want ECONFLICT", err)
	}
}

func newTip(schoolID int64, uid string, urgent bool, due time.Time) *hotline.Tip {
	return &hotline.Tip{UID: uid, SchoolID: schoolID, Alias: hotline.Alias{ZH: "狐" + uid, EN: "Fox " + uid}, Channel: hotline.ChannelWebchat,
		Role: hotline.ReporterVictim, Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryVerbal,
		Urgent: urgent, AckDue: due}
}

func TestQueueOrderAndKeysetPagination(t *testing.T) {
	db := MustOpenDB(t)
	a, b := mustSchool(t, db, "aa"), mustSchool(t, db, "bb")
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var want []string
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		// 30 tips in school a: every 5th urgent, deadlines shuffled.
		for i := 0; i < 30; i++ {
			due := base.Add(time.Duration((i*7)%30) * time.Hour)
			if err := tx.InsertTip(newTip(a.ID, fmt.Sprintf("a%02d", i), i%5 == 0, due), nil); err != nil {
				return err
			}
		}
		return tx.InsertTip(newTip(b.ID, "b00", true, base), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := db.Queue(context.Background(), hotline.TipFilter{SchoolID: a.ID, Limit: 100}, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 30 {
		t.Fatalf("got %d tips, want 30", len(all))
	}
	for i, tip := range all {
		want = append(want, tip.UID)
		if i == 0 {
			continue
		}
		prev := all[i-1]
		if prev.Urgent != tip.Urgent {
			if !prev.Urgent {
				t.Fatalf("non-urgent %s before urgent %s", prev.UID, tip.UID)
			}
			continue
		}
		if tip.AckDue.Before(prev.AckDue) {
			t.Fatalf("%s (due %v) after %s (due %v)", tip.UID, tip.AckDue, prev.UID, prev.AckDue)
		}
	}
	var got []string
	var cursor *hotline.QueueCursor
	for pages := 0; ; pages++ {
		page, next, err := db.Queue(context.Background(), hotline.TipFilter{SchoolID: a.ID, Limit: 7, After: cursor}, base)
		if err != nil {
			t.Fatal(err)
		}
		for _, tip := range page {
			if tip.SchoolID != a.ID {
				t.Fatalf("tip of school %d in school %d's queue", tip.SchoolID, a.ID)
			}
			got = append(got, tip.UID)
		}
		if next == nil {
			break
		}
		cursor = next
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged order\n got %v\nwant %v", got, want)
	}
	overdue, _, err := db.Queue(context.Background(), hotline.TipFilter{SchoolID: a.ID, Overdue: true, Limit: 100}, base.Add(3*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(overdue) != 4 { // due at +0h, +1h, +2h, +3h
		t.Fatalf("overdue: got %d, want 4", len(overdue))
	}
}

func TestFailingJobRollsBackAloneInGroupCommit(t *testing.T) {
	db := MustOpenDB(t)
	s := mustSchool(t, db, "gc")
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(context.Background(), func(tx *store.Tx) error {
				if err := tx.InsertTip(newTip(s.ID, fmt.Sprintf("t%03d", i), false, time.Time{}), nil); err != nil {
					return err
				}
				if i%3 == 0 {
					return errors.New("job fails after its insert")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i%3 == 0) != (err != nil) {
			t.Fatalf("job %d: err = %v", i, err)
		}
	}
	tips, err := db.Tips(context.Background(), `WHERE school_id = ?`, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tips) != 66 {
		t.Fatalf("got %d tips, want 66 (every third job rolled back)", len(tips))
	}
	if st := db.Stats(); st.Commits >= 100 {
		t.Logf("no grouping happened: %+v", st)
	}
}

func TestAliasUniqueWithinSchool(t *testing.T) {
	db := MustOpenDB(t)
	a, b := mustSchool(t, db, "aa"), mustSchool(t, db, "bb")
	ins := func(school int64, uid string) error {
		return db.Update(context.Background(), func(tx *store.Tx) error {
			tip := newTip(school, uid, false, time.Time{})
			tip.Alias = hotline.Alias{ZH: "蓝狐", EN: "Blue Fox"}
			return tx.InsertTip(tip, nil)
		})
	}
	if err := ins(a.ID, "1"); err != nil {
		t.Fatal(err)
	}
	if err := ins(b.ID, "2"); err != nil {
		t.Fatalf("same alias in another school: %v", err)
	}
	if err := ins(a.ID, "3"); !errors.Is(err, store.ErrAliasTaken) {
		t.Fatalf("got %v, want ErrAliasTaken", err)
	}
}
