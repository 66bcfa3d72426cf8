-- Rectification measures (整改措施) recorded against a survey's finding:
-- what, who, by when, done. Staff's words about the school, never a
-- pupil's; the ledger records only that one was recorded or done.
CREATE TABLE survey_measures (
	id         {{ID}},
	uid        TEXT NOT NULL UNIQUE,
	school_id  {{INT64}} NOT NULL REFERENCES schools(id),
	survey_id  {{INT64}} NOT NULL REFERENCES surveys(id),
	finding    TEXT NOT NULL,
	what       TEXT NOT NULL,
	who        TEXT NOT NULL,
	due_at     {{INT64}} NOT NULL,
	done_at    {{INT64}} NOT NULL DEFAULT 0,
	created_by {{INT64}} NOT NULL DEFAULT 0,
	created_at {{INT64}} NOT NULL
);
CREATE INDEX survey_measures_school ON survey_measures(school_id, done_at, due_at);
