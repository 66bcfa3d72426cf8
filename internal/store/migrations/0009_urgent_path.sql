-- What the dialog sweeper needs to find, in clear and free of content, beside
-- a sealed conversation state:
--   urgent_since  when an unsent draft to a known school turned urgent (the
--                 urgency detector or "someone is in danger now"), in
--                 microseconds; 0 when it is not. After ten minutes the
--                 sweeper sends such a draft to the school as an urgent report.
--   draft         1 while the state holds an unsent draft, or a report the
--                 sweeper sent whose reporter has not been told yet; such a
--                 state is cleared seven days after it was last touched.
ALTER TABLE conversations ADD COLUMN urgent_since {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_urgent ON conversations(urgent_since) WHERE urgent_since != 0;
CREATE INDEX conversations_draft ON conversations(updated_at) WHERE draft != 0;
