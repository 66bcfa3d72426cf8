-- WeChat Official Accounts (issue 17).
--
-- wechat_peers: one row per reporter of an account. peer_id is a keyed hash
-- (HMAC under the server key) of the account and the openid: it is the chat
-- id the rest of Hotline seals in handles and MACs, like a Telegram chat id.
-- The openid itself is stored only sealed under the server key, to send
-- replies. last_in_at is the reporter's last message (WeChat's 48-hour
-- customer-service window runs from it); notice_at is when the content-free
-- "new reply" notice was last sent while the window was closed (0: not since
-- the reporter last wrote).
CREATE TABLE wechat_peers (
	peer_id       {{INT64}} PRIMARY KEY,
	account       TEXT NOT NULL,
	openid_sealed {{BLOB}} NOT NULL,
	last_in_at    {{INT64}} NOT NULL,
	notice_at     {{INT64}} NOT NULL DEFAULT 0
);

-- wechat_tokens: each account's API access token, shared by every node (not
-- cached per process), sealed under the server key.
CREATE TABLE wechat_tokens (
	account      TEXT PRIMARY KEY,
	token_sealed {{BLOB}} NOT NULL,
	expires_at   {{INT64}} NOT NULL,
	refreshed_at {{INT64}} NOT NULL
);
