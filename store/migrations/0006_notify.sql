-- Push notifications: device tokens, tracking tokens of orders, and the
-- sending state of the outbox. The notify worker leases outbox messages
-- (locked_until/locked_by), expands each once into deliveries (one per device
-- token or webhook endpoint, unique per message and target), then sends and
-- retries every delivery on its own; a delivery that gave up is kept (failed)
-- as a dead letter, with its attempts in delivery_attempts.

ALTER TABLE outbox ADD COLUMN locked_until {{time}};
ALTER TABLE outbox ADD COLUMN locked_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN failed_at {{time}};

-- A courier's device belongs to the user (user_id), a customer's to an
-- order (order_id); owner is "user:<id>" or "order:<id>".
CREATE TABLE devices (
	id         {{id}},
	app        TEXT NOT NULL,
	platform   TEXT NOT NULL,
	token      TEXT NOT NULL,
	owner      TEXT NOT NULL,
	user_id    BIGINT REFERENCES users (id),
	order_id   BIGINT REFERENCES orders (id),
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);
CREATE UNIQUE INDEX devices_owner_token_key ON devices (app, owner, token);
CREATE INDEX devices_token_idx ON devices (token);

CREATE TABLE order_tracking (
	order_id   BIGINT PRIMARY KEY REFERENCES orders (id),
	token      TEXT NOT NULL,
	created_at {{time}} NOT NULL
);
CREATE UNIQUE INDEX order_tracking_token_key ON order_tracking (token);

CREATE TABLE deliveries (
	id              {{id}},
	outbox_id       BIGINT NOT NULL REFERENCES outbox (id),
	channel         TEXT NOT NULL,
	target          BIGINT NOT NULL,
	device_id       BIGINT,
	endpoint_id     BIGINT,
	event           TEXT NOT NULL,
	payload         TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at {{time}} NOT NULL,
	locked_until    {{time}},
	locked_by       TEXT NOT NULL DEFAULT '',
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	last_duration_ms BIGINT NOT NULL DEFAULT 0,
	provider_id     TEXT NOT NULL DEFAULT '',
	sent_at         {{time}},
	created_at      {{time}} NOT NULL,
	updated_at      {{time}} NOT NULL
);
CREATE UNIQUE INDEX deliveries_target_key ON deliveries (outbox_id, channel, target);
CREATE INDEX deliveries_pending_idx ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_idx ON deliveries (endpoint_id, id);

CREATE TABLE delivery_attempts (
	id          {{id}},
	delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
	attempt     INTEGER NOT NULL,
	status      INTEGER NOT NULL DEFAULT 0,
	duration_ms BIGINT NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	at          {{time}} NOT NULL
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);
