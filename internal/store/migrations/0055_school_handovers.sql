-- A district officer's hand-over of a school to its first (or next) admin:
-- a one-time link whose token is kept only as a SHA-256 hash. A school
-- added from the district page has no row in schools, and so no key pair
-- and no channel, until its admin accepts (school_id 0 until then); a
-- hand-over of an existing school (its admin left) is accepted with the
-- school's recovery key, which the district never holds.
CREATE TABLE school_handovers (
	id          {{ID}},
	district    TEXT NOT NULL,
	school_id   {{INT64}} NOT NULL DEFAULT 0,
	code        TEXT NOT NULL,
	name        TEXT NOT NULL,
	name_en     TEXT NOT NULL DEFAULT '',
	token_hash  {{BLOB}} NOT NULL UNIQUE,
	created_by  {{INT64}} NOT NULL,
	created_at  {{INT64}} NOT NULL,
	expires_at  {{INT64}} NOT NULL,
	accepted_at {{INT64}} NOT NULL DEFAULT 0,
	revoked_at  {{INT64}} NOT NULL DEFAULT 0,
	admin_id    {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX school_handovers_district ON school_handovers(district, id);
CREATE INDEX school_handovers_code ON school_handovers(code, id);
