package intake_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/intake"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// TestAliasWidensWhenNamesRunOut: a school whose every plain name is
// taken still files reports, each under a numbered alias of its own: the
// tip's INSERT finds no free candidate in the first rounds and the
// following rounds widen the numbered range.
func TestAliasWidensWhenNamesRunOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub := func(i int) *hotline.Submitted {
		t.Helper()
		out, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{fmt.Sprintf("他们抢我的东西 %d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// The first report warms the school's cached count (about 1), so the
	// next ones start with plain names only.
	first := sub(0)
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		for i, a := range intake.PlainAliases() {
			if a == first.Alias {
				continue
			}
			tip := &hotline.Tip{UID: vault.NewID(), SchoolID: e.school.School.ID, Alias: a, Channel: hotline.ChannelWebchat, Role: hotline.ReporterOther,
				Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryOther, AckDue: tx.Now().Add(time.Duration(i) * time.Minute)}
			if err := tx.InsertTip(tip, nil); err != nil {
				return fmt.Errorf("fill %s: %w", a.EN, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[hotline.Alias]bool{}
	plain := map[hotline.Alias]bool{}
	for _, a := range intake.PlainAliases() {
		plain[a] = true
	}
	for i := 1; i <= 6; i++ {
		a := sub(i).Alias
		if plain[a] || seen[a] || a.ZH == "" || a.EN == "" {
			t.Fatalf("report %d: got alias %+v, want a numbered one not used before (seen %v)", i, a, seen)
		}
		seen[a] = true
	}
}

// TestRepeatedSubmissionsAtOnce: one submission sent many times at once
// (a page retrying, two nodes), among other reports, so that the
// filings share group commits: the submission's key in the transaction
// decides, without a look-up before it. One tip is filed; every other
// call is answered with it, marked repeated; the other reports are filed
// as usual, and each call's record commits once.
func TestRepeatedSubmissionsAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const same, others = 8, 8
	var mu sync.Mutex
	records := 0
	results := make([]*hotline.Submitted, same+others)
	errs := make([]error, same+others)
	var wg sync.WaitGroup
	for i := range same + others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"同桌天天推我 MARKER-SAME-5521"},
				SubmissionID: "same-submission-0001", PageSecret: "page-secret-same-00000000000",
				Record: func(context.Context, *hotline.Submitted) error {
					mu.Lock()
					records++
					mu.Unlock()
					return nil
				}}
			if i >= same {
				s.SubmissionID, s.Texts = fmt.Sprintf("other-%d", i), []string{fmt.Sprintf("MARKER-OTHER-%d", i)}
			}
			results[i], errs[i] = e.intake.Submit(ctx, s)
		}()
	}
	wg.Wait()
	firsts := 0
	for i := range same {
		if errs[i] != nil {
			t.Fatalf("submission %d: %v", i, errs[i])
		}
		if results[i].TipUID != results[0].TipUID || results[i].Alias != results[0].Alias {
			t.Fatalf("submission %d: got tip %s %+v, want %s %+v", i, results[i].TipUID, results[i].Alias, results[0].TipUID, results[0].Alias)
		}
		if !results[i].Repeated {
			firsts++
			if results[i].Receipt == "" {
				t.Fatalf("the filing answer: got no receipt")
			}
		} else if results[i].Receipt != "" {
			t.Fatalf("a repeated answer carries a receipt")
		}
	}
	if firsts != 1 {
		t.Fatalf("answers not marked repeated: got %d, want 1", firsts)
	}
	for i := same; i < same+others; i++ {
		if errs[i] != nil || results[i].Repeated {
			t.Fatalf("other report %d: got %+v, %v", i, results[i], errs[i])
		}
		if n := countMarker(t, e, fmt.Sprintf("MARKER-OTHER-%d", i)); n != 1 {
			t.Fatalf("other report %d filed %d times, want 1", i, n)
		}
	}
	if n := countMarker(t, e, "MARKER-SAME-5521"); n != 1 {
		t.Fatalf("tips with the marker: got %d, want 1", n)
	}
	if records != same+others {
		t.Fatalf("records: got %d, want %d (one per call)", records, same+others)
	}
}

// TestNewTipTakesDistrictDeadline: the district's assessment time, read
// with the school (not in the tip's transaction), is the new tip's.
func TestNewTipTakesDistrictDeadline(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	err := e.db.Update(ctx, func(tx *store.Tx) error {
		return tx.SetDistrictDeadlines(e.school.School.District, hotline.CaseDeadlines{Assess: hotline.Duration(48 * time.Hour)})
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"有人在厕所堵我"}})
	if err != nil {
		t.Fatal(err)
	}
	tip, err := e.db.TipByUID(ctx, out.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tip.AssessDue.Sub(tip.CreatedAt), 48*time.Hour; got != want {
		t.Fatalf("assessment due after %v, want the district's %v", got, want)
	}
}
