-- The audit trail of staff actions that are not case events: log-ins
-- (complete, failed password or code), key recovery, password changes,
-- who opened which case, exports. Content-free like the ledger: no IP
-- address, no user agent (client is a coarse family such as
-- "Chrome/Android"), no typed username of a failed log-in to an account
-- that does not exist (nothing to attribute it to). The district reads its
-- schools' and officers' rows, a school admin the school's.
CREATE TABLE audit (
	id           {{ID}},
	at           {{INT64}} NOT NULL,
	kind         TEXT NOT NULL,
	district     TEXT NOT NULL DEFAULT '',
	school_id    {{INT64}} NOT NULL DEFAULT 0,
	counselor_id {{INT64}} NOT NULL DEFAULT 0,
	tip_id       {{INT64}} NOT NULL DEFAULT 0,
	client       TEXT NOT NULL DEFAULT '',
	detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_school ON audit(school_id, id);
CREATE INDEX audit_district ON audit(district, id);
CREATE INDEX audit_opened ON audit(counselor_id, tip_id, at);
