-- One row that /healthz writes (issue 24): a cheap write through the real
-- writer, at most one every few seconds per node, so that a server whose
-- writes fail (disk full, read-only, the database gone) reports itself
-- unhealthy instead of answering 200 to a read.
CREATE TABLE health_probe (
	id {{INT64}} PRIMARY KEY CHECK (id = 1),
	at {{INT64}} NOT NULL
);
INSERT INTO health_probe (id, at) VALUES (1, 0);
