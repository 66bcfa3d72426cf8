-- Log-in hardening: the second factor's own throttle and replay memory, and
-- the browsers each counselor has logged in from.
--
-- login_totp: one row per counselor who has tried a TOTP code.
--   failures      wrong codes since the last complete log-in
--   locked_until  no code is evaluated before this (unix micros)
--   last_step     the last 30-second TOTP step accepted (enrolment included);
--                 a code of this or an earlier step is refused, ever
CREATE TABLE login_totp (
	counselor_id {{INT64}} PRIMARY KEY REFERENCES counselors(id),
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until {{INT64}} NOT NULL DEFAULT 0,
	last_step    {{INT64}} NOT NULL DEFAULT 0
);

-- counselor_devices: a browser that completed a log-in, known by the HMAC of
-- the random token in its device cookie (the token itself is never stored).
-- A known device's wrong passwords count here, not against the account, so
-- a stranger's guesses from elsewhere never lock the owner out of it.
CREATE TABLE counselor_devices (
	counselor_id {{INT64}} NOT NULL REFERENCES counselors(id),
	mac          {{BLOB}} NOT NULL,
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until {{INT64}} NOT NULL DEFAULT 0,
	created_at   {{INT64}} NOT NULL,
	last_used    {{INT64}} NOT NULL,
	PRIMARY KEY (counselor_id, mac)
);
