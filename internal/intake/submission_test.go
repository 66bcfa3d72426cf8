package intake_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"hotline/internal/dialog"
	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/urgency"
)

// countMarker opens every tip of the school as its staff and counts the
// messages that contain marker: how many times a report was filed, seen
// as the school sees it.
func countMarker(t *testing.T, e *env, marker string) int {
	t.Helper()
	ctx := context.Background()
	tips, _, err := e.triage.Queue(ctx, e.sess.Actor(), hotline.TipFilter{SchoolID: e.school.School.ID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, tip := range tips {
		_, msgs, err := e.triage.Thread(ctx, e.sess, tip.UID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			n += strings.Count(m.Body, marker)
		}
	}
	return n
}

// failingSave is the real conversation store, except that a save inside
// the transaction that files a report fails: a crash between the tip's
// commit and the conversation's.
type failingSave struct {
	*dialog.SealedStore
	fail bool
}

func (s *failingSave) Save(ctx context.Context, k dialog.Key, state []byte, meta dialog.Meta) error {
	if s.fail && store.TxFrom(ctx) != nil {
		return errors.New("injected: conversation save failed")
	}
	return s.SealedStore.Save(ctx, k, state, meta)
}

func has(rs []dialog.Reply, kind dialog.ReplyKind, text string) bool {
	for _, r := range rs {
		if r.Kind == kind && strings.Contains(r.Text, text) {
			return true
		}
	}
	return false
}

func receiptOf(rs []dialog.Reply) string {
	for _, r := range rs {
		if r.Kind == dialog.ReplyReceipt {
			return r.Receipt
		}
	}
	return ""
}

// draftToConfirm walks a conversation up to the "send" button.
func draftToConfirm(t *testing.T, eng *dialog.Engine, k dialog.Key, text, page string) {
	t.Helper()
	ctx := context.Background()
	for _, ev := range []dialog.Event{
		{Kind: dialog.EventCommand, Command: "start", Text: "no3", School: "no3"},
		{Kind: dialog.EventChoice, Choice: "role:victim"},
		{Kind: dialog.EventChoice, Choice: "cat:verbal"},
		{Kind: dialog.EventText, Text: text},
		{Kind: dialog.EventChoice, Choice: "done"},
		{Kind: dialog.EventChoice, Choice: "danger:no"},
	} {
		ev.PageSecret = page
		if _, err := eng.Handle(ctx, k, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSubmitAndConversationCommitTogether: the conversation is saved in
// the transaction that files the report, so a failure of that save files
// nothing and the draft stays, ready to send; and a "send" that arrives
// again after the report was filed (a redelivered update) files nothing
// more: the reporter hears it was sent, with the same alias.
func TestSubmitAndConversationCommitTogether(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cs := &failingSave{SealedStore: dialog.NewSealedStore(e.db, e.vault)}
	eng := &dialog.Engine{Intake: e.intake, Reporters: e.intake, Schools: e.intake, Store: cs, Urgent: urgency.Urgent}
	const marker = "他们把我的鞋扔进水池 MARKER-TG-4471"
	tg := dialog.Key{Channel: hotline.ChannelTelegram, ChatID: 880001}
	draftToConfirm(t, eng, tg, marker, "")

	cs.fail = true
	rs, _ := eng.Handle(ctx, tg, dialog.Event{Kind: dialog.EventChoice, Choice: "send"})
	if has(rs, dialog.ReplySubmitted, "") {
		t.Fatalf("a report was confirmed although its conversation was not saved: %+v", rs)
	}
	if n := countMarker(t, e, "MARKER-TG-4471"); n != 0 {
		t.Fatalf("tips filed when the conversation save failed: got %d, want 0", n)
	}

	cs.fail = false
	rs, err := eng.Handle(ctx, tg, dialog.Event{Kind: dialog.EventChoice, Choice: "send"})
	if err != nil || !has(rs, dialog.ReplySubmitted, "") {
		t.Fatalf("retry after the failed save: got %+v, %v", rs, err)
	}
	alias := rs[0].Alias
	for _, r := range rs {
		if r.Kind == dialog.ReplySubmitted {
			alias = r.Alias
		}
	}
	for range 3 {
		rs, err := eng.Handle(ctx, tg, dialog.Event{Kind: dialog.EventChoice, Choice: "send"})
		if err != nil {
			t.Fatal(err)
		}
		if !has(rs, dialog.ReplySubmitted, "已经发送") || !has(rs, dialog.ReplySubmitted, alias) || has(rs, dialog.ReplyText, "过期") {
			t.Fatalf("send again: got %+v, want already sent as %q", rs, alias)
		}
	}
	if n := countMarker(t, e, "MARKER-TG-4471"); n != 1 {
		t.Fatalf("tips with the marker: got %d, want exactly 1", n)
	}
}

// TestSubmissionIDFilesOnce: the same submission id submitted twice (an
// answer lost, a second node) returns the first tip, marked repeated,
// without a receipt, and runs the caller's record again.
func TestSubmissionIDFilesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	records := 0
	sub := hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelWebchat, Texts: []string{"他们一直嘲笑我 MARKER-ID-2231"},
		SubmissionID: "sub-id-0001", PageSecret: "page-secret-aaaaaaaaaaaaaaaa",
		Record: func(ctx context.Context, res *hotline.Submitted) error {
			if store.TxFrom(ctx) == nil {
				t.Error("record ran outside the filing transaction")
			}
			records++
			return nil
		}}
	first, err := e.intake.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.intake.Submit(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	if again.TipUID != first.TipUID || again.Alias != first.Alias || !again.Repeated || again.Receipt != "" || first.Repeated {
		t.Fatalf("repeat: got %+v, first %+v", again, first)
	}
	if records != 2 {
		t.Errorf("records: got %d, want 2", records)
	}
	if n := countMarker(t, e, "MARKER-ID-2231"); n != 1 {
		t.Fatalf("tips with the marker: got %d, want 1", n)
	}
	// The receipt comes back only to its page, until the page writes with
	// it: a claim whose answer was lost too is asked again.
	if _, err := e.intake.ClaimReceipt(ctx, first.TipUID, "page-secret-bbbbbbbbbbbbbbbb"); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("claim with another page's secret: got %v, want not found", err)
	}
	for i := range 2 {
		got, err := e.intake.ClaimReceipt(ctx, first.TipUID, sub.PageSecret)
		if err != nil || got != first.Receipt {
			t.Fatalf("claim %d: got %q, %v, want the receipt", i, got, err)
		}
	}
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: first.Receipt}, "补充：他们今天又来了", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.intake.ClaimReceipt(ctx, first.TipUID, sub.PageSecret); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("claim after the page wrote with the receipt: got %v, want not found", err)
	}
	// Nothing in the database shows the receipt.
	var sealed [][]byte
	if err := e.db.Reader().Select(&sealed, `SELECT receipt_sealed FROM submissions WHERE receipt_sealed IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	for _, b := range sealed {
		if strings.Contains(string(b), first.Receipt) {
			t.Fatal("receipt stored in clear")
		}
	}
	// A failing record rolls the tip back.
	sub.SubmissionID, sub.Texts = "sub-id-0002", []string{"MARKER-ID-2232"}
	sub.Record = func(context.Context, *hotline.Submitted) error { return errors.New("injected") }
	if _, err := e.intake.Submit(ctx, sub); err == nil {
		t.Fatal("submit with a failing record succeeded")
	}
	if n := countMarker(t, e, "MARKER-ID-2232"); n != 0 {
		t.Fatalf("tips filed with a failing record: got %d, want 0", n)
	}
}

// TestWebResendGetsReceipt: a web page whose answer to "send" was lost
// sends it again with its page secret and gets the receipt, again if that
// answer is lost too, and no more once the page wrote with it; the report
// is filed once.
func TestWebResendGetsReceipt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	eng := &dialog.Engine{Intake: e.intake, Reporters: e.intake, Schools: e.intake, Store: dialog.NewSealedStore(e.db, e.vault), Urgent: urgency.Urgent, Receipts: e.intake}
	const page = "page-secret-0123456789abcdefghij"
	web := dialog.Key{Channel: hotline.ChannelWebchat, Session: "web-session-resend-000001"}
	draftToConfirm(t, eng, web, "他们在群里骂我 MARKER-WEB-9912", page)
	first, err := eng.Handle(ctx, web, dialog.Event{Kind: dialog.EventChoice, Choice: "send", PageSecret: page})
	if err != nil {
		t.Fatal(err)
	}
	receipt := receiptOf(first)
	if receipt == "" {
		t.Fatalf("no receipt: %+v", first)
	}
	// The answer is lost; the page sends again.
	again, err := eng.Handle(ctx, web, dialog.Event{Kind: dialog.EventChoice, Choice: "send", PageSecret: page})
	if err != nil {
		t.Fatal(err)
	}
	if got := receiptOf(again); got != receipt || !has(again, dialog.ReplySubmitted, "已经发送") {
		t.Fatalf("resend: got receipt %q in %+v, want %q", got, again, receipt)
	}
	// That answer is lost too (the server stopped before it left): the
	// page asks again and still gets it.
	third, err := eng.Handle(ctx, web, dialog.Event{Kind: dialog.EventChoice, Choice: "send", PageSecret: page})
	if err != nil {
		t.Fatal(err)
	}
	if got := receiptOf(third); got != receipt {
		t.Fatalf("second resend: got receipt %q, want %q", got, receipt)
	}
	// The page writes with its receipt: it holds it, and the copy sealed
	// to the page is gone.
	if _, err := eng.HandleWithReceipt(ctx, web, receipt, dialog.Event{Kind: dialog.EventText, Text: "补充：今天又发生了 MARKER-WEB-9913", PageSecret: page}); err != nil {
		t.Fatal(err)
	}
	fourth, err := eng.Handle(ctx, web, dialog.Event{Kind: dialog.EventChoice, Choice: "send", PageSecret: page})
	if err != nil {
		t.Fatal(err)
	}
	if got := receiptOf(fourth); got != "" {
		t.Fatalf("receipt handed out after the page wrote with it: %q", got)
	}
	if n := countMarker(t, e, "MARKER-WEB-9913"); n != 1 {
		t.Fatalf("follow-ups with the marker: got %d, want 1", n)
	}
	if n := countMarker(t, e, "MARKER-WEB-9912"); n != 1 {
		t.Fatalf("tips with the marker: got %d, want 1", n)
	}
}
