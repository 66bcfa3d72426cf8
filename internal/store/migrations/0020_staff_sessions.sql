-- Inbox sessions that any node can serve (issue 14). The row holds the
-- school (or district) key wrapped under a secret that only the browser's
-- cookie carries, so a stolen database opens no key; the session is named
-- by a keyed MAC of the cookie's id, never the id. Log-out, password
-- change, deactivation and idle expiry delete the row.
CREATE TABLE staff_sessions (
    id_mac         {{BLOB}}    PRIMARY KEY,
    counselor_id   {{INT64}} NOT NULL REFERENCES counselors(id),
    wrapped_key    {{BLOB}}    NOT NULL,
    counter_device {{BLOB}},              -- the password counter its log-in used (device MAC), if any
    device_mac     {{BLOB}},              -- MAC of the browser's device token, once known
    complete       INTEGER NOT NULL DEFAULT 0, -- every factor passed
    pending_totp   {{BLOB}},              -- a TOTP key being enrolled, sealed under the cookie's secret
    created_at     {{INT64}} NOT NULL,
    last_seen      {{INT64}} NOT NULL
);
CREATE INDEX staff_sessions_counselor ON staff_sessions (counselor_id);
CREATE INDEX staff_sessions_last_seen ON staff_sessions (last_seen);
