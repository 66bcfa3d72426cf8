-- What the web chat has done, without content, so that a retry is
-- recognised after a restart (issue 12).
--
-- webchat_applied: the client message ids a chat session has applied. The
-- session is named by a keyed MAC of its token (never the token), the id
-- is the page's random message id; rows are purged after a day.
CREATE TABLE webchat_applied (
    session_mac {{BLOB}}    NOT NULL,
    client_id   TEXT    NOT NULL,
    applied_at  {{INT64}} NOT NULL,
    PRIMARY KEY (session_mac, client_id)
);
CREATE INDEX webchat_applied_at ON webchat_applied (applied_at);

-- form_tokens_used: mailbox form tokens (by keyed MAC) that filed a
-- report, so a second post of the same form is told it was received
-- instead of filing it again; purged once the token has expired.
CREATE TABLE form_tokens_used (
    token_mac  {{BLOB}}    PRIMARY KEY,
    expires_at {{INT64}} NOT NULL
);
CREATE INDEX form_tokens_used_expires ON form_tokens_used (expires_at);
