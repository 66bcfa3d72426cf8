-- A chat's handle is stored under its tip (issue 28, SQLite pages per
-- tip). A tip has one handle at most (tip_id was UNIQUE) and nothing read
-- the handle's own id, so the tip's id becomes the key: on SQLite the
-- table's rowid, one b-tree where there were two (the rowid table and the
-- index on tip_id), one page fewer for every Telegram and WeChat tip.
-- The chats' index stays: a chat finds its tips by it.
CREATE TABLE reporter_handles_new (
	tip_id        {{INT64}} PRIMARY KEY REFERENCES tips(id),
	chat_mac      {{BLOB}} NOT NULL,
	chat_sealed   {{BLOB}} NOT NULL,
	lang          TEXT NOT NULL DEFAULT 'zh',
	undeliverable INTEGER NOT NULL DEFAULT 0,
	created_at    {{INT64}} NOT NULL
);
INSERT INTO reporter_handles_new (tip_id, chat_mac, chat_sealed, lang, undeliverable, created_at)
	SELECT tip_id, chat_mac, chat_sealed, lang, undeliverable, created_at FROM reporter_handles;
DROP TABLE reporter_handles;
ALTER TABLE reporter_handles_new RENAME TO reporter_handles;
CREATE INDEX reporter_handles_chat ON reporter_handles(chat_mac);
