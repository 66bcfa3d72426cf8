-- PostgreSQL's 0019 (see ../0019_school_name_en.sql): the same column,
-- filled from settings with jsonb's ->> instead of SQLite's json_extract.
ALTER TABLE schools ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
UPDATE schools SET name_en = COALESCE(settings::jsonb ->> 'name_en', '');
