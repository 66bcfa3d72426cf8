package intake_test

import (
	"context"
	"path/filepath"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/testsupport"
)

// TestFramesPerTipBudget holds what one tip writes to SQLite's log: the
// WAL frames (pages) of a tip filed as BenchmarkDurableIntake files it,
// one commit each, in a school past its first pages. Every b-tree a tip
// touches costs about one page per commit (TestPagesPerTip names them),
// so a new index or table written with every tip adds about one frame
// and fails this; leaf splits of the random keys move the count by a
// tenth or so, inside the margin. Lower the budget when a change cuts
// pages (docs/BENCHMARKS.md, "SQLite pages per tip").
func TestFramesPerTipBudget(t *testing.T) {
	if pgtest.OnPostgres() {
		t.Skip("SQLite's pages")
	}
	const warm, tips = 200, 100
	for _, tc := range []struct {
		channel hotline.Channel
		budget  float64
	}{
		// 19.0 measured: tip, message, submission, conversation, ledger
		// and their indexes; a chat tip no receipt key (0066).
		{hotline.ChannelTelegram, 19.6},
		// 21.9 measured: also the receipt's key and the receipt sealed to
		// the page (submissions_pending).
		{hotline.ChannelWebchat, 22.6},
	} {
		t.Run(string(tc.channel), func(t *testing.T) {
			e, _, sub := pageEnv(t, tc.channel, warm)
			before := e.db.Stats()
			for i := range tips {
				sub(warm + i)
			}
			after := e.db.Stats()
			if commits := after.Commits - before.Commits; commits != tips {
				t.Fatalf("%d commits for %d tips, want one each", commits, tips)
			}
			per := float64(after.WALFrames-before.WALFrames) / tips
			t.Logf("%s: %.2f WAL frames per tip", tc.channel, per)
			if per > tc.budget {
				t.Errorf("%s: %.2f WAL frames per tip, budget %.1f: a tip writes another b-tree (go test -tags sqlite_dbstat -run PagesPerTip -v ./internal/intake names them)", tc.channel, per, tc.budget)
			}
		})
	}
}

// pageEnv opens a school on a SQLite file (its path returned) and files
// warm tips of channel ch as BenchmarkDurableIntake does, one commit
// each, so that every b-tree is past its first pages; sub files the i-th
// more.
func pageEnv(t *testing.T, ch hotline.Channel, warm int) (e *env, path string, sub func(i int)) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "hotline.db")
	e = newEnvOn(t, testsupport.OpenStoreAt(t, path), dir)
	submit := dialogSubmitter(e, ch)
	sub = func(i int) {
		t.Helper()
		if _, err := e.intake.Submit(context.Background(), submit(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range warm {
		sub(i)
	}
	return e, path, sub
}
