package store

import (
	"context"
	"fmt"

	"hotline/internal/hotline"
)

// The statements on reporter_handles: each finds its rows by the tip (the
// table's key) or by the chat (reporter_handles_chat);
// TestHandleQueriesIndexed holds them to it.
const (
	qHandleByTip          = `SELECT tip_id, chat_mac, chat_sealed, lang, undeliverable, created_at FROM reporter_handles WHERE tip_id = ?`
	qTipsByChat           = `WHERE id IN (SELECT tip_id FROM reporter_handles WHERE chat_mac = ?) ORDER BY id DESC`
	qDeleteHandles        = `DELETE FROM reporter_handles WHERE chat_mac = ?`
	qHandlesUndeliverable = `UPDATE reporter_handles SET undeliverable = ? WHERE chat_mac = ?`
	qReviveHandles        = `UPDATE reporter_handles SET undeliverable = ? WHERE chat_mac = ? AND undeliverable = ?`
	qHandleChat           = `SELECT chat_mac FROM reporter_handles WHERE tip_id = ?`
	qHandlesLang          = `UPDATE reporter_handles SET lang = ?, undeliverable = ? WHERE chat_mac = ?`
)

// Handle links a Telegram chat (sealed, found by HMAC) to one tip. The tip
// is its key: a tip has one handle at most.
type Handle struct {
	TipID         int64        `db:"tip_id"`
	ChatMAC       []byte       `db:"chat_mac"`
	ChatSealed    []byte       `db:"chat_sealed"`
	Lang          hotline.Lang `db:"lang"`
	Undeliverable bool         `db:"undeliverable"`
	CreatedAt     int64        `db:"created_at"`
}

// InsertHandle links a chat to a tip. A chat that files a report can be
// reached, so it also revives the chat's other handles (ReviveChat).
func (tx *Tx) InsertHandle(h *Handle) error {
	h.CreatedAt = micros(tx.now)
	if h.Lang == "" {
		h.Lang = hotline.LangZH
	}
	if _, err := tx.exec(qInsertHandle, h.TipID, h.ChatMAC, h.ChatSealed, string(h.Lang), h.CreatedAt); err != nil {
		return fmt.Errorf("insert handle: %w", err)
	}
	return tx.ReviveChat(h.ChatMAC)
}

// AddHandle is InsertHandle for a caller that does not need the insert's
// failure before the transaction commits: where statements are held (see
// late), the insert is sent late.
func (tx *Tx) AddHandle(h *Handle) error {
	h.CreatedAt = micros(tx.now)
	if h.Lang == "" {
		h.Lang = hotline.LangZH
	}
	err := tx.execLate(func(err error) error { return fmt.Errorf("insert handle: %w", err) }, qInsertHandle,
		h.TipID, h.ChatMAC, h.ChatSealed, string(h.Lang), h.CreatedAt)
	if err != nil {
		return err
	}
	return tx.ReviveChat(h.ChatMAC)
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
