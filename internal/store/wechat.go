package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"hotline/internal/hotline"
)

// WechatPeer is a WeChat reporter of one account: the openid sealed under
// the server key (never in clear), and when they last wrote.
type WechatPeer struct {
	PeerID       int64  `db:"peer_id"`
	Account      string `db:"account"`
	OpenIDSealed []byte `db:"openid_sealed"`
	LastInAt     int64  `db:"last_in_at"`
	NoticeAt     int64  `db:"notice_at"`
}

// LastIn returns when the reporter last wrote.
func (p *WechatPeer) LastIn() time.Time { return fromMicros(p.LastInAt) }

// Noticed returns when the "new reply" notice was last sent, zero if not
// since the reporter last wrote.
func (p *WechatPeer) Noticed() time.Time { return fromMicros(p.NoticeAt) }

// TouchWechatPeer records that the reporter of peerID wrote now: it stores
// the sealed openid, reopens the customer-service window, and releases the
// replies held while it was closed (ReviveChat of chatMAC), in this
// transaction.
func (tx *Tx) TouchWechatPeer(peerID int64, account string, openIDSealed, chatMAC []byte) error {
	_, err := tx.exec(`INSERT INTO wechat_peers (peer_id, account, openid_sealed, last_in_at, notice_at) VALUES (?, ?, ?, ?, 0)
		ON CONFLICT (peer_id) DO UPDATE SET account = excluded.account, openid_sealed = excluded.openid_sealed, last_in_at = excluded.last_in_at, notice_at = 0`,
		peerID, account, openIDSealed, micros(tx.now))
	if err != nil {
		return err
	}
	return tx.ReviveChat(chatMAC)
}

// WechatPeer returns the peer, or hotline.ErrNotFound.
func (db *DB) WechatPeer(ctx context.Context, peerID int64) (*WechatPeer, error) {
	var p WechatPeer
	err := db.reader.GetContext(ctx, &p, db.reader.Rebind(`SELECT peer_id, account, openid_sealed, last_in_at, notice_at FROM wechat_peers WHERE peer_id = ?`), peerID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &p, err
}

// ClaimWechatNotice records that the "new reply" notice goes to peerID now,
// and reports whether this caller should send it: only once while the
// window stays closed (until the reporter writes again), however many
// replies wait and however many nodes try.
func (tx *Tx) ClaimWechatNotice(peerID int64) (bool, error) {
	res, err := tx.exec(`UPDATE wechat_peers SET notice_at = ? WHERE peer_id = ? AND notice_at = 0`, micros(tx.now), peerID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// WechatToken is an account's access token, sealed.
type WechatToken struct {
	Account     string `db:"account"`
	TokenSealed []byte `db:"token_sealed"`
	ExpiresAt   int64  `db:"expires_at"`
	RefreshedAt int64  `db:"refreshed_at"`
}

// Expires returns when the token stops working.
func (t *WechatToken) Expires() time.Time { return fromMicros(t.ExpiresAt) }

// WechatToken returns the stored token of account, or hotline.ErrNotFound.
// It reads through the writer, so that a node sees the token another just
// stored rather than a replica's older one.
func (db *DB) WechatToken(ctx context.Context, account string) (*WechatToken, error) {
	var t WechatToken
	err := db.writer.GetContext(ctx, &t, db.writer.Rebind(`SELECT account, token_sealed, expires_at, refreshed_at FROM wechat_tokens WHERE account = ?`), account)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hotline.ErrNotFound
	}
	return &t, err
}

// SaveWechatToken stores account's token, sealed, until expires.
func (tx *Tx) SaveWechatToken(account string, sealed []byte, expires time.Time) error {
	_, err := tx.exec(`INSERT INTO wechat_tokens (account, token_sealed, expires_at, refreshed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account) DO UPDATE SET token_sealed = excluded.token_sealed, expires_at = excluded.expires_at, refreshed_at = excluded.refreshed_at`,
		account, sealed, micros(expires), micros(tx.now))
	return err
}

// DropWechatToken forgets account's token if it is still the one refreshed
// at refreshedAt (WeChat said it is invalid); a newer one another node
// stored meanwhile stays.
func (tx *Tx) DropWechatToken(account string, refreshedAt int64) error {
	_, err := tx.exec(`DELETE FROM wechat_tokens WHERE account = ? AND refreshed_at = ?`, account, refreshedAt)
	return err
}
