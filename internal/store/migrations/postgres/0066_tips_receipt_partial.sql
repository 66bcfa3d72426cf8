-- The common file rebuilds tips, which SQLite needs to drop a column's
-- constraint; PostgreSQL drops it in place. A chat tip's NULL receipt key
-- is no longer indexed (issue 28).
ALTER TABLE tips DROP CONSTRAINT tips_receipt_mac_key;
CREATE UNIQUE INDEX tips_receipt ON tips(receipt_mac) WHERE receipt_mac IS NOT NULL;
