package store

import (
	"context"

	"hotline/internal/hotline"
)

// A chat's handle is kept in its tip's row (migration 0057): chat_mac,
// chat_sealed, chat_lang, chat_undeliverable, chat_linked_at, written by
// the tip's INSERT (InsertChatTip). The statements on them find their
// tips by the tip's id or by the chats' partial index (tips_chat);
// TestHandleQueriesIndexed holds them to it.
const (
	qHandleByTip          = `SELECT id AS tip_id, chat_mac, chat_sealed, chat_lang AS lang, chat_undeliverable AS undeliverable, chat_linked_at AS created_at FROM tips WHERE id = ? AND chat_mac IS NOT NULL`
	qTipsByChat           = `WHERE chat_mac = ? ORDER BY id DESC`
	qDeleteHandles        = `UPDATE tips SET chat_mac = NULL, chat_sealed = NULL, chat_lang = 'zh', chat_undeliverable = 0, chat_linked_at = 0 WHERE chat_mac = ?`
	qHandlesUndeliverable = `UPDATE tips SET chat_undeliverable = ? WHERE chat_mac = ?`
	qReviveHandles        = `UPDATE tips SET chat_undeliverable = ? WHERE chat_mac = ? AND chat_undeliverable = ?`
	qHandleChat           = `SELECT chat_mac FROM tips WHERE id = ? AND chat_mac IS NOT NULL`
	qHandlesLang          = `UPDATE tips SET chat_lang = ?, chat_undeliverable = ? WHERE chat_mac = ?`
)

// Handle links a Telegram or WeChat chat (sealed, found by HMAC) to one
// tip; it is stored in the tip's row.
type Handle struct {
	TipID         int64        `db:"tip_id"`
	ChatMAC       []byte       `db:"chat_mac"`
	ChatSealed    []byte       `db:"chat_sealed"`
	Lang          hotline.Lang `db:"lang"`
	Undeliverable bool         `db:"undeliverable"`
	CreatedAt     int64        `db:"created_at"`
}

// HandleByTip returns the chat handle of a tip, or ErrNotFound.
func (tx *Tx) HandleByTip(tipID int64) (*Handle, error) {
	var hs []*Handle
	if err := tx.SelectContext(tx.c(), &hs, tx.Rebind(qHandleByTip), tipID); err != nil {
		return nil, err
	} else if len(hs) == 0 {
		return nil, hotline.ErrNotFound
	}
	return hs[0], nil
}

// HandleByTip returns the chat handle of a tip from the read pool.
func (db *DB) HandleByTip(ctx context.Context, tipID int64) (*Handle, error) {
	var hs []*Handle
	if err := db.reader.SelectContext(ctx, &hs, db.reader.Rebind(qHandleByTip), tipID); err != nil {
		return nil, err
	} else if len(hs) == 0 {
		return nil, hotline.ErrNotFound
	}
	return hs[0], nil
}

// TipsByChat lists the tips linked to a chat, newest first.
func (db *DB) TipsByChat(ctx context.Context, chatMAC []byte) ([]*hotline.Tip, error) {
	return findTips(ctx, db.reader, qTipsByChat, chatMAC)
}

// TipsByChat lists the tips linked to a chat within the transaction.
func (tx *Tx) TipsByChat(chatMAC []byte) ([]*hotline.Tip, error) {
	return findTips(tx.c(), tx.Tx, qTipsByChat, chatMAC)
}

// DeleteHandlesByChat unlinks a chat from all its tips and returns the tips
// it was linked to.
func (tx *Tx) DeleteHandlesByChat(chatMAC []byte) ([]*hotline.Tip, error) {
	tips, err := tx.TipsByChat(chatMAC)
	if err != nil {
		return nil, err
	}
	if _, err := tx.exec(qDeleteHandles, chatMAC); err != nil {
		return nil, err
	}
	// Replies still waiting for this chat can no longer be delivered.
	if _, err := tx.exec(`UPDATE messages SET delivery = 'undeliverable' WHERE id IN (SELECT message_id FROM outbox WHERE chat_mac = ?)`, chatMAC); err != nil {
		return nil, err
	}
	if _, err := tx.exec(`DELETE FROM outbox WHERE chat_mac = ?`, chatMAC); err != nil {
		return nil, err
	}
	if _, err := tx.exec(`DELETE FROM conversations WHERE key_mac = ?`, chatMAC); err != nil {
		return nil, err
	}
	return tips, nil
}

// SetHandleUndeliverable marks every handle of a chat undeliverable (the
// chat blocked the bot).
func (tx *Tx) SetHandleUndeliverable(chatMAC []byte) error {
	_, err := tx.exec(qHandlesUndeliverable, true, chatMAC)
	return err
}

// ReviveChat records that a chat reached us again (the reporter wrote
// after blocking the bot): its handles are deliverable again, and the
// replies held when it blocked the bot go back in the queue, due now, in
// their order, shown as waiting.
func (tx *Tx) ReviveChat(chatMAC []byte) error {
	if err := tx.execLate(nil, qReviveHandles, false, chatMAC, true); err != nil {
		return err
	}
	if err := tx.execLate(nil, `UPDATE messages SET delivery = 'waiting' WHERE id IN (SELECT message_id FROM outbox WHERE chat_mac = ? AND held_at > 0)`, chatMAC); err != nil {
		return err
	}
	return tx.execLate(nil, `UPDATE outbox SET held_at = 0, attempts = 0, next_attempt_at = ? WHERE chat_mac = ? AND held_at > 0`, micros(tx.now), chatMAC)
}

// ReviveHandle revives the chat of a tip's handle (ReviveChat), if the tip
// has one: its reporter just wrote.
func (tx *Tx) ReviveHandle(tipID int64) error {
	var macs [][]byte
	if err := tx.SelectContext(tx.c(), &macs, tx.Rebind(qHandleChat), tipID); err != nil {
		return err
	}
	for _, mac := range macs {
		if err := tx.ReviveChat(mac); err != nil {
			return err
		}
	}
	return nil
}

// SetHandleLang records the chat's language for replies.
func (tx *Tx) SetHandleLang(chatMAC []byte, lang hotline.Lang) error {
	_, err := tx.exec(qHandlesLang, string(lang), false, chatMAC)
	return err
}
