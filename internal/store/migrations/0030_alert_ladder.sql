-- Danger reaches a person (issue 22): where alerts go, who is on call when,
-- the escalation ladder of each urgent case, every send attempt, and the
-- one-time links of alerts. Nothing here holds content, an address, a
-- phone number or a key in plaintext.

-- The school's head (校长/德育主任): the fourth rung of the ladder. A duty
-- held beside the staff member's role (a principal may also be the admin).
-- counselors.on_call now means the school-wide fallback on call at every
-- hour nobody of the rota covers; for a district officer it means the
-- district's duty officer (区教育局值班), the last rung.
ALTER TABLE counselors ADD COLUMN duty_head INTEGER NOT NULL DEFAULT 0;

-- Minutes between two rungs of a ladder, set per district; 0: the default.
ALTER TABLE district_settings ADD COLUMN ladder_minutes INTEGER NOT NULL DEFAULT 0;

-- A destination someone linked: a staff member's own (owner 'staff'), a
-- school's group robot or webhook ('school'), a district's ('district').
-- sealed holds the address and secret sealed under the server key, bound
-- to this row and its owner (vault.SealAlertTarget); NULL for Telegram and
-- e-mail, whose addresses stay in counselors. verified_at is set only when
-- a test alert was acknowledged from its own link or code; a failure after
-- it (failed_at later) makes the target not working again.
CREATE TABLE alert_targets (
	id           {{ID}},
	owner        TEXT NOT NULL,
	counselor_id {{INT64}} REFERENCES counselors(id),
	school_id    {{INT64}} REFERENCES schools(id),
	district     TEXT NOT NULL DEFAULT '',
	kind         TEXT NOT NULL,
	sealed       {{BLOB}},
	created_at   {{INT64}} NOT NULL,
	tested_at    {{INT64}} NOT NULL DEFAULT 0,
	verified_at  {{INT64}} NOT NULL DEFAULT 0,
	failed_at    {{INT64}} NOT NULL DEFAULT 0,
	fail_code    TEXT NOT NULL DEFAULT '',
	fail_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_targets_counselor ON alert_targets(counselor_id);
CREATE INDEX alert_targets_school ON alert_targets(school_id);
CREATE INDEX alert_targets_district ON alert_targets(district);

-- Telegram chats and e-mail addresses linked before become targets, not
-- yet tested.
INSERT INTO alert_targets (owner, counselor_id, kind, created_at)
	SELECT 'staff', id, 'telegram', created_at FROM counselors WHERE telegram_sealed IS NOT NULL AND active = 1;
INSERT INTO alert_targets (owner, counselor_id, kind, created_at)
	SELECT 'staff', id, 'email', created_at FROM counselors WHERE email_sealed IS NOT NULL AND active = 1;

-- The rota (值班表): who is on call on which weekdays and hours, first or
-- second. weekdays is a bit set (bit 0 Monday … bit 6 Sunday) of the days
-- a slot starts on; hours are the school's local time, end_hour not after
-- start_hour runs through midnight into the next day.
CREATE TABLE rota_slots (
	id           {{ID}},
	school_id    {{INT64}} NOT NULL REFERENCES schools(id),
	counselor_id {{INT64}} NOT NULL REFERENCES counselors(id),
	position     INTEGER NOT NULL,
	weekdays     INTEGER NOT NULL,
	start_hour   INTEGER NOT NULL,
	end_hour     INTEGER NOT NULL,
	created_at   {{INT64}} NOT NULL
);
CREATE INDEX rota_slots_school ON rota_slots(school_id);

-- The escalation ladder of an urgent case: the rung paged last, when the
-- next is due and whether it still climbs. Written before any alert of a
-- rung goes out, so another node resumes where a dead one stopped.
CREATE TABLE ladders (
	tip_id        {{INT64}} PRIMARY KEY REFERENCES tips(id),
	school_id     {{INT64}} NOT NULL REFERENCES schools(id),
	rung          INTEGER NOT NULL DEFAULT 0,
	state         TEXT NOT NULL,
	next_at       {{INT64}} NOT NULL DEFAULT 0,
	started_at    {{INT64}} NOT NULL,
	first_sent_at {{INT64}} NOT NULL DEFAULT 0,
	acked_at      {{INT64}} NOT NULL DEFAULT 0,
	acked_by      {{INT64}} NOT NULL DEFAULT 0,
	metered       INTEGER NOT NULL DEFAULT 0,
	updated_at    {{INT64}} NOT NULL
);
CREATE INDEX ladders_due ON ladders(state, next_at);

-- Every alert send, content-free: the case, the rung (0: a deadline
-- alert), whom (a staff member, or 0 for a group), over which target and
-- kind, and how it went (pending, sent, failed; 'nobody' records a rung
-- that had nobody to page). reason is safe to show (alert.Error.Reason).
CREATE TABLE alert_sends (
	id           {{ID}},
	school_id    {{INT64}} NOT NULL,
	tip_id       {{INT64}} NOT NULL DEFAULT 0,
	rung         INTEGER NOT NULL DEFAULT 0,
	alert_id     {{INT64}} NOT NULL DEFAULT 0,
	counselor_id {{INT64}} NOT NULL DEFAULT 0,
	target_id    {{INT64}} NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL,
	code         TEXT NOT NULL DEFAULT '',
	reason       TEXT NOT NULL DEFAULT '',
	created_at   {{INT64}} NOT NULL,
	done_at      {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX alert_sends_pending ON alert_sends(state, id);
CREATE INDEX alert_sends_tip ON alert_sends(tip_id, id);
CREATE INDEX alert_sends_school ON alert_sends(school_id, id);

-- One-time links of alerts ("我来处理 / I'm on it", and a test's
-- confirmation): only a keyed hash of the token is kept. A test sent where
-- a link cannot go (a text message, a call) also carries a short code,
-- kept the same way, with its failed tries counted.
CREATE TABLE alert_tokens (
	token_mac    {{BLOB}} PRIMARY KEY,
	purpose      TEXT NOT NULL,
	counselor_id {{INT64}} NOT NULL DEFAULT 0,
	target_id    {{INT64}} NOT NULL DEFAULT 0,
	tip_id       {{INT64}} NOT NULL DEFAULT 0,
	school_id    {{INT64}} NOT NULL DEFAULT 0,
	code_mac     {{BLOB}},
	tries        INTEGER NOT NULL DEFAULT 0,
	created_at   {{INT64}} NOT NULL,
	expires_at   {{INT64}} NOT NULL,
	used_at      {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX alert_tokens_expiry ON alert_tokens(expires_at);
CREATE INDEX alert_tokens_target ON alert_tokens(target_id);
