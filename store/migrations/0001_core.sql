-- Core tables: users, depots, couriers, orders and their history, idempotency keys.
-- Placeholders: {{id}} auto id primary key, {{time}} UTC time (SQLite: unix
-- microseconds; PostgreSQL: timestamptz), {{json}} JSON document, {{blob}} bytes.

CREATE TABLE users (
	id            {{id}},
	login         TEXT NOT NULL,
	name          TEXT NOT NULL DEFAULT '',
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	active        BOOLEAN NOT NULL DEFAULT TRUE,
	created_at    {{time}} NOT NULL,
	updated_at    {{time}} NOT NULL
);
CREATE UNIQUE INDEX users_login_key ON users (login);

CREATE TABLE depots (
	id         {{id}},
	name       TEXT NOT NULL,
	address    TEXT NOT NULL DEFAULT '',
	lat        DOUBLE PRECISION NOT NULL,
	lng        DOUBLE PRECISION NOT NULL,
	opens      TEXT NOT NULL,
	closes     TEXT NOT NULL,
	created_at {{time}} NOT NULL,
	updated_at {{time}} NOT NULL
);

CREATE TABLE couriers (
	id           {{id}},
	name         TEXT NOT NULL,
	phone        TEXT NOT NULL DEFAULT '',
	user_id      BIGINT REFERENCES users (id),
	vehicle_type TEXT NOT NULL,
	capacity_kg  DOUBLE PRECISION NOT NULL DEFAULT 0,
	capacity_l   DOUBLE PRECISION NOT NULL DEFAULT 0,
	max_stops    INTEGER NOT NULL DEFAULT 0,
	shift_start  TEXT NOT NULL,
	shift_end    TEXT NOT NULL,
	depot_id     BIGINT NOT NULL REFERENCES depots (id),
	zone_ids     {{json}} NOT NULL,
	active       BOOLEAN NOT NULL DEFAULT TRUE,
	version      BIGINT NOT NULL DEFAULT 1,
	created_at   {{time}} NOT NULL,
	updated_at   {{time}} NOT NULL
);
CREATE UNIQUE INDEX couriers_user_id_key ON couriers (user_id);
CREATE INDEX couriers_depot_id_idx ON couriers (depot_id);

CREATE TABLE orders (
	id              {{id}},
	external_id     TEXT NOT NULL DEFAULT '',
	customer_name   TEXT NOT NULL DEFAULT '',
	customer_phone  TEXT NOT NULL DEFAULT '',
	customer_email  TEXT NOT NULL DEFAULT '',
	address         TEXT NOT NULL DEFAULT '',
	lat             DOUBLE PRECISION NOT NULL,
	lng             DOUBLE PRECISION NOT NULL,
	delivery_date   TEXT NOT NULL DEFAULT '',
	window_from     {{time}},
	window_to       {{time}},
	service_minutes INTEGER NOT NULL DEFAULT 0,
	weight_kg       DOUBLE PRECISION NOT NULL DEFAULT 0,
	volume_l        DOUBLE PRECISION NOT NULL DEFAULT 0,
	items           {{json}} NOT NULL,
	cod_amount      BIGINT NOT NULL DEFAULT 0,
	cod_currency    TEXT NOT NULL DEFAULT '',
	cod_method      TEXT NOT NULL DEFAULT '',
	delivery_fee    BIGINT NOT NULL DEFAULT 0,
	fee_overridden  BOOLEAN NOT NULL DEFAULT FALSE,
	notes           TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL,
	payment_status  TEXT NOT NULL DEFAULT '',
	depot_id        BIGINT REFERENCES depots (id),
	zone_id         BIGINT,
	courier_id      BIGINT REFERENCES couriers (id),
	route_sheet_id  BIGINT,
	version         BIGINT NOT NULL DEFAULT 1,
	created_at      {{time}} NOT NULL,
	updated_at      {{time}} NOT NULL
);
CREATE UNIQUE INDEX orders_external_id_key ON orders (external_id) WHERE external_id <> '';
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_delivery_date_idx ON orders (delivery_date);
CREATE INDEX orders_zone_id_idx ON orders (zone_id);
CREATE INDEX orders_courier_id_idx ON orders (courier_id);
CREATE INDEX orders_depot_id_idx ON orders (depot_id);
CREATE INDEX orders_route_sheet_id_idx ON orders (route_sheet_id);

-- Append-only: the store inserts history rows and never updates or deletes them.
CREATE TABLE order_events (
	id          {{id}},
	order_id    BIGINT NOT NULL REFERENCES orders (id),
	kind        TEXT NOT NULL,
	from_status TEXT NOT NULL DEFAULT '',
	to_status   TEXT NOT NULL DEFAULT '',
	actor_id    BIGINT NOT NULL DEFAULT 0,
	actor_role  TEXT NOT NULL DEFAULT '',
	at          {{time}} NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	comment     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order_id_idx ON order_events (order_id, id);

CREATE TABLE idempotency_keys (
	scope        TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL DEFAULT '',
	status       INTEGER NOT NULL DEFAULT 0,
	body         {{blob}},
	created_at   {{time}} NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
