-- A tip's receipt key is unique among the tips that have one: a partial
-- unique index instead of the column's UNIQUE constraint, which indexed
-- the NULL of every chat tip (Telegram, WeChat) too, one b-tree leaf
-- written per chat tip for a lookup that never finds it (issue 28).
-- SQLite cannot drop a column's constraint: the table is rebuilt, with
-- foreign keys off (the marker below) as its manual's procedure says,
-- and every reference checked before commit. The columns, defaults and
-- other indexes are tips' as migrations 0001-0057 left them.
-- postgres/0066_tips_receipt_partial.sql drops the constraint instead.
-- migrate: rebuilds a referenced table

CREATE TABLE tips_new (
	id                   {{ID}},
	uid                  TEXT NOT NULL UNIQUE,
	school_id            {{INT64}} NOT NULL REFERENCES schools(id),
	alias_zh             TEXT NOT NULL,
	alias_en             TEXT NOT NULL,
	channel              TEXT NOT NULL,
	reporter_role        TEXT NOT NULL,
	status               TEXT NOT NULL,
	severity             TEXT NOT NULL,
	category             TEXT NOT NULL,
	urgent               INTEGER NOT NULL DEFAULT 0,
	assignee_id          {{INT64}} REFERENCES counselors(id),
	escalated            INTEGER NOT NULL DEFAULT 0,
	steps                TEXT NOT NULL DEFAULT '',
	receipt_mac          {{BLOB}},
	reporter_key         {{BLOB}},
	created_at           {{INT64}} NOT NULL,
	updated_at           {{INT64}} NOT NULL,
	last_reporter_at     {{INT64}} NOT NULL DEFAULT 0,
	ack_due              {{INT64}} NOT NULL DEFAULT 0,
	reply_due            {{INT64}} NOT NULL DEFAULT 0,
	district_due         {{INT64}} NOT NULL DEFAULT 0,
	acknowledged_at      {{INT64}} NOT NULL DEFAULT 0,
	first_reply_at       {{INT64}} NOT NULL DEFAULT 0,
	resolved_at          {{INT64}} NOT NULL DEFAULT 0,
	-- the nearest open deadline, kept in step with the columns above so
	-- that the queue is one index range scan
	queue_due            {{INT64}} NOT NULL,
	purged               INTEGER NOT NULL DEFAULT 0,
	reporter_key_version INTEGER NOT NULL DEFAULT 1,
	assess_due           {{INT64}} NOT NULL DEFAULT 0,
	progress_due         {{INT64}} NOT NULL DEFAULT 0,
	urgent_reason        TEXT NOT NULL DEFAULT '',
	urgent_feedback      TEXT NOT NULL DEFAULT '',
	safety_due           {{INT64}} NOT NULL DEFAULT 0,
	safety_asked_at      {{INT64}} NOT NULL DEFAULT 0,
	possibly_urgent      INTEGER NOT NULL DEFAULT 0,
	chat_mac             {{BLOB}},
	chat_sealed          {{BLOB}},
	chat_lang            TEXT NOT NULL DEFAULT 'zh',
	chat_undeliverable   INTEGER NOT NULL DEFAULT 0,
	chat_linked_at       {{INT64}} NOT NULL DEFAULT 0,
	UNIQUE (school_id, alias_zh)
);
INSERT INTO tips_new (id, uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category,
		urgent, assignee_id, escalated, steps, receipt_mac, reporter_key, created_at, updated_at, last_reporter_at,
		ack_due, reply_due, district_due, acknowledged_at, first_reply_at, resolved_at, queue_due, purged,
		reporter_key_version, assess_due, progress_due, urgent_reason, urgent_feedback, safety_due, safety_asked_at,
		possibly_urgent, chat_mac, chat_sealed, chat_lang, chat_undeliverable, chat_linked_at)
	SELECT id, uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category,
		urgent, assignee_id, escalated, steps, receipt_mac, reporter_key, created_at, updated_at, last_reporter_at,
		ack_due, reply_due, district_due, acknowledged_at, first_reply_at, resolved_at, queue_due, purged,
		reporter_key_version, assess_due, progress_due, urgent_reason, urgent_feedback, safety_due, safety_asked_at,
		possibly_urgent, chat_mac, chat_sealed, chat_lang, chat_undeliverable, chat_linked_at
	FROM tips;
DROP TABLE tips;
ALTER TABLE tips_new RENAME TO tips;
CREATE INDEX tips_queue ON tips(school_id, urgent DESC, queue_due, id);
CREATE INDEX tips_unread ON tips(school_id, status, last_reporter_at);
CREATE INDEX tips_district_due ON tips(district_due) WHERE district_due > 0;
CREATE INDEX tips_safety_due ON tips(safety_due) WHERE safety_due != 0;
CREATE INDEX tips_chat ON tips(chat_mac) WHERE chat_mac IS NOT NULL;
CREATE UNIQUE INDEX tips_receipt ON tips(receipt_mac) WHERE receipt_mac IS NOT NULL;
