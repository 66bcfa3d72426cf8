-- A district's tokens for the read-only statistics endpoint: only a keyed
-- hash of each (HMAC under the server key) is stored; the token itself is
-- shown once, when it is made. A revoked token stays, revoked, for the
-- record.
CREATE TABLE stats_tokens (
	id           {{ID}},
	district     TEXT NOT NULL,
	token_mac    {{BLOB}} NOT NULL UNIQUE,
	label        TEXT NOT NULL DEFAULT '',
	hint         TEXT NOT NULL DEFAULT '',
	created_by   {{INT64}} NOT NULL DEFAULT 0,
	created_at   {{INT64}} NOT NULL,
	used_at      {{INT64}} NOT NULL DEFAULT 0,
	revoked_at   {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX stats_tokens_district ON stats_tokens(district, id);
