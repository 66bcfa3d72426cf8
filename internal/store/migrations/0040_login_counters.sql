-- Log-in counters, second round (issue 25).
--
-- failed_at (every counter): when its last failure was counted (unix
-- micros). A count that has rested a day starts again at its next failure,
-- for every kind of counter alike, so that forgetting an unknown name's
-- row changes nothing anyone can observe.
--
-- counselor_devices.totp_*: a known browser's own count of wrong second
-- factor codes, so that someone who knows the password cannot lock the
-- owner's known browser out of the second factor.
--
-- login_unknown: failures at usernames no active account has, by a keyed
-- MAC of the name (never the name), counted and locked exactly as an
-- account's are and kept in the database, so that after a restart neither
-- timing nor "too many attempts" tells which usernames exist.
ALTER TABLE counselors ADD COLUMN failed_at {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE login_totp ADD COLUMN failed_at {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE counselor_devices ADD COLUMN failed_at {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE counselor_devices ADD COLUMN totp_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE counselor_devices ADD COLUMN totp_locked_until {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE counselor_devices ADD COLUMN totp_failed_at {{INT64}} NOT NULL DEFAULT 0;

CREATE TABLE login_unknown (
	name_mac     {{BLOB}} PRIMARY KEY,
	failures     INTEGER NOT NULL DEFAULT 0,
	locked_until {{INT64}} NOT NULL DEFAULT 0,
	failed_at    {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX login_unknown_failed ON login_unknown (failed_at);
