package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestInsertTipPicksFreeAlias: the tip's INSERT takes the first candidate
// no tip of its school uses (another school's do not count), refuses with
// ErrAliasTaken when every candidate is taken and leaves the transaction
// usable for the next round, writes the row as InsertChatTip does, and
// refuses a submission that filed its tip already (ErrSubmissionFiled).
// fixedNow is a deadline to find again in the stored row.
var fixedNow = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func TestInsertTipPicksFreeAlias(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	a, b := mustSchool(t, db, "aa"), mustSchool(t, db, "bb")
	taken := []hotline.Alias{{ZH: "蓝狐", EN: "Blue Fox"}, {ZH: "红熊", EN: "Red Bear"}}
	err := db.Update(ctx, func(tx *store.Tx) error {
		for i, al := range taken {
			tip := newTip(a.ID, fmt.Sprintf("t%d", i), false, fixedNow)
			tip.Alias = al
			if err := tx.InsertTip(tip, nil); err != nil {
				return err
			}
		}
		// School b uses the free name: it does not count for a.
		tip := newTip(b.ID, "b0", false, fixedNow)
		tip.Alias = hotline.Alias{ZH: "绿鹿", EN: "Green Deer"}
		return tx.InsertTip(tip, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	var picked *hotline.Tip
	err = db.Update(ctx, func(tx *store.Tx) error {
		all := newTip(a.ID, "all-taken", false, fixedNow)
		if err := tx.InsertChatTipAlias(all, nil, nil, taken, nil); !errors.Is(err, store.ErrAliasTaken) {
			return fmt.Errorf("every candidate taken: got %v, want ErrAliasTaken", err)
		}
		// The same transaction goes on with the next round.
		picked = newTip(a.ID, "picked", false, fixedNow)
		cands := append(append([]hotline.Alias{}, taken...), hotline.Alias{ZH: "绿鹿", EN: "Green Deer"}, hotline.Alias{ZH: "金鹰", EN: "Golden Hawk"})
		return tx.InsertChatTipAlias(picked, nil, nil, cands, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if picked.Alias.ZH != "绿鹿" && picked.Alias.ZH != "金鹰" {
		t.Fatalf("picked %+v, want a free candidate", picked.Alias)
	}
	got, err := db.TipByUID(ctx, "picked")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != picked.ID || got.Alias != picked.Alias || got.SchoolID != a.ID || got.Status != hotline.StatusNew || !got.AckDue.Equal(fixedNow) || got.AssessDue.IsZero() {
		t.Fatalf("stored tip: got %+v, want id %d, alias %+v, its school, status and deadlines", got, picked.ID, picked.Alias)
	}
	if _, err := db.TipByUID(ctx, "all-taken"); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("tip refused for its alias: got %v, want not found", err)
	}

	// A submission that filed its tip: a second filing inserts nothing
	// and says so, whatever the names; a new submission files.
	mac := []byte("submission-mac-0001")
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.InsertSubmission(mac, picked.ID, nil, fixedNow) })
	if err != nil {
		t.Fatal(err)
	}
	free := []hotline.Alias{{ZH: "紫鹤", EN: "Purple Crane"}}
	for _, al := range [][]hotline.Alias{free, taken} {
		err = db.Update(ctx, func(tx *store.Tx) error {
			return tx.InsertChatTipAlias(newTip(a.ID, "again", false, fixedNow), nil, nil, al, mac)
		})
		if !errors.Is(err, store.ErrSubmissionFiled) {
			t.Fatalf("filed submission with candidates %v: got %v, want ErrSubmissionFiled", al, err)
		}
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		return tx.InsertChatTipAlias(newTip(a.ID, "new-sub", false, fixedNow), nil, nil, free, []byte("submission-mac-0002"))
	})
	if err != nil {
		t.Fatalf("a new submission: %v", err)
	}
	if _, err := db.TipByUID(ctx, "again"); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("tip of a filed submission: got %v, want not found", err)
	}
}
