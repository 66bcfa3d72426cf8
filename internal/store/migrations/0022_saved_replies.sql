-- Saved replies: a school's answers that counselors write again and again
-- ("谢谢你告诉我们……"), inserted into the reply box with one click. They are
-- the school's own wording, written by staff for every case alike, never a
-- case's content; the page that edits them says not to put a student's
-- details in them.
CREATE TABLE saved_replies (
	id         {{ID}},
	school_id  {{INT64}} NOT NULL REFERENCES schools(id),
	lang       TEXT NOT NULL,
	title      TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_by {{INT64}} NOT NULL DEFAULT 0,
	updated_at {{INT64}} NOT NULL
);
CREATE INDEX saved_replies_school ON saved_replies(school_id, lang, title);
