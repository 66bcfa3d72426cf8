-- The ledger's head as a row: the newest event's seq and hash (0 and the
-- genesis hash when empty), updated by every append in its transaction. On
-- PostgreSQL every write transaction locks it first (SELECT … FOR UPDATE),
-- so that processes appending at once extend one chain; on SQLite the one
-- writer reads it once. A tail deleted behind the store's back leaves the
-- head where it was, and the next event shows the gap. (PostgreSQL spells
-- the genesis hash its own way: postgres/0018_ledger_head.sql.)
CREATE TABLE ledger_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  {{INT64}} NOT NULL,
	hash {{BLOB}} NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
	SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), zeroblob(32)) FROM ledger;
