-- Fewer pages per write (issue 18). A table whose primary key is its only
-- access path is stored as that key's b-tree (WITHOUT ROWID) instead of a
-- rowid table plus a separate index on the key: one b-tree page written per
-- new row instead of two, and the key is not stored twice. Their rows are
-- small (MACs, ids, times), which is where WITHOUT ROWID pays. Nothing
-- references these tables, and nothing reads their rowid.
-- (conversations keeps its rowid: a sealed state is often over the
-- ~1 KB an index b-tree keeps in a leaf, and would spill to overflow pages.)
-- SQLite only: postgres/0028_without_rowid.sql does nothing instead.

CREATE TABLE submissions_new (
    submission_mac {{BLOB}} PRIMARY KEY,
    tip_id         {{INT64}} NOT NULL REFERENCES tips(id),
    receipt_sealed {{BLOB}},
    receipt_until  {{INT64}} NOT NULL DEFAULT 0
){{WITHOUT_ROWID}};
INSERT INTO submissions_new (submission_mac, tip_id, receipt_sealed, receipt_until)
    SELECT submission_mac, tip_id, receipt_sealed, receipt_until FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_new RENAME TO submissions;
CREATE INDEX submissions_tip ON submissions(tip_id);
CREATE INDEX submissions_receipt_until ON submissions(receipt_until) WHERE receipt_sealed IS NOT NULL;

CREATE TABLE handled_updates_new (
    key        TEXT PRIMARY KEY,
    handled_at {{INT64}} NOT NULL
){{WITHOUT_ROWID}};
INSERT INTO handled_updates_new (key, handled_at) SELECT key, handled_at FROM handled_updates;
DROP TABLE handled_updates;
ALTER TABLE handled_updates_new RENAME TO handled_updates;
CREATE INDEX handled_updates_at ON handled_updates (handled_at);

CREATE TABLE webchat_applied_new (
    session_mac {{BLOB}}    NOT NULL,
    client_id   TEXT    NOT NULL,
    applied_at  {{INT64}} NOT NULL,
    PRIMARY KEY (session_mac, client_id)
){{WITHOUT_ROWID}};
INSERT INTO webchat_applied_new (session_mac, client_id, applied_at) SELECT session_mac, client_id, applied_at FROM webchat_applied;
DROP TABLE webchat_applied;
ALTER TABLE webchat_applied_new RENAME TO webchat_applied;
CREATE INDEX webchat_applied_at ON webchat_applied (applied_at);

CREATE TABLE form_tokens_used_new (
    token_mac  {{BLOB}}    PRIMARY KEY,
    expires_at {{INT64}} NOT NULL
){{WITHOUT_ROWID}};
INSERT INTO form_tokens_used_new (token_mac, expires_at) SELECT token_mac, expires_at FROM form_tokens_used;
DROP TABLE form_tokens_used;
ALTER TABLE form_tokens_used_new RENAME TO form_tokens_used;
CREATE INDEX form_tokens_used_expires ON form_tokens_used (expires_at);
