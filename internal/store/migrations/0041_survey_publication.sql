-- Survey results that cannot be differenced (issue 25).
--
-- surveys.by_district: made by a district officer, one copy per school of
-- the district (one series). Only the district edits it (so that every
-- copy asks the same and closes at the same time, and the district's
-- results add up), and only such surveys' results are the district's to
-- read; a school's own survey stays the school's.
--
-- survey_codes.draft_mac, used_mac: a keyed MAC (of the code and a random
-- token that only the pupil's browser cookie or Telegram chat holds) of
-- who saved the code's draft, and of who submitted it. Only that browser
-- or chat sees the draft, or hears that the code was used: to anyone else
-- holding the slip, a used code looks like an unused one.
ALTER TABLE surveys ADD COLUMN by_district INTEGER NOT NULL DEFAULT 0;
UPDATE surveys SET by_district = 1 WHERE created_by IN (SELECT id FROM counselors WHERE role = 'district');
ALTER TABLE survey_codes ADD COLUMN draft_mac {{BLOB}};
ALTER TABLE survey_codes ADD COLUMN used_mac {{BLOB}};
