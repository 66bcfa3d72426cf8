-- Fewer pages per write (issue 18): indexes that no query needs any more.
--
-- tips_due (queue_due) served only the scheduler's overdue scan, which now
-- reads tips_queue per school (TipsPastDue); every new tip and every case
-- change wrote a page of it.
--
-- submissions: only rows still holding a sealed receipt (a web tip's first
-- day) are ever looked up by tip or by expiry; one partial index on them
-- replaces an index of every submission by tip and a second partial one.
DROP INDEX IF EXISTS tips_due;
DROP INDEX IF EXISTS submissions_tip;
DROP INDEX IF EXISTS submissions_receipt_until;
CREATE INDEX submissions_pending ON submissions(tip_id, receipt_until) WHERE receipt_sealed IS NOT NULL;
