-- Class questionnaires (调查问卷). A survey belongs to one school (a
-- district's survey is one copy per school, sharing a series); its waves
-- (the March baseline, the June follow-up) each open and close at set
-- times. Codes are one-time slips, stored only as an HMAC under the server
-- key; a pupil's unfinished answers are sealed to the code itself and
-- dropped at submission. Responses hold the class and the day only: no code
-- id, no finer time, and a random key in a table without rowids on SQLite
-- (read in key order on PostgreSQL, never in heap order), so that neither a
-- column nor the row order links an answer to its code. Free text is sealed
-- to the school's key.
CREATE TABLE surveys (
	id         {{ID}},
	uid        TEXT NOT NULL UNIQUE,
	school_id  {{INT64}} NOT NULL REFERENCES schools(id),
	series     TEXT NOT NULL,
	district   TEXT NOT NULL DEFAULT '',
	title_zh   TEXT NOT NULL,
	title_en   TEXT NOT NULL,
	questions  TEXT NOT NULL,
	created_by {{INT64}} NOT NULL DEFAULT 0,
	created_at {{INT64}} NOT NULL
);
CREATE INDEX surveys_school ON surveys(school_id, id);
CREATE INDEX surveys_series ON surveys(series);

CREATE TABLE survey_waves (
	id        {{ID}},
	survey_id {{INT64}} NOT NULL REFERENCES surveys(id),
	n         {{INT64}} NOT NULL,
	name_zh   TEXT NOT NULL,
	name_en   TEXT NOT NULL,
	opens_at  {{INT64}} NOT NULL,
	closes_at {{INT64}} NOT NULL,
	UNIQUE (survey_id, n)
);

CREATE TABLE survey_codes (
	id           {{ID}},
	wave_id      {{INT64}} NOT NULL REFERENCES survey_waves(id),
	grade        TEXT NOT NULL,
	class        TEXT NOT NULL,
	code_mac     {{BLOB}} NOT NULL UNIQUE,
	used         {{INT64}} NOT NULL DEFAULT 0,
	draft_sealed {{BLOB}},
	created_at   {{INT64}} NOT NULL
);
CREATE INDEX survey_codes_wave ON survey_codes(wave_id, grade, class);

CREATE TABLE survey_responses (
	uid         TEXT PRIMARY KEY,
	wave_id     {{INT64}} NOT NULL REFERENCES survey_waves(id),
	grade       TEXT NOT NULL,
	class       TEXT NOT NULL,
	day         {{INT64}} NOT NULL,
	answers     TEXT NOT NULL,
	text_sealed {{BLOB}}
){{WITHOUT_ROWID}};
CREATE INDEX survey_responses_wave ON survey_responses(wave_id, grade, class);

-- A Telegram chat in the middle of a survey: the chat by its HMAC, the code
-- sealed under the server key bound to that HMAC. Deleted at submission.
CREATE TABLE survey_chats (
	chat_mac    {{BLOB}} PRIMARY KEY,
	code_sealed {{BLOB}} NOT NULL,
	step        {{INT64}} NOT NULL DEFAULT 0,
	lang        TEXT NOT NULL DEFAULT 'zh',
	updated_at  {{INT64}} NOT NULL
);
