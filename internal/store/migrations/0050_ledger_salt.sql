-- Version 2 ledger events: each event's random salt, so that its hash
-- commits to its fields through a salted digest (internal/ledger). A case's
-- evidence bundle then carries only the digests of the other cases' events
-- between its own, and the chain still recomputes. NULL for the version 1
-- events written before, whose hash covers their fields directly.
ALTER TABLE ledger ADD COLUMN salt {{BLOB}};
