-- Keys every node must share, sealed under the server key: the Web Push
-- (VAPID) key pair. Browsers bind each push subscription to its public key,
-- so a key made per node or per start would orphan every subscription; the
-- first node to need it writes it, the others read that one.
CREATE TABLE alert_keys (
	name       TEXT PRIMARY KEY,
	sealed     {{BLOB}} NOT NULL,
	created_at {{INT64}} NOT NULL
);
