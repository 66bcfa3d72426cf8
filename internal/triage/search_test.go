package triage_test

import (
	"context"
	"fmt"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/triage"
)

// TestSearchPassesAreBounded: one pass opens at most the bound of cases
// and says where to go on; going on from there finds every match exactly
// once, in queue order, and another school's matching case never.
func TestSearchPassesAreBounded(t *testing.T) {
	defer triage.SetSearchBounds(3, 50)()
	ctx := context.Background()
	st, tr := newServices(t)
	sess := adminSession(t, st, "s1")
	adminSession(t, st, "s2")
	in := intakeFor(tr)
	want := map[string]bool{}
	for i := range 8 {
		text := fmt.Sprintf("第%d条：没有关键词", i)
		if i%2 == 0 {
			text = fmt.Sprintf("第%d条：在操场被推倒", i)
		}
		out, err := in.Submit(ctx, hotline.Submission{SchoolCode: "s1", Channel: hotline.ChannelMailbox, Texts: []string{text}})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			want[out.TipUID] = true
		}
	}
	if _, err := in.Submit(ctx, hotline.Submission{SchoolCode: "s2", Channel: hotline.ChannelMailbox, Texts: []string{"在操场被推倒"}}); err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	f := hotline.TipFilter{}
	passes := 0
	for {
		res, err := tr.Search(ctx, sess, f, "操场")
		if err != nil {
			t.Fatal(err)
		}
		passes++
		if res.Scanned > 3 {
			t.Fatalf("a pass opened %d cases, bound 3", res.Scanned)
		}
		for _, h := range res.Hits {
			found[h.Tip.UID]++
			if h.Snippet == "" {
				t.Errorf("hit %s without an excerpt", h.Tip.UID)
			}
		}
		if res.Next == nil {
			break
		}
		f.After = res.Next
		if passes > 10 {
			t.Fatal("the search does not end")
		}
	}
	if passes != 3 {
		t.Errorf("%d passes over 8 cases by 3, want 3", passes)
	}
	if len(found) != len(want) {
		t.Fatalf("found %d cases, want %d", len(found), len(want))
	}
	for uid, n := range found {
		if !want[uid] || n != 1 {
			t.Errorf("case %s found %d times (wanted %v)", uid, n, want[uid])
		}
	}
	// Bad queries are refused with a reason.
	for _, q := range []string{"", "   ", string([]byte{0xff}), string(make([]byte, 300))} {
		if _, err := tr.Search(ctx, sess, hotline.TipFilter{}, q); hotline.ErrorCode(err) != hotline.EINVALID {
			t.Errorf("query %q: %v, want invalid", q, err)
		}
	}
}

// BenchmarkSearchPass measures one full pass of a word search: 400 cases
// of three messages each, every message opened with the school key (the
// hybrid post-quantum HPKE of the default suite), no hit, so nothing stops
// it early. Reported per pass.
func BenchmarkSearchPass(b *testing.B) {
	ctx := context.Background()
	st, tr := newServices(b)
	sess := adminSession(b, st, "s1")
	in := intakeFor(tr)
	for i := range triage.SearchMaxTips {
		texts := []string{fmt.Sprintf("第%d份报告：课间在走廊被人推搡", i), "他们还抢了我的文具", "我不敢告诉家长"}
		if _, err := in.Submit(ctx, hotline.Submission{SchoolCode: "s1", Channel: hotline.ChannelMailbox, Texts: texts}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := tr.Search(ctx, sess, hotline.TipFilter{}, "不存在的词")
		if err != nil || res.Scanned != triage.SearchMaxTips || len(res.Hits) != 0 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
