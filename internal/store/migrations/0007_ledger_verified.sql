-- How far the ledger has been verified, so that a check reads only the
-- events after it: events 1 to seq hold, hash is the hash of event seq.
-- full_at is the last full walk from the genesis (the scheduler, `hotline
-- ledger verify`); broken_seq, when not 0, is the first break found, kept
-- until a full walk finds the chain whole again. One row.
CREATE TABLE ledger_verified (
	id            {{INT64}} PRIMARY KEY CHECK (id = 1),
	seq           {{INT64}} NOT NULL,
	hash          {{BLOB}} NOT NULL,
	checked_at    {{INT64}} NOT NULL,
	full_at       {{INT64}} NOT NULL DEFAULT 0,
	broken_seq    {{INT64}} NOT NULL DEFAULT 0,
	broken_reason TEXT NOT NULL DEFAULT ''
);
