-- The common file rebuilds tips, which SQLite needs to drop a column's
-- constraint; PostgreSQL drops it in place. A chat tip's NULL receipt key
-- is no longer indexed (issue 28). The constraint is found by its column,
-- not by the name PostgreSQL gave it (tips_receipt_mac_key, unless that
-- name was taken when 0001 ran).
DO $$
DECLARE
	c name;
BEGIN
	SELECT con.conname INTO STRICT c
		FROM pg_constraint con
		JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
		WHERE con.conrelid = 'tips'::regclass AND con.contype = 'u'
			AND array_length(con.conkey, 1) = 1 AND a.attname = 'receipt_mac';
	EXECUTE format('ALTER TABLE tips DROP CONSTRAINT %I', c);
END
$$;
CREATE UNIQUE INDEX tips_receipt ON tips(receipt_mac) WHERE receipt_mac IS NOT NULL;
