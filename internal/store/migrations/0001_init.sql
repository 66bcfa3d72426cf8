-- One schema for SQLite and PostgreSQL, its types written as the tokens of
-- README.md. Times are 64-bit integer microseconds since the Unix epoch
-- (UTC), 0 when unset: they sort and compare the same on both engines.
-- Flags are INTEGER 0/1 on both.
-- Nothing here holds a tip's content, a receipt, a chat id, an IP address or
-- a user agent in plaintext: *_sealed columns are ciphertexts, *_mac columns
-- are HMACs under the server key.

CREATE TABLE districts (
	id               {{ID}},
	name             TEXT NOT NULL UNIQUE,
	public_key       {{BLOB}} NOT NULL,
	recovery_wrapped {{BLOB}} NOT NULL,
	created_at       {{INT64}} NOT NULL
);

CREATE TABLE schools (
	id               {{ID}},
	code             TEXT NOT NULL UNIQUE,
	name             TEXT NOT NULL,
	district         TEXT NOT NULL DEFAULT '',
	settings         TEXT NOT NULL DEFAULT '{}',
	public_key       {{BLOB}} NOT NULL,
	recovery_wrapped {{BLOB}} NOT NULL,
	created_at       {{INT64}} NOT NULL
);

CREATE TABLE counselors (
	id                   {{ID}},
	school_id            {{INT64}} REFERENCES schools(id),
	district             TEXT NOT NULL DEFAULT '',
	username             TEXT NOT NULL UNIQUE,
	display_name         TEXT NOT NULL DEFAULT '',
	role                 TEXT NOT NULL,
	active               INTEGER NOT NULL DEFAULT 1,
	must_change_password INTEGER NOT NULL DEFAULT 1,
	-- the school's (or district's) private key wrapped under this
	-- counselor's password; NULL once deactivated
	wrapped_key          {{BLOB}},
	totp_sealed          {{BLOB}},
	failed_logins        INTEGER NOT NULL DEFAULT 0,
	locked_until         {{INT64}} NOT NULL DEFAULT 0,
	on_call              INTEGER NOT NULL DEFAULT 0,
	telegram_mac         {{BLOB}},
	telegram_sealed      {{BLOB}},
	email_sealed         {{BLOB}},
	created_at           {{INT64}} NOT NULL
);
CREATE INDEX counselors_school ON counselors(school_id);
CREATE UNIQUE INDEX counselors_telegram ON counselors(telegram_mac);

CREATE TABLE tips (
	id               {{ID}},
	uid              TEXT NOT NULL UNIQUE,
	school_id        {{INT64}} NOT NULL REFERENCES schools(id),
	alias_zh         TEXT NOT NULL,
	alias_en         TEXT NOT NULL,
	channel          TEXT NOT NULL,
	reporter_role    TEXT NOT NULL,
	status           TEXT NOT NULL,
	severity         TEXT NOT NULL,
	category         TEXT NOT NULL,
	urgent           INTEGER NOT NULL DEFAULT 0,
	assignee_id      {{INT64}} REFERENCES counselors(id),
	escalated        INTEGER NOT NULL DEFAULT 0,
	steps            TEXT NOT NULL DEFAULT '',
	receipt_mac      {{BLOB}} UNIQUE,
	reporter_key     {{BLOB}},
	created_at       {{INT64}} NOT NULL,
	updated_at       {{INT64}} NOT NULL,
	last_reporter_at {{INT64}} NOT NULL DEFAULT 0,
	ack_due          {{INT64}} NOT NULL DEFAULT 0,
	reply_due        {{INT64}} NOT NULL DEFAULT 0,
	district_due     {{INT64}} NOT NULL DEFAULT 0,
	acknowledged_at  {{INT64}} NOT NULL DEFAULT 0,
	first_reply_at   {{INT64}} NOT NULL DEFAULT 0,
	resolved_at      {{INT64}} NOT NULL DEFAULT 0,
	-- the nearest open deadline, kept in step with the columns above so
	-- that the queue is one index range scan
	queue_due        {{INT64}} NOT NULL,
	purged           INTEGER NOT NULL DEFAULT 0,
	UNIQUE (school_id, alias_zh)
);
CREATE INDEX tips_queue ON tips(school_id, urgent DESC, queue_due, id);
CREATE INDEX tips_school_status ON tips(school_id, status);
CREATE INDEX tips_created ON tips(created_at);

CREATE TABLE messages (
	id                  {{ID}},
	uid                 TEXT NOT NULL UNIQUE,
	tip_id              {{INT64}} NOT NULL REFERENCES tips(id),
	author              TEXT NOT NULL,
	counselor_id        {{INT64}} REFERENCES counselors(id),
	-- sealed to the school's key; NULL once purged
	body_sealed         {{BLOB}},
	-- sealed to the web reporter's receipt-derived key (not for notes)
	reporter_sealed     {{BLOB}},
	-- sealed to the district's key once the case is escalated
	district_sealed     {{BLOB}},
	photo_sealed        {{BLOB}},
	photo_reporter_sealed {{BLOB}},
	photo_district_sealed {{BLOB}},
	delivery            TEXT NOT NULL DEFAULT '',
	created_at          {{INT64}} NOT NULL
);
CREATE INDEX messages_tip ON messages(tip_id, id);

-- Telegram chats linked to tips. The chat id is sealed under the server key
-- and found by its HMAC.
CREATE TABLE reporter_handles (
	id            {{ID}},
	tip_id        {{INT64}} NOT NULL UNIQUE REFERENCES tips(id),
	chat_mac      {{BLOB}} NOT NULL,
	chat_sealed   {{BLOB}} NOT NULL,
	lang          TEXT NOT NULL DEFAULT 'zh',
	undeliverable INTEGER NOT NULL DEFAULT 0,
	created_at    {{INT64}} NOT NULL
);
CREATE INDEX reporter_handles_chat ON reporter_handles(chat_mac);

-- The relay's durable outbox: each row is sealed under the server key.
CREATE TABLE outbox (
	id              {{ID}},
	message_id      {{INT64}} REFERENCES messages(id),
	chat_mac        {{BLOB}} NOT NULL,
	payload_sealed  {{BLOB}} NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{INT64}} NOT NULL,
	created_at      {{INT64}} NOT NULL
);
CREATE INDEX outbox_due ON outbox(next_attempt_at, id);
CREATE INDEX outbox_chat ON outbox(chat_mac, id);

-- A reporter conversation in progress (a draft before it is sent), sealed
-- under the server key and found by the HMAC of its chat or web session.
CREATE TABLE conversations (
	key_mac      {{BLOB}} PRIMARY KEY,
	state_sealed {{BLOB}} NOT NULL,
	updated_at   {{INT64}} NOT NULL
);

-- The ledger (台账): append-only, hash-chained; never content.
CREATE TABLE ledger (
	seq        {{INT64}} PRIMARY KEY,
	school_id  {{INT64}} NOT NULL DEFAULT 0,
	tip_id     {{INT64}} NOT NULL DEFAULT 0,
	alias      TEXT NOT NULL DEFAULT '',
	kind       TEXT NOT NULL,
	detail     TEXT NOT NULL DEFAULT '',
	actor_id   {{INT64}} NOT NULL DEFAULT 0,
	at         {{INT64}} NOT NULL,
	prev_hash  {{BLOB}} NOT NULL,
	hash       {{BLOB}} NOT NULL
);
CREATE INDEX ledger_tip ON ledger(tip_id, seq);
CREATE INDEX ledger_school ON ledger(school_id, seq);

-- Daily ledger heads shown to the district and recorded: a later rewrite of
-- history no longer matches them.
CREATE TABLE ledger_heads (
	day         TEXT PRIMARY KEY,
	seq         {{INT64}} NOT NULL,
	hash        {{BLOB}} NOT NULL,
	recorded_at {{INT64}} NOT NULL
);
