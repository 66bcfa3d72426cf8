-- Accountability: deadlines that fired, alerts owed to staff, one-time
-- codes that link a staff member's Telegram chat, district follow-ups (续报)
-- and the scheduler's cursors. None of it holds content.

-- One row per missed deadline: the primary key makes each deadline fire
-- once, across restarts and several scheduler passes.
CREATE TABLE deadline_misses (
	tip_id      {{INT64}} NOT NULL REFERENCES tips(id),
	kind        TEXT NOT NULL,
	due         {{INT64}} NOT NULL,
	recorded_at {{INT64}} NOT NULL,
	PRIMARY KEY (tip_id, kind, due)
);

-- Alerts owed to staff: written in the transaction that decides them, sent
-- after it (at least once), marked sent. The key makes each alert unique.
CREATE TABLE alerts (
	id         {{ID}},
	key        TEXT NOT NULL UNIQUE,
	school_id  {{INT64}} NOT NULL REFERENCES schools(id),
	tip_id     {{INT64}} NOT NULL REFERENCES tips(id),
	audience   TEXT NOT NULL,
	reason     TEXT NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at {{INT64}} NOT NULL,
	sent_at    {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX alerts_pending ON alerts(sent_at, id);

-- One-time codes that link a staff member's Telegram chat to alerts; only
-- the HMAC of a code is kept, until it is used or expires.
CREATE TABLE link_codes (
	code_mac     {{BLOB}} PRIMARY KEY,
	counselor_id {{INT64}} NOT NULL REFERENCES counselors(id),
	expires_at   {{INT64}} NOT NULL
);

-- Follow-up reports (续报) owed to the district after an escalated case
-- changed; reported_at is set when the school records the report.
CREATE TABLE district_followups (
	tip_id      {{INT64}} NOT NULL REFERENCES tips(id),
	due         {{INT64}} NOT NULL,
	trigger_seq {{INT64}} NOT NULL,
	created_at  {{INT64}} NOT NULL,
	reported_at {{INT64}} NOT NULL DEFAULT 0,
	PRIMARY KEY (tip_id, due)
);

-- Cursors of the scheduler (e.g. the last ledger event scanned for changes).
CREATE TABLE oversight_state (
	name  TEXT PRIMARY KEY,
	value {{INT64}} NOT NULL
);
