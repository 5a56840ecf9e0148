-- The courier's day: structured addresses and the door report on orders,
-- couriers' shifts, every event a phone reported (exactly once by its
-- client event id) and proofs of delivery.

ALTER TABLE orders ADD COLUMN address_details {{json}};
ALTER TABLE orders ADD COLUMN stop_report {{json}};
ALTER TABLE route_sheets ADD COLUMN completed_at {{time}};

CREATE TABLE courier_shifts (
	id         {{id}},
	courier_id BIGINT NOT NULL REFERENCES couriers (id),
	shift_date TEXT NOT NULL,
	started_at {{time}} NOT NULL,
	start_lat  DOUBLE PRECISION,
	start_lng  DOUBLE PRECISION,
	ended_at   {{time}},
	end_lat    DOUBLE PRECISION,
	end_lng    DOUBLE PRECISION,
	version    BIGINT NOT NULL DEFAULT 1,
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);
-- A courier has at most one open shift.
CREATE UNIQUE INDEX courier_shifts_open_key ON courier_shifts (courier_id) WHERE ended_at IS NULL;
CREATE INDEX courier_shifts_date_idx ON courier_shifts (shift_date, courier_id);

-- Append-only: one row per client event id of a courier, with the outcome
-- and the answer given, so a retried or replayed event is answered again
-- instead of applied twice.
CREATE TABLE courier_events (
	id              {{id}},
	courier_id      BIGINT NOT NULL REFERENCES couriers (id),
	client_event_id TEXT NOT NULL,
	action          TEXT NOT NULL,
	order_id        BIGINT,
	sheet_id        BIGINT,
	at              {{time}} NOT NULL,
	lat             DOUBLE PRECISION,
	lng             DOUBLE PRECISION,
	request_hash    TEXT NOT NULL,
	payload         {{json}} NOT NULL,
	outcome         TEXT NOT NULL,
	result          {{json}} NOT NULL,
	received_at     {{time}} NOT NULL
);
CREATE UNIQUE INDEX courier_events_client_key ON courier_events (courier_id, client_event_id);
CREATE INDEX courier_events_order_idx ON courier_events (order_id);
CREATE INDEX courier_events_at_idx ON courier_events (at);

-- Signatures and photos, in the database so that every replica serves them.
CREATE TABLE proofs (
	id           TEXT PRIMARY KEY,
	order_id     BIGINT NOT NULL REFERENCES orders (id),
	courier_id   BIGINT REFERENCES couriers (id),
	kind         TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size         BIGINT NOT NULL,
	sha256       TEXT NOT NULL,
	data         {{blob}} NOT NULL,
	uploaded_by  BIGINT NOT NULL DEFAULT 0,
	created_at   {{time}} NOT NULL
);
CREATE INDEX proofs_order_idx ON proofs (order_id, created_at);
