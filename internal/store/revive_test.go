package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"hotline/internal/hotline"
	"hotline/internal/store"
)

// TestChatTipRevivesWhatIsHeld: a chat's new tip, filed with its alias
// picked by the INSERT, revives the chat (store.Tx.ReviveChat) whenever
// there is something to revive: another tip's handle marked undeliverable,
// or a reply held for the chat with no handle marked (a chat that wrote
// /lang, say). The INSERT itself says whether there is, so that the usual
// chat, with nothing held, is spared ReviveChat's three statements.
func TestChatTipRevivesWhatIsHeld(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	school := mustSchool(t, db, "rv")
	n := 0
	file := func(chat string) *hotline.Tip {
		t.Helper()
		n++
		tip := newTip(school.ID, fmt.Sprintf("rv-%d", n), false, fixedNow)
		tip.Channel = hotline.ChannelTelegram
		h := &store.Handle{ChatMAC: []byte(chat), ChatSealed: []byte("sealed " + chat)}
		cands := []hotline.Alias{{ZH: fmt.Sprintf("蓝狐%d", n), EN: fmt.Sprintf("Blue Fox %d", n)}}
		if err := db.Update(ctx, func(tx *store.Tx) error { return tx.InsertChatTipAlias(tip, nil, h, cands, nil) }); err != nil {
			t.Fatal(err)
		}
		return tip
	}
	undeliverable := func(tip *hotline.Tip) bool {
		t.Helper()
		var h *store.Handle
		err := db.Update(ctx, func(tx *store.Tx) (err error) { h, err = tx.HandleByTip(tip.ID); return err })
		if err != nil {
			t.Fatal(err)
		}
		return h.Undeliverable
	}
	held := func(chat string) int {
		t.Helper()
		var k int
		if err := db.Reader().Get(&k, db.Reader().Rebind(`SELECT COUNT(*) FROM outbox WHERE chat_mac = ? AND held_at > 0`), []byte(chat)); err != nil {
			t.Fatal(err)
		}
		return k
	}
	hold := func(chat string) {
		t.Helper()
		err := db.Update(ctx, func(tx *store.Tx) error {
			item := &store.OutboxItem{MessageID: sql.NullInt64{}, ChatMAC: []byte(chat), PayloadSealed: []byte("sealed reply")}
			if err := tx.Enqueue(item); err != nil {
				return err
			}
			return tx.HoldOutboxItem(item.ID)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// A chat that blocked the bot: its handle undeliverable, its reply
	// held. Its new tip revives both.
	old := file("chat-a")
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SetHandleUndeliverable([]byte("chat-a")) }); err != nil {
		t.Fatal(err)
	}
	hold("chat-a")
	file("chat-a")
	if undeliverable(old) || held("chat-a") != 0 {
		t.Fatalf("blocked chat after a new tip: undeliverable %v, %d held", undeliverable(old), held("chat-a"))
	}

	// A reply held with no handle marked: the new tip releases it.
	file("chat-b")
	hold("chat-b")
	file("chat-b")
	if k := held("chat-b"); k != 0 {
		t.Fatalf("%d replies still held after the chat's new tip", k)
	}

	// A handle marked with nothing held: revived.
	first := file("chat-c")
	if err := db.Update(ctx, func(tx *store.Tx) error { return tx.SetHandleUndeliverable([]byte("chat-c")) }); err != nil {
		t.Fatal(err)
	}
	file("chat-c")
	if undeliverable(first) {
		t.Fatal("handle still undeliverable after the chat's new tip")
	}

	// Another chat's held reply is not this chat's.
	hold("chat-d")
	file("chat-e")
	if held("chat-d") != 1 {
		t.Fatal("a chat's new tip released another chat's held reply")
	}
}
