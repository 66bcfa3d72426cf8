-- Ledger heads between the daily ones, so that the tail after the last
-- daily head is not left unvouched for a day: the store records one in the
-- appending transaction every HeadEvery events (it cannot be skipped), the
-- scheduler one when events were added and the newest is HeadInterval old.
-- A deleted tail that a checkpoint covered is then caught like a truncated
-- daily head.
CREATE TABLE ledger_checkpoints (
	seq         {{INT64}} PRIMARY KEY,
	hash        {{BLOB}} NOT NULL,
	recorded_at {{INT64}} NOT NULL
);
