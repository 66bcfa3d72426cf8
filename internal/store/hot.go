package store

// Hot statements run on every report, reply and case change. They are
// prepared once on the writer connection when the database opens, so a
// commit does not pay for parsing them again.
const (
	qPutConversation = `INSERT INTO conversations (key_mac, state_sealed, updated_at, urgent_since, draft, ask_due) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key_mac) DO UPDATE SET state_sealed = excluded.state_sealed, updated_at = excluded.updated_at,
		urgent_since = excluded.urgent_since, draft = excluded.draft, ask_due = excluded.ask_due`
	qInsertEvent   = `INSERT INTO ledger (seq, school_id, tip_id, alias, kind, detail, actor_id, at, salt, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSetLedgerHead = `UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`
	qInsertMessage = `INSERT INTO messages (uid, tip_id, author, counselor_id, body_sealed, reporter_sealed, district_sealed, photo_sealed, photo_reporter_sealed, photo_district_sealed, delivery, created_at, seal_version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`
	qEnqueue   = `INSERT INTO outbox (message_id, chat_mac, payload_sealed, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?) RETURNING id`
	qInsertTip = `INSERT INTO tips (uid, school_id, alias_zh, alias_en, channel, reporter_role, status, severity, category, urgent, assignee_id, escalated, steps, receipt_mac, reporter_key, created_at, updated_at, last_reporter_at, ack_due, reply_due, district_due, acknowledged_at, first_reply_at, resolved_at, queue_due, purged, reporter_key_version, assess_due, progress_due, possibly_urgent, safety_due, safety_asked_at,
		chat_mac, chat_sealed, chat_lang, chat_linked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (school_id, alias_zh) DO NOTHING RETURNING id`
	qUpdateTip = `UPDATE tips SET status = ?, severity = ?, category = ?, urgent = ?, assignee_id = ?, escalated = ?, steps = ?, updated_at = ?, last_reporter_at = ?,
		ack_due = ?, reply_due = ?, district_due = ?, acknowledged_at = ?, first_reply_at = ?, resolved_at = ?, queue_due = ?, purged = ?,
		assess_due = ?, progress_due = ? WHERE id = ?`
)

// AliasBatch is how many alias candidates a tip's INSERT picks from.
const AliasBatch = 16

var hotQueries = []string{qInsertTipPick, qPutConversation, qInsertEvent, qSetLedgerHead, qInsertMessage, qEnqueue, qInsertTip, qUpdateTip}
