-- 0065 on PostgreSQL: the same, with its own hex function (encode, which
-- gives lower case as the web chat's keys are spelled).
INSERT INTO handled_updates (key, handled_at)
SELECT 'web:' || encode(session_mac, 'hex') || ':' || client_id, applied_at FROM webchat_applied
ON CONFLICT (key) DO NOTHING;
INSERT INTO handled_updates (key, handled_at)
SELECT 'mbs:' || encode(token_mac, 'hex'), expires_at FROM form_tokens_used
ON CONFLICT (key) DO NOTHING;
DROP TABLE webchat_applied;
DROP TABLE form_tokens_used;
