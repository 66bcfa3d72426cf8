-- A school's English name in a column of its own (it is also in settings),
-- so that the reporter's school search matches it with plain SQL on both
-- engines instead of SQLite's json_extract. (PostgreSQL reads the JSON its
-- own way: postgres/0019_school_name_en.sql.)
ALTER TABLE schools ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
UPDATE schools SET name_en = COALESCE(json_extract(settings, '$.name_en'), '');
