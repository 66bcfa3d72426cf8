-- The safety question (issue 23): when the detector is unsure whether a
-- reporter's words mean danger now, the reporter is asked at once whether
-- they are in danger or thinking of hurting themselves. What the sweeper
-- needs to find, in clear and free of content:
--
-- Beside a tip (a question about a report already filed: a follow-up
-- message, the mailbox, or a draft sent before it was answered):
--   safety_due       when the waiting question goes unanswered, in
--                    microseconds; 0 when none waits.
--   safety_asked_at  when the last question was asked, so that a reporter
--                    is not asked again at every message.
--   possibly_urgent  1 when a question went unanswered: the counselor's
--                    queue marks the case and filters on it.
ALTER TABLE tips ADD COLUMN safety_due {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE tips ADD COLUMN safety_asked_at {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE tips ADD COLUMN possibly_urgent INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tips_safety_due ON tips(safety_due) WHERE safety_due != 0;

-- Beside a sealed conversation state (a question about an unsent draft;
-- the question itself and its answer are in the sealed state):
--   ask_due          when the waiting question goes unanswered; 0 when none.
ALTER TABLE conversations ADD COLUMN ask_due {{INT64}} NOT NULL DEFAULT 0;
CREATE INDEX conversations_ask ON conversations(ask_due) WHERE ask_due != 0;
