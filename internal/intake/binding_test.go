package intake_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/pgtest"
	"hotline/internal/relay"
	"hotline/internal/store"
	"hotline/internal/thread"
	"hotline/internal/vault"
)

// TestOfflineReceiptGuessNeedsServerKey is the attack of issue 13 on a
// copy of the database: whoever holds it but not the server key cannot
// check a receipt, not even the right one, against a tip's stored
// reporter key, nor open the reporter's copy of the thread with it.
func TestOfflineReceiptGuessNeedsServerKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sub, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelMailbox, Texts: []string{"他们在厕所里打我"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.triage.Reply(ctx, e.sess.Actor(), sub.TipUID, "我们明天找你谈", nil); err != nil {
		t.Fatal(err)
	}
	// The copy: a snapshot of the database, without the data directory's
	// server key.
	path := filepath.Join(t.TempDir(), "stolen.db")
	if pgtest.OnPostgres() {
		// The database server's data read by a thief: the same rows.
		path = e.db.DSN
	} else if err := e.db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	stolen, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer stolen.Close()
	tips, err := stolen.Tips(ctx, "")
	if err != nil || len(tips) != 1 {
		t.Fatalf("stolen tips: %d, %v", len(tips), err)
	}
	tip := tips[0]
	if tip.ReporterKeyVersion != vault.ReporterKeyCurrent {
		t.Fatalf("new tip stored with reporter key version %d, want %d", tip.ReporterKeyVersion, vault.ReporterKeyCurrent)
	}
	sealed, err := stolen.Messages(ctx, tip.ID)
	if err != nil {
		t.Fatal(err)
	}
	attackerKey := make([]byte, vault.ServerKeySize) // any key but the real one
	attacker, err := vault.New(attackerKey, vault.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The attacker guesses right and still cannot tell.
	for _, version := range []int{tip.ReporterKeyVersion, vault.ReporterKeyV1} {
		k, err := attacker.ReporterKey(sub.Receipt, version)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(k.PublicKey(), tip.ReporterKey) {
			t.Errorf("the receipt without the server key derives the stored reporter key (version %d)", version)
		}
		if msgs, err := thread.OpenForReporter(k, tip, sealed); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("the receipt without the server key opens the reporter's thread (version %d): %d messages, %v", version, len(msgs), err)
		}
	}
	// With the server key the same receipt matches and opens: the check
	// above fails for the right reason.
	k, err := e.vault.ReporterKey(sub.Receipt, tip.ReporterKeyVersion)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.PublicKey(), tip.ReporterKey) {
		t.Fatalf("the server's derivation does not match the stored reporter key")
	}
	if msgs, err := thread.OpenForReporter(k, tip, sealed); err != nil || len(msgs) != 2 {
		t.Fatalf("reporter thread with the server key: %d messages, %v", len(msgs), err)
	}
}

// TestVersion1TipStillOpens: a web tip stored before the server key was
// part of the reporter key (written here with the version 1 derivation)
// is still found, read and answered with its receipt.
func TestVersion1TipStillOpens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	receipt, err := vault.NewReceipt()
	if err != nil {
		t.Fatal(err)
	}
	k1, err := e.vault.ReporterKey(receipt, vault.ReporterKeyV1)
	if err != nil {
		t.Fatal(err)
	}
	school := e.school.School
	tip := &hotline.Tip{UID: vault.NewID(), SchoolID: school.ID, Channel: hotline.ChannelMailbox, Role: hotline.ReporterWitness,
		Status: hotline.StatusNew, Severity: hotline.SeverityUnassessed, Category: hotline.CategoryOther,
		Alias: hotline.Alias{ZH: "老鹰", EN: "Old Eagle"}, ReporterKey: k1.PublicKey(), ReporterKeyVersion: vault.ReporterKeyV1, Steps: map[hotline.Step]bool{}}
	first, err := thread.Seal(school.ID, tip.UID, hotline.AuthorReporter, "去年的报告", nil, thread.Recipients{School: school.PublicKey, Reporter: k1.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	err = e.db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.InsertTip(tip, e.vault.ReceiptMAC(receipt)); err != nil {
			return err
		}
		first.TipID = tip.ID
		return tx.InsertMessage(first)
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := e.db.TipByUID(ctx, tip.UID); err != nil || stored.ReporterKeyVersion != vault.ReporterKeyV1 {
		t.Fatalf("stored tip: %+v, %v", stored, err)
	}
	if _, err := e.triage.Reply(ctx, e.sess.Actor(), tip.UID, "我们还在跟进", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.intake.AddReporterMessage(ctx, hotline.ReporterRef{Receipt: receipt}, "谢谢", nil); err != nil {
		t.Fatal(err)
	}
	_, msgs, err := e.intake.ThreadByReceipt(ctx, receipt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	if len(got) != 3 || got[0] != "去年的报告" || got[1] != "我们还在跟进" || got[2] != "谢谢" {
		t.Fatalf("version 1 reporter thread = %q", got)
	}
}

// outboxChats opens every waiting reply and returns the chats they go to.
func outboxChats(t *testing.T, e *env) []int64 {
	t.Helper()
	var sealed [][]byte
	if err := e.db.Reader().Select(&sealed, `SELECT payload_sealed FROM outbox ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var chats []int64
	for _, s := range sealed {
		p, err := relay.OpenPayload(e.vault, &store.OutboxItem{PayloadSealed: s})
		if err != nil {
			t.Fatal(err)
		}
		chats = append(chats, p.ChatID)
	}
	return chats
}

// TestHandleChatBoundToTip: a Telegram tip's sealed chat id copied into
// another tip's handle does not open there, so a reply to that tip is not
// redirected to the copied chat; handles sealed before binding (written
// with the version 1 code path) still deliver.
func TestHandleChatBoundToTip(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const attacker, victim = int64(5550001), int64(5550002)
	a, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: attacker, Texts: []string{"随便写点"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.intake.Submit(ctx, hotline.Submission{SchoolCode: "no3", Channel: hotline.ChannelTelegram, ChatID: victim, Texts: []string{"真正的报告"}})
	if err != nil {
		t.Fatal(err)
	}
	tipA, _ := e.db.TipByUID(ctx, a.TipUID)
	tipB, _ := e.db.TipByUID(ctx, b.TipUID)
	hA, err := e.db.HandleByTip(ctx, tipA.ID)
	if err != nil {
		t.Fatal(err)
	}
	hB, err := e.db.HandleByTip(ctx, tipB.ID)
	if err != nil {
		t.Fatal(err)
	}
	setSealed := func(tipID int64, sealed []byte) {
		t.Helper()
		if _, err := e.db.Writer().Exec(`UPDATE tips SET chat_sealed = ? WHERE id = ?`, sealed, tipID); err != nil {
			t.Fatal(err)
		}
	}
	// Untouched, a reply goes to the victim's own chat.
	if _, err := e.triage.Reply(ctx, e.sess.Actor(), b.TipUID, "第一条回复", nil); err != nil {
		t.Fatal(err)
	}
	if got := outboxChats(t, e); len(got) != 1 || got[0] != victim {
		t.Fatalf("reply goes to %v, want [%d]", got, victim)
	}
	// The attacker's sealed chat id in the victim's handle does not open:
	// the reply is refused rather than sent to the attacker.
	setSealed(tipB.ID, hA.ChatSealed)
	if m, err := e.triage.Reply(ctx, e.sess.Actor(), b.TipUID, "第二条回复", nil); err == nil {
		t.Errorf("reply through a swapped handle stored: %+v", m)
	}
	for _, chat := range outboxChats(t, e) {
		if chat == attacker {
			t.Fatalf("a reply to the victim's tip was redirected to the attacker's chat")
		}
	}
	// A handle stored before binding (version 1) still delivers.
	old, err := e.vault.SealChat(victim)
	if err != nil {
		t.Fatal(err)
	}
	setSealed(tipB.ID, old)
	if _, err := e.triage.Reply(ctx, e.sess.Actor(), b.TipUID, "第三条回复", nil); err != nil {
		t.Fatalf("reply through a version 1 handle: %v", err)
	}
	if got := outboxChats(t, e); len(got) != 2 || got[1] != victim {
		t.Fatalf("replies go to %v, want [%d %d]", got, victim, victim)
	}
	setSealed(tipB.ID, hB.ChatSealed)
}
