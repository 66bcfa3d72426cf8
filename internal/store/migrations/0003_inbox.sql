-- When each counselor last opened each case, so that the inbox can mark a
-- case unread when its reporter wrote after that. Times only, no content.
CREATE TABLE tip_views (
	counselor_id {{INT64}} NOT NULL REFERENCES counselors(id),
	tip_id       {{INT64}} NOT NULL REFERENCES tips(id),
	viewed_at    {{INT64}} NOT NULL,
	PRIMARY KEY (counselor_id, tip_id)
);
CREATE INDEX tip_views_tip ON tip_views(tip_id);

-- The inbox's unread count reads only this index: tips of one school are
-- spread over the whole table, so touching their rows would read a page
-- per tip.
CREATE INDEX tips_unread ON tips(school_id, status, last_reporter_at);
