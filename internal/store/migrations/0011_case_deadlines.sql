-- No case outside the net: every open case owes a next step by a date.
-- assess_due is when an unassessed case must have a severity;
-- progress_due is when an assessed open case needs its next action or its
-- closure, renewed by every counselor action. Both feed queue_due (the
-- nearest open deadline), so the scheduler's range scan of tips_due finds
-- them with the others.
ALTER TABLE tips ADD COLUMN assess_due {{INT64}} NOT NULL DEFAULT 0;
ALTER TABLE tips ADD COLUMN progress_due {{INT64}} NOT NULL DEFAULT 0;

-- A district's own case deadlines (hotline.CaseDeadlines as JSON); a
-- district without a row uses the defaults. Keyed by name, like
-- schools.district, so a district needs no key pair to have settings.
CREATE TABLE district_settings (
	district   TEXT PRIMARY KEY,
	deadlines  TEXT NOT NULL DEFAULT '{}',
	updated_at {{INT64}} NOT NULL
);

-- Cases already open come under the net with the defaults (no district
-- has settings yet): 72 hours from receipt to assess, and from the last
-- change to the next action 14, 7, 3 and 2 days by severity.
UPDATE tips SET assess_due = created_at + 259200000000
	WHERE status IN ('new', 'acknowledged', 'investigating') AND severity = 'unassessed';
UPDATE tips SET progress_due = updated_at + CASE severity
		WHEN 'minor' THEN 1209600000000
		WHEN 'serious' THEN 604800000000
		WHEN 'severe' THEN 259200000000
		ELSE 172800000000 END
	WHERE status IN ('new', 'acknowledged', 'investigating') AND severity IN ('minor', 'serious', 'severe', 'criminal');
UPDATE tips SET queue_due = CASE WHEN assess_due > 0 AND assess_due < queue_due THEN assess_due ELSE queue_due END
	WHERE assess_due > 0;
UPDATE tips SET queue_due = CASE WHEN progress_due > 0 AND progress_due < queue_due THEN progress_due ELSE queue_due END
	WHERE progress_due > 0;
