-- Versioned cryptographic bindings (issue 13). Rows written before this
-- migration keep version 1 and stay readable; new rows are written with 2.
--
-- tips.reporter_key_version: how the web reporter's key pair was derived
-- from the receipt (1: the receipt alone; 2: the receipt and a subkey of
-- the server key, so that a copy of the database cannot test receipt
-- guesses offline). 0 for tips without a reporter key.
ALTER TABLE tips ADD COLUMN reporter_key_version INTEGER NOT NULL DEFAULT 1;
UPDATE tips SET reporter_key_version = 0 WHERE reporter_key IS NULL;

-- messages.seal_version: the HPKE info label the message's ciphertexts
-- were sealed under (1: school, tip, message, part; 2: also the author
-- kind and counselor, so that a relabelled author does not open).
ALTER TABLE messages ADD COLUMN seal_version INTEGER NOT NULL DEFAULT 1;
