-- A chat's handle is part of its tip (issue 28, SQLite pages per tip). A
-- tip had one handle at most (reporter_handles.tip_id was UNIQUE), always
-- written with the tip, and nothing read the handle's own id: its columns
-- move into the tip's row, written by the tip's INSERT. A Telegram or
-- WeChat tip then writes one b-tree for its handle (the chats' index, now
-- on tips) where it wrote three (the handles' table, its tip_id index and
-- its chat index); a web tip writes none (the index is partial).
-- chat_mac is NULL on a tip without a chat, or whose chat was unlinked.
ALTER TABLE tips ADD COLUMN chat_mac {{BLOB}};
ALTER TABLE tips ADD COLUMN chat_sealed {{BLOB}};
ALTER TABLE tips ADD COLUMN chat_lang TEXT NOT NULL DEFAULT 'zh';
ALTER TABLE tips ADD COLUMN chat_undeliverable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tips ADD COLUMN chat_linked_at {{INT64}} NOT NULL DEFAULT 0;
UPDATE tips SET chat_mac = h.chat_mac, chat_sealed = h.chat_sealed, chat_lang = h.lang,
	chat_undeliverable = h.undeliverable, chat_linked_at = h.created_at
	FROM reporter_handles h WHERE h.tip_id = tips.id;
DROP TABLE reporter_handles;
CREATE INDEX tips_chat ON tips(chat_mac) WHERE chat_mac IS NOT NULL;
