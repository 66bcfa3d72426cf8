-- The district's own platform (平安校园平台): its webhook endpoints, each
-- URL and signing secret sealed under the server key and bound to its row
-- (like alert targets), shown masked.
CREATE TABLE webhook_endpoints (
	id          {{ID}},
	district    TEXT NOT NULL,
	sealed      {{BLOB}},
	masked      TEXT NOT NULL DEFAULT '',
	created_by  {{INT64}} NOT NULL DEFAULT 0,
	created_at  {{INT64}} NOT NULL,
	ok_at       {{INT64}} NOT NULL DEFAULT 0,
	failed_at   {{INT64}} NOT NULL DEFAULT 0,
	fail_code   TEXT NOT NULL DEFAULT '',
	fail_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_endpoints_district ON webhook_endpoints(district);

-- The outbox of content-free events for the platform (and of the daily
-- ledger head for the district's group robots and officers' e-mail),
-- written in the same transaction as the event itself. A row goes to one
-- endpoint or one alert target; event_id is the delivery id a receiver
-- drops duplicates by (X-Hotline-Id), the same on every retry. Rows are
-- claimed with a lease, so that several nodes never send one at once; a
-- delivered or abandoned row stays a while for the settings page.
CREATE TABLE webhook_outbox (
	id              {{ID}},
	event_id        TEXT NOT NULL,
	endpoint_id     {{INT64}} NOT NULL DEFAULT 0,
	target_id       {{INT64}} NOT NULL DEFAULT 0,
	district        TEXT NOT NULL DEFAULT '',
	kind            TEXT NOT NULL,
	payload         TEXT NOT NULL,
	attempts        {{INT64}} NOT NULL DEFAULT 0,
	next_attempt_at {{INT64}} NOT NULL,
	claimed_by      TEXT NOT NULL DEFAULT '',
	claimed_until   {{INT64}} NOT NULL DEFAULT 0,
	created_at      {{INT64}} NOT NULL,
	delivered_at    {{INT64}} NOT NULL DEFAULT 0,
	abandoned_at    {{INT64}} NOT NULL DEFAULT 0,
	last_code       TEXT NOT NULL DEFAULT '',
	UNIQUE (event_id, endpoint_id, target_id)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at, id) WHERE delivered_at = 0 AND abandoned_at = 0;
CREATE INDEX webhook_outbox_district ON webhook_outbox(district, id);

-- The survey waves whose closing was announced: a wave closes by the
-- clock, not by a transaction, so a scan finds them; this keeps it to once.
CREATE TABLE webhook_waves (
	series       TEXT NOT NULL,
	wave         {{INT64}} NOT NULL,
	announced_at {{INT64}} NOT NULL,
	PRIMARY KEY (series, wave)
);
