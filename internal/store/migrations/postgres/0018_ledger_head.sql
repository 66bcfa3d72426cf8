-- PostgreSQL's 0018 (see ../0018_ledger_head.sql): 32 zero bytes are
-- decode(repeat('00', 32), 'hex') here, zeroblob(32) in SQLite. Every write
-- transaction locks this row first (SELECT … FOR UPDATE), so that processes
-- appending at once extend one chain, and writers on all nodes run one at a
-- time, as SQLite's one writer does.
CREATE TABLE ledger_head (
	id   INTEGER PRIMARY KEY CHECK (id = 1),
	seq  BIGINT NOT NULL,
	hash BYTEA NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
	SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1), decode(repeat('00', 32), 'hex')) FROM ledger;
