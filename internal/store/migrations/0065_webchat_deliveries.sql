-- The web chat's applied messages and the mailbox's used report forms are
-- recorded where the messengers' deliveries are: in handled_updates, with
-- their effect (dialog.Apply, dialog.Once), under the keys
-- "web:<session MAC hex>:<client id>" and "mbs:<token MAC hex>". The rows
-- of the two tables that held them before are carried over under those
-- keys, so that a retry straddling the upgrade is still recognised; a used
-- form's row counts from its token's expiry. handled_updates purges them
-- after a week, as it does its own (store.HandledTTL); the tables go.
INSERT INTO handled_updates (key, handled_at)
SELECT 'web:' || lower(hex(session_mac)) || ':' || client_id, applied_at FROM webchat_applied WHERE true
ON CONFLICT (key) DO NOTHING;
INSERT INTO handled_updates (key, handled_at)
SELECT 'mbs:' || lower(hex(token_mac)), expires_at FROM form_tokens_used WHERE true
ON CONFLICT (key) DO NOTHING;
DROP TABLE webchat_applied;
DROP TABLE form_tokens_used;
