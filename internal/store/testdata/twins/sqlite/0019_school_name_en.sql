-- A school's English name in a column of its own (it is also in settings),
-- so that the reporter's school search matches it with plain SQL on both
-- engines instead of SQLite's json_extract.
ALTER TABLE schools ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
UPDATE schools SET name_en = COALESCE(json_extract(settings, '$.name_en'), '');
