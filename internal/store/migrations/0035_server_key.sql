-- The server key's fingerprint (issue 24), recorded at the key's first use:
-- a node given a different key, or none, with a database that has data
-- refuses to start instead of sealing and looking up under a new key (every
-- receipt and sealed chat id would silently stop working). One row; the
-- fingerprint is derived from the key and reveals nothing of it.
CREATE TABLE server_key (
	id          {{INT64}} PRIMARY KEY CHECK (id = 1),
	fingerprint TEXT NOT NULL,
	recorded_at {{INT64}} NOT NULL
);
