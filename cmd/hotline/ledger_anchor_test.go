package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/ledger"
	"hotline/internal/staff"
	"hotline/internal/store"
)

// TestLedgerVerifyWithHeadsHeldOutside: a report filed after the newest
// recorded head and erased within minutes. Erasing its events (not its
// case) fails `ledger verify` by itself; erasing the case with them leaves
// a whole chain, and only a head held outside proves it: the short form
// from the register (--head) or the bureau's webhook bodies (--heads).
func TestLedgerVerifyWithHeadsHeldOutside(t *testing.T) {
	ctx := context.Background()
	m := MustOpenMain(t)
	dir := m.Config.DataDir
	if _, err := m.Staff.CreateSchool(ctx, staff.NewSchool{Code: "no3", Name: "第三中学", District: "", AdminUsername: "admin-no3"}); err != nil {
		t.Fatal(err)
	}
	submit := func(text string) *hotline.Submitted {
		sub, err := m.Intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Role: hotline.ReporterVictim,
			Category: hotline.CategoryVerbal, Lang: hotline.LangZH, Texts: []string{text}})
		if err != nil {
			t.Fatal(err)
		}
		return sub
	}
	submit("第一份报告")
	if err := m.DB.Update(ctx, func(tx *store.Tx) error { _, err := tx.RecordCheckpoint(); return err }); err != nil {
		t.Fatal(err)
	}
	erased := submit("要被删掉的报告")
	tip, err := m.DB.TipByUID(ctx, erased.TipUID)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := m.DB.TipEvents(ctx, tip.ID)
	if err != nil || len(evs) == 0 || evs[0].Kind != hotline.EventReceived {
		t.Fatalf("events %v %v", evs, err)
	}
	opened := evs[0]
	m.Close()

	// What the bureau's platform received: the case.opened body with its head.
	heads := filepath.Join(t.TempDir(), "heads.jsonl")
	body := fmt.Sprintf(`{"id":"evt-1","event":"case.opened","ledger":{"seq":%d,"hash":"%x"}}`, opened.Seq, opened.Hash)
	if err := os.WriteFile(heads, []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := fmt.Sprintf("%d:%s", opened.Seq, ledger.Short(opened.Hash))

	erase := func(t *testing.T, events, cas bool) string {
		t.Helper()
		d := tailCopy(t, dir)
		db := tailDB(t, d)
		defer db.Close()
		if events {
			if _, err := db.Writer().Exec(`DELETE FROM ledger WHERE tip_id = ?`, tip.ID); err != nil {
				t.Fatal(err)
			}
		}
		if cas {
			for _, q := range []string{`DELETE FROM messages WHERE tip_id = ?`, `DELETE FROM tips WHERE id = ?`} {
				if _, err := db.Writer().Exec(db.Writer().Rebind(q), tip.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		return d
	}
	t.Run("intact, heads match", func(t *testing.T) {
		d := erase(t, false, false)
		code, out, errs := tailCLI(t, "ledger", "verify", "--data", d, "--head", short, "--heads", heads)
		if code != 0 || !strings.Contains(out, "ledger OK") || !strings.Contains(out, "2 heads held outside all match") {
			t.Fatalf("exit %d:\n%s%s", code, out, errs)
		}
	})
	t.Run("events erased, case kept", func(t *testing.T) {
		d := erase(t, true, false)
		code, out, errs := tailCLI(t, "ledger", "verify", "--data", d)
		if code != 1 || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "has no event that opened it") {
			t.Fatalf("exit %d:\n%s%s", code, out, errs)
		}
	})
	t.Run("case and events erased", func(t *testing.T) {
		d := erase(t, true, true)
		code, out, errs := tailCLI(t, "ledger", "verify", "--data", d)
		if code != 0 || !strings.Contains(out, "ledger OK") {
			t.Fatalf("inside alone: exit %d:\n%s%s", code, out, errs)
		}
		for _, args := range [][]string{{"--head", short}, {"--heads", heads}} {
			code, out, errs = tailCLI(t, append([]string{"ledger", "verify", "--data", d}, args...)...)
			if code != 1 || !strings.Contains(out, "head held outside") || !strings.Contains(out, "deleted from the end") {
				t.Fatalf("%v: exit %d:\n%s%s", args, code, out, errs)
			}
		}
	})
	t.Run("a malformed head is a usage error", func(t *testing.T) {
		if code, _, errs := tailCLI(t, "ledger", "verify", "--data", dir, "--head", "12:xyz"); code != 2 || !strings.Contains(errs, "hex") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
}
