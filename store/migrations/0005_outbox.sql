-- The transactional outbox: notifications written with the change that causes
-- them, sent later by a worker. dedup_key makes queuing idempotent.

CREATE TABLE outbox (
	id              {{id}},
	topic           TEXT NOT NULL,
	dedup_key       TEXT NOT NULL,
	payload         {{json}} NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{time}} NOT NULL,
	sent_at         {{time}},
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      {{time}} NOT NULL
);
CREATE UNIQUE INDEX outbox_dedup_key ON outbox (dedup_key);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE sent_at IS NULL;
