-- Where the web chat widget was seen: one row per school, origin and day
-- (Asia/Shanghai), written when the widget on a page of an allowed origin
-- asks whether it may open. Nothing about the visitor: no address, no user
-- agent, no page path, no count of visitors.
CREATE TABLE widget_seen (
	school_id {{INT64}} NOT NULL,
	origin    TEXT NOT NULL,
	day       TEXT NOT NULL,
	first_at  {{INT64}} NOT NULL,
	PRIMARY KEY (school_id, origin, day)
){{WITHOUT_ROWID}};
