-- Idempotent submission (issue 12). A conversation creates a random
-- submission id with its draft; the tip it files is recorded here under
-- HMAC(server key, submission id), so a retry of the same submission (a
-- redelivered update, a resent "send") finds the tip instead of filing a
-- second one. The key is unique: two filings of one submission cannot both
-- commit, on one node or several.
--
-- receipt_sealed is a web tip's receipt sealed to a secret only the
-- reporter's page holds (the server cannot open it), kept until
-- receipt_until (a day) so that a page whose answer was lost can claim it
-- once; it is cleared when claimed or expired. Nothing else is stored.
CREATE TABLE submissions (
    submission_mac {{BLOB}} PRIMARY KEY,
    tip_id         {{INT64}} NOT NULL REFERENCES tips(id),
    receipt_sealed {{BLOB}},
    receipt_until  {{INT64}} NOT NULL DEFAULT 0
);
CREATE INDEX submissions_tip ON submissions(tip_id);
CREATE INDEX submissions_receipt_until ON submissions(receipt_until) WHERE receipt_sealed IS NOT NULL;
