-- Several nodes send the outbox (issue 14): a node claims a chat's oldest
-- reply for a lease before sending it, so no two nodes send the same row,
-- and a row whose lease ran out (its node died mid-send) is taken by
-- another. claimed_by names the node (a random id per process).
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until {{INT64}} NOT NULL DEFAULT 0;
