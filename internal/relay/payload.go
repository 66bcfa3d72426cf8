// Package relay delivers counselors' replies back to reporters over their
// channel, and the few notices of the system itself (an urgent draft sent
// automatically), through a durable outbox: a row sealed under the server
// key is written in the same transaction as the reply (or the tip the
// notice is about), and a worker sends it, retrying with backoff, keeping
// each chat's order, and deleting the row on success. Delivery never
// blocks intake. It must never log a chat id or a reply's text.
package relay

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"hotline/internal/hotline"
	"hotline/internal/store"
	"hotline/internal/vault"
)

// Payload kinds: a counselor's reply, or a notice of the system itself,
// which the channel renders from its own fixed text and never shows as a
// counselor's words.
const (
	// KindReply is a counselor's reply (Text, Photo).
	KindReply = ""
	// KindAutoSent tells a reporter that their urgent draft (Possibly: a
	// draft whose safety question went unanswered) was sent to the school
	// automatically: it carries the Alias and the school's OnCall time, no
	// content.
	KindAutoSent = "auto_sent"
)

// Payload is what the worker needs to send one reply or notice; it exists
// in clear only in memory.
type Payload struct {
	Kind string `json:"kind,omitempty"`
	// Channel is the chat's messenger; empty (rows written before WeChat)
	// is Telegram.
	Channel    hotline.Channel `json:"ch,omitempty"`
	ChatID     int64           `json:"chat_id"`
	Text       string          `json:"text"`
	Alias      string          `json:"alias"`
	Lang       hotline.Lang    `json:"lang"`
	TipUID     string          `json:"tip"`
	MessageUID string          `json:"msg"`
	Photo      []byte          `json:"photo,omitempty"`
	PhotoType  string          `json:"photo_type,omitempty"`
	// OnCall is, on a KindAutoSent notice, how soon the school's on-call
	// staff act on an urgent report; with Possibly, how soon the school
	// acts on any report (nobody is paged for it).
	OnCall time.Duration `json:"on_call,omitempty"`
	// Possibly says, on a KindAutoSent notice, that the draft was sent
	// marked possibly urgent: its safety question went unanswered.
	Possibly bool `json:"possibly,omitempty"`
}

const payloadPurpose = "outbox"

// Enqueue writes a sealed outbox row for a reply, inside the reply's own
// transaction, so a committed reply is always on its way.
func Enqueue(tx *store.Tx, v *vault.Vault, messageID int64, p *Payload) error {
	_, err := enqueueItem(tx, v, messageID, p)
	return err
}

// EnqueueHeld is Enqueue for a chat that blocked the bot: the reply is
// held at once, behind the chat's replies held before it, and goes out in
// that order when the reporter writes again (store.Tx.ReviveChat), or is
// dropped with them after the hold time.
func EnqueueHeld(tx *store.Tx, v *vault.Vault, messageID int64, p *Payload) error {
	item, err := enqueueItem(tx, v, messageID, p)
	if err != nil {
		return err
	}
	return tx.HoldOutboxItem(item.ID)
}

func enqueueItem(tx *store.Tx, v *vault.Vault, messageID int64, p *Payload) (*store.OutboxItem, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sealed, err := v.SealServer(payloadPurpose, plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("seal outbox payload: %w", err)
	}
	item := &store.OutboxItem{MessageID: sql.NullInt64{Int64: messageID, Valid: messageID != 0}, ChatMAC: v.ChatMAC(p.ChatID), PayloadSealed: sealed}
	return item, tx.Enqueue(item)
}

// OpenPayload opens an outbox row's payload.
func OpenPayload(v *vault.Vault, item *store.OutboxItem) (*Payload, error) {
	plain, err := v.OpenServer(payloadPurpose, item.PayloadSealed)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	var p Payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
