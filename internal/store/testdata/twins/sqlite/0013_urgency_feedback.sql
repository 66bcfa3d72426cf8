-- Counselors' feedback on the urgency flag, counted so that the detector
-- can be tuned: labels, never text.
--
-- Beside each tip, in clear like the flag itself:
--   urgent_reason    why the flag was first raised: a detector category
--                    (self-harm, weapon, sexual, violence-now, threat), or
--                    'reporter' when the reporter said someone is in danger
--                    now (or chose self-harm) and the detector was silent;
--                    '' when no flag was raised at intake or by a later
--                    reporter message.
--   urgent_feedback  the counselor's label on it: 'wrong' (they cleared a
--                    raised flag), 'missed' (they set the flag on a tip
--                    that nobody flagged), or ''. Kept so that a label is
--                    counted once and an undone label is uncounted.
ALTER TABLE tips ADD COLUMN urgent_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE tips ADD COLUMN urgent_feedback TEXT NOT NULL DEFAULT '';

-- The counts the district reads: per district (the schools' district
-- name), month (YYYY-MM, China time), kind ('flagged', 'wrong', 'missed')
-- and reason. No school and no tip: a count here singles out nobody.
CREATE TABLE urgency_feedback (
	district TEXT NOT NULL,
	month    TEXT NOT NULL,
	kind     TEXT NOT NULL,
	reason   TEXT NOT NULL,
	n        INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (district, month, kind, reason)
);
