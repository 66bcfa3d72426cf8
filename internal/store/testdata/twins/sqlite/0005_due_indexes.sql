-- The deadline scheduler looks only at tips whose nearest open deadline or
-- district-report deadline has passed, instead of scanning every tip on
-- every tick. tips_school_status is covered by tips_unread (same prefix),
-- and nothing reads tips by creation time alone.
CREATE INDEX tips_due ON tips(queue_due);
CREATE INDEX tips_district_due ON tips(district_due) WHERE district_due > 0;
DROP INDEX tips_school_status;
DROP INDEX tips_created;
